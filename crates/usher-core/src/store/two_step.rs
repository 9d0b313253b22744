//! Two-step verification: a user's TOTP authenticator and recovery codes.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use usher_domain::UserId;

use super::StoreResult;

/// A user's TOTP authenticator as stored: the secret encrypted, never in clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpRecord {
    pub user: UserId,
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

#[async_trait]
pub trait TwoStepStore: Send + Sync {
    /// The user's authenticator (pending or confirmed) with their unused recovery codes.
    async fn totp(&self, user: UserId) -> StoreResult<Option<TotpRecord>>;
    /// Stores a new pending authenticator, replacing a pending one. Fails with
    /// `Conflict { constraint: "mfa_enabled" }` when a confirmed one exists.
    async fn put_pending_totp(&self, user: UserId, secret: &[u8], at: DateTime<Utc>) -> StoreResult<()>;
    /// Confirms the pending authenticator with the step of its first code and
    /// replaces the recovery codes, in one transaction. False when nothing was pending.
    async fn confirm_totp(&self, user: UserId, step: i64, codes: &[Vec<u8>], at: DateTime<Utc>) -> StoreResult<bool>;
    /// Accepts a time step for a confirmed authenticator only when it is newer
    /// than the last accepted one (atomically: a code works once, even in a race).
    async fn use_totp_step(&self, user: UserId, step: i64) -> StoreResult<bool>;
    /// Removes the authenticator and the recovery codes; false when there was none.
    async fn delete_totp(&self, user: UserId) -> StoreResult<bool>;
    /// Replaces the recovery codes.
    async fn replace_recovery_codes(&self, user: UserId, codes: &[Vec<u8>], at: DateTime<Utc>) -> StoreResult<()>;
    /// Marks an unused recovery code used; false when it does not exist or was used.
    async fn use_recovery_code(&self, user: UserId, digest: &[u8], at: DateTime<Utc>) -> StoreResult<bool>;
}
