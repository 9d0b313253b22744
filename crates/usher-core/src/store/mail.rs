//! The email outbox, and the reminders that fill it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use usher_domain::{MailId, OrgId};
use uuid::Uuid;

use super::{ApiToken, StoreResult, User};
use crate::mail::OutboxMessage;

/// Turns a token about to expire and its owner into the reminder to queue.
pub type ReminderRenderer = dyn Fn(&ApiToken, &User) -> Option<OutboxMessage> + Send + Sync;

/// Whose passwords a reminder pass looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReminderScope {
    /// Active users of one organization without the Administrator role.
    NonAdministrators(OrgId),
    /// Active Administrators of every organization.
    Administrators,
}

/// `owner` is the delivering node's id, which holds a message's lease.
#[async_trait]
pub trait MailStore: Send + Sync {
    /// Adds a message to the outbox.
    async fn insert_mail(&self, message: &OutboxMessage) -> StoreResult<()>;
    /// Atomically leases up to `limit` due, unsent, unleased messages to `owner`
    /// until `lease_until`, and returns them. Two nodes never get the same message
    /// while its lease runs.
    async fn claim_mail(
        &self,
        owner: Uuid,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<OutboxMessage>>;
    /// Marks a message `owner` holds as sent. False when the lease was lost.
    async fn mark_mail_sent(&self, id: MailId, owner: Uuid, at: DateTime<Utc>) -> StoreResult<bool>;
    /// Records a failed attempt (at `at`) of a message `owner` holds: tried again at
    /// `retry_at`, or never again (given up) when `None`.
    async fn mark_mail_failed(
        &self,
        id: MailId,
        owner: Uuid,
        error: &str,
        at: DateTime<Utc>,
        retry_at: Option<DateTime<Utc>>,
    ) -> StoreResult<()>;
    /// Finds active tokens of active users expiring in `(now, horizon]` that were not
    /// reminded yet, marks them reminded and queues the mail `render` makes for each
    /// (none when it answers `None`), all in one transaction. Returns how many
    /// tokens were marked.
    async fn queue_token_reminders(
        &self,
        now: DateTime<Utc>,
        horizon: DateTime<Utc>,
        limit: u32,
        render: &ReminderRenderer,
    ) -> StoreResult<u64>;
    /// Marks up to `limit` users of `scope` whose password changed at or before
    /// `changed_before` and who were not reminded about that password yet as
    /// reminded (under `batch`), atomically, and returns them.
    async fn claim_password_reminders(
        &self,
        scope: ReminderScope,
        changed_before: DateTime<Utc>,
        batch: Uuid,
        at: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<User>>;
}
