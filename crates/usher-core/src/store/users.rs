//! Users: their rows, roles, passwords and custom metadata.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use usher_domain::{OrgId, Role, UserId};

use super::{AuditEvent, NewUser, Profile, StoreResult, User};
use crate::{invitations::NewInvitation, mail::OutboxMessage, metadata::Metadata};

#[async_trait]
pub trait UserStore: Send + Sync {
    /// Inserts a user with their roles and password, in one transaction.
    async fn insert_user(&self, user: &NewUser) -> StoreResult<()>;
    /// Inserts a user made by an administrator with their roles, custom
    /// metadata values (and search entries), the audit entry and, when given,
    /// their invitation (with its own audit entry and email), in one
    /// transaction: a failing invitation leaves no user behind.
    async fn create_user(
        &self,
        user: &NewUser,
        metadata: Option<(&Metadata, &[(String, String)])>,
        event: &AuditEvent,
        invitation: Option<&NewInvitation<'_>>,
    ) -> StoreResult<()>;
    async fn user(&self, id: UserId) -> StoreResult<Option<User>>;
    /// The user whose user ID, or else whose email, has this key, with their password hash.
    async fn user_by_login(&self, org_id: OrgId, key: &str) -> StoreResult<Option<(User, Option<String>)>>;
    /// Users of an organization in user-ID order, after the user-ID key `after`.
    async fn users_page(&self, org_id: OrgId, after: Option<&str>, limit: u32) -> StoreResult<Vec<User>>;
    async fn update_profile(&self, id: UserId, profile: &Profile, at: DateTime<Utc>) -> StoreResult<()>;
    /// Replaces a user's custom metadata values and their search entries
    /// (field, folded text) and, when given, their profile, in one transaction.
    async fn set_user_metadata(
        &self,
        org_id: OrgId,
        user: UserId,
        profile: Option<&Profile>,
        values: &Metadata,
        entries: &[(String, String)],
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    async fn count_users_with_role(&self, org_id: OrgId, role: Role) -> StoreResult<u64>;
    /// The active users of an organization holding a role (e.g. every User Manager,
    /// to notify them).
    async fn active_users_with_role(&self, org_id: OrgId, role: Role) -> StoreResult<Vec<User>>;
    /// Sets the status of a user of `org_id`. Disabling deletes the user's sessions
    /// in the same transaction and returns how many ended. Disabling an active
    /// Administrator fails with `Conflict { constraint: LAST_ADMINISTRATOR }` (see
    /// [`crate::conflict::constraint`]) when no other active Administrator would
    /// remain (checked atomically).
    /// Enabling makes the user `active`, or `invited` when they have no password.
    async fn set_user_status(&self, org_id: OrgId, user: UserId, disable: bool, at: DateTime<Utc>) -> StoreResult<u64>;
    /// Deletes a user of `org_id` with everything that cascades (roles, sessions,
    /// tokens, password history, memberships); the audit log keeps its entries.
    /// Same last-Administrator rule as [`UserStore::set_user_status`]. The
    /// audit entry and the notices about it are written in the same transaction.
    async fn delete_user(
        &self,
        org_id: OrgId,
        user: UserId,
        event: &AuditEvent,
        notices: &[OutboxMessage],
    ) -> StoreResult<()>;

    async fn password_hash(&self, user: UserId) -> StoreResult<Option<String>>;
    /// Replaces the password; the previous hash joins the history, which keeps `keep` entries.
    async fn set_password(&self, user: UserId, hash: &str, at: DateTime<Utc>, keep: u32) -> StoreResult<()>;
    /// Replaces the password with one the user must change at their next sign-in:
    /// the previous hash joins the history (which keeps `keep` entries), an invited
    /// user becomes active, and the user's sessions end. Returns how many ended.
    async fn set_temporary_password(&self, user: UserId, hash: &str, at: DateTime<Utc>, keep: u32) -> StoreResult<u64>;
    /// The newest `limit` previous password hashes.
    async fn password_history(&self, user: UserId, limit: u32) -> StoreResult<Vec<String>>;
    /// Replaces a password hash by a stronger one after a sign-in, without
    /// touching the history or the change date, if it is still `old`.
    async fn upgrade_password_hash(&self, user: UserId, old: &str, new: &str) -> StoreResult<bool>;
    /// Sets the flag that makes the user change their password before anything else.
    async fn require_password_change(&self, user: UserId, at: DateTime<Utc>) -> StoreResult<()>;
}
