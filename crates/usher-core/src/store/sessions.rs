//! Sessions, and the tickets a correct password earns while a second step is due.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use usher_domain::{OrgId, SessionId, UserId};
use uuid::Uuid;

use super::{AuditEvent, Session, StoreResult, User};

/// The ticket a correct password earns when a second step is needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginTicket {
    pub digest: Vec<u8>,
    pub user: UserId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Wrong codes tried with it so far.
    pub attempts: u32,
}

/// What a sign-in needs to know beyond the user row, read in one query.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SignInFacts {
    /// The user has a confirmed TOTP authenticator.
    pub totp: bool,
    /// The organization's two-step setting (`{"required": bool}`), if set.
    pub mfa_setting: Option<serde_json::Value>,
    /// The organization's password policy, if set.
    pub password_policy: Option<serde_json::Value>,
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Records a sign-in in one transaction: the user's last sign-in time (the
    /// session's creation), the new session, and the audit entry.
    async fn sign_in(&self, session: &Session, event: &AuditEvent) -> StoreResult<()>;
    async fn insert_session(&self, session: &Session) -> StoreResult<()>;
    /// The session with this secret digest and its user, whatever their state.
    async fn session_by_digest(&self, digest: &[u8]) -> StoreResult<Option<(Session, User)>>;
    async fn touch_session(&self, id: SessionId, at: DateTime<Utc>) -> StoreResult<()>;
    async fn delete_session(&self, id: SessionId) -> StoreResult<()>;
    /// A user's live sessions (neither expired nor idle since before `idle_since`),
    /// newest first, older than the `before` id when given.
    async fn live_sessions(
        &self,
        user: UserId,
        now: DateTime<Utc>,
        idle_since: DateTime<Utc>,
        before: Option<SessionId>,
        limit: u32,
    ) -> StoreResult<Vec<Session>>;
    /// Deletes one of the user's sessions; false when the user has no such session.
    async fn delete_own_session(&self, user: UserId, id: SessionId) -> StoreResult<bool>;
    /// Deletes the user's sessions, except `keep` when given; returns how many ended.
    async fn delete_sessions_except(&self, user: UserId, keep: Option<SessionId>) -> StoreResult<u64>;

    /// The user's authenticator state and the organization's two-step and
    /// password settings, in one query.
    async fn sign_in_facts(&self, org_id: OrgId, user: UserId) -> StoreResult<SignInFacts>;
    async fn insert_login_ticket(&self, ticket: &LoginTicket) -> StoreResult<()>;
    /// An unexpired ticket and its user.
    async fn login_ticket(&self, digest: &[u8], now: DateTime<Utc>) -> StoreResult<Option<(LoginTicket, User)>>;
    /// Counts a wrong code against a ticket; the ticket is deleted once it has
    /// `max_attempts` wrong codes.
    async fn login_ticket_failed(&self, digest: &[u8], max_attempts: u32) -> StoreResult<()>;
    /// Deletes an unexpired ticket; false when it was already used or expired.
    async fn take_login_ticket(&self, digest: &[u8], now: DateTime<Utc>) -> StoreResult<bool>;

    /// Keeps a sealed secret for the session's next page view (see `core::reveal`).
    async fn insert_reveal(
        &self,
        id: Uuid,
        session: SessionId,
        sealed: &[u8],
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Deletes and answers the sealed secret, if this session made it and it
    /// has not expired: one view only, even when two race.
    async fn take_reveal(&self, id: Uuid, session: SessionId, now: DateTime<Utc>) -> StoreResult<Option<Vec<u8>>>;
    /// Deletes the secrets nobody came to see before they expired; how many.
    async fn purge_reveals(&self, now: DateTime<Utc>) -> StoreResult<u64>;
}
