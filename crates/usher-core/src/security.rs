//! Storage for two-step verification, sign-in protection, sessions and password
//! expiry (issue 6). The services are in [`crate::mfa`], [`crate::protection`]
//! and [`crate::sessions`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::store::{Session, StoreResult, User};

/// A user's TOTP authenticator as stored: the secret encrypted, never in clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpRecord {
    pub user_id: Uuid,
    /// Nonce and ciphertext (see [`crate::mfa`]).
    pub secret: Vec<u8>,
    pub created_at: DateTime<Utc>,
    /// `None` while enrolment waits for a first code.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// The last time step a code was accepted for; older or equal steps are refused.
    pub last_step: Option<i64>,
    /// Unused recovery codes.
    pub recovery_codes_left: u32,
}

/// The ticket a correct password earns when a second step is needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginTicket {
    pub digest: Vec<u8>,
    pub user_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Wrong codes tried with it so far.
    pub attempts: u32,
}

/// Failed sign-ins counted under one key (an account or a client address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottleRow {
    pub key: String,
    /// Failures since `window_start`.
    pub failures: u32,
    pub window_start: DateTime<Utc>,
    pub last_failure_at: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
}

/// The outcome of [`SecurityStore::take_attempt`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// Whether the attempt may be checked (it was counted); otherwise a key is
    /// locked and nothing was counted.
    pub admitted: bool,
    /// Each key's row as counted (or, when not admitted, as it would have been).
    pub rows: Vec<ThrottleRow>,
}

/// One attempt to count: the key, and the rule that may lock it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureCount<'a> {
    pub key: &'a str,
    pub now: DateTime<Utc>,
    /// Failures at or before this time no longer count (the window restarts).
    pub window_cutoff: DateTime<Utc>,
    /// How many failures in the window lock the key.
    pub threshold: u32,
    /// Until when a lock set by this failure holds.
    pub lock_until: DateTime<Utc>,
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

/// Whose passwords a reminder pass looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReminderScope {
    /// Active users of one organization without the Administrator role.
    NonAdministrators(Uuid),
    /// Active Administrators of every organization.
    Administrators,
}

/// Storage for this area; part of [`crate::Store`].
#[async_trait]
pub trait SecurityStore: Send + Sync {
    /// The user's authenticator (pending or confirmed) with their unused recovery codes.
    async fn totp(&self, user: Uuid) -> StoreResult<Option<TotpRecord>>;
    /// Stores a new pending authenticator, replacing a pending one. Fails with
    /// `Conflict { constraint: "mfa_enabled" }` when a confirmed one exists.
    async fn put_pending_totp(&self, user: Uuid, secret: &[u8], at: DateTime<Utc>) -> StoreResult<()>;
    /// Confirms the pending authenticator with the step of its first code and
    /// replaces the recovery codes, in one transaction. False when nothing was pending.
    async fn confirm_totp(&self, user: Uuid, step: i64, codes: &[Vec<u8>], at: DateTime<Utc>) -> StoreResult<bool>;
    /// Accepts a time step for a confirmed authenticator only when it is newer
    /// than the last accepted one (atomically: a code works once, even in a race).
    async fn use_totp_step(&self, user: Uuid, step: i64) -> StoreResult<bool>;
    /// Removes the authenticator and the recovery codes; false when there was none.
    async fn delete_totp(&self, user: Uuid) -> StoreResult<bool>;
    /// Replaces the recovery codes.
    async fn replace_recovery_codes(&self, user: Uuid, codes: &[Vec<u8>], at: DateTime<Utc>) -> StoreResult<()>;
    /// Marks an unused recovery code used; false when it does not exist or was used.
    async fn use_recovery_code(&self, user: Uuid, digest: &[u8], at: DateTime<Utc>) -> StoreResult<bool>;

    /// The value stored under `name`, storing `candidate` first when there is none
    /// (the first node to ask decides, every node gets the same).
    async fn server_secret(&self, name: &str, candidate: &[u8]) -> StoreResult<Vec<u8>>;

    async fn insert_login_ticket(&self, ticket: &LoginTicket) -> StoreResult<()>;
    /// An unexpired ticket and its user.
    async fn login_ticket(&self, digest: &[u8], now: DateTime<Utc>) -> StoreResult<Option<(LoginTicket, User)>>;
    /// Counts a wrong code against a ticket; the ticket is deleted once it has
    /// `max_attempts` wrong codes.
    async fn login_ticket_failed(&self, digest: &[u8], max_attempts: u32) -> StoreResult<()>;
    /// Deletes an unexpired ticket; false when it was already used or expired.
    async fn take_login_ticket(&self, digest: &[u8], now: DateTime<Utc>) -> StoreResult<bool>;

    /// Takes one attempt on every key (the account and the address) in one
    /// atomic step, *before* the password or code is checked: each count grows by
    /// one (restarting when its window or an old lock is over) and a key locks
    /// when its count reaches its threshold. When a key is locked, or this
    /// attempt would go past its threshold, nothing is counted and the answer is
    /// not admitted. So of any number of concurrent attempts, on any number of
    /// nodes, at most the threshold are ever checked. Rows are returned in the
    /// order of `keys`.
    async fn take_attempt(&self, keys: &[FailureCount<'_>]) -> StoreResult<Attempt>;
    /// Gives back an admitted attempt that succeeded: one less on each key, and
    /// its lock lifted when the count falls below the threshold again; with
    /// `forget`, that key's failures and lock are deleted instead. One
    /// transaction. (The counts are a defence, not a record: on PostgreSQL this
    /// and [`SecurityStore::take_attempt`] commit without waiting for the disk.)
    async fn give_back_attempt(&self, forget: Option<&str>, keys: &[FailureCount<'_>]) -> StoreResult<()>;
    async fn throttle_row(&self, key: &str) -> StoreResult<Option<ThrottleRow>>;
    /// Forgets a key's failures and lock; false when there was nothing.
    async fn clear_throttle(&self, key: &str) -> StoreResult<bool>;
    /// Deletes expired tickets and throttle rows with no failure since `idle_before`
    /// and no running lock; returns how many rows went.
    async fn purge_security(&self, now: DateTime<Utc>, idle_before: DateTime<Utc>) -> StoreResult<u64>;

    /// The user's authenticator state and the organization's two-step and
    /// password settings, in one query.
    async fn sign_in_facts(&self, org_id: Uuid, user: Uuid) -> StoreResult<SignInFacts>;
    /// Sets the flag that makes the user change their password before anything else.
    async fn require_password_change(&self, user: Uuid, at: DateTime<Utc>) -> StoreResult<()>;

    /// A user's live sessions (neither expired nor idle since before `idle_since`),
    /// newest first, older than the `before` id when given.
    async fn live_sessions(
        &self,
        user: Uuid,
        now: DateTime<Utc>,
        idle_since: DateTime<Utc>,
        before: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<Session>>;
    /// Deletes one of the user's sessions; false when the user has no such session.
    async fn delete_own_session(&self, user: Uuid, id: Uuid) -> StoreResult<bool>;
    /// Deletes the user's sessions, except `keep` when given; returns how many ended.
    async fn delete_sessions_except(&self, user: Uuid, keep: Option<Uuid>) -> StoreResult<u64>;

    /// Organizations whose password policy is set, with the policy.
    async fn password_policies(&self) -> StoreResult<Vec<(Uuid, serde_json::Value)>>;
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
