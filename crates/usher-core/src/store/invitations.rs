//! Invitations and password-reset links: the emailed links that reach an account.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use usher_domain::{InvitationId, OrgId, Role, UserId};

use super::{Organization, Profile, StoreResult};
use crate::invitations::{Invitation, NewInvitation};

#[async_trait]
pub trait InvitationStore: Send + Sync {
    /// Inserts an invitation. Earlier invitations of the same address that have
    /// expired stop counting as pending; with `replace_pending`, so do pending
    /// ones. A pending invitation of the address left fails with
    /// `Conflict { constraint: "invitations_pending" }`.
    /// The audit entry and the email (when Usher sends the link) are written
    /// in the same transaction.
    async fn insert_invitation(&self, new: &NewInvitation<'_>) -> StoreResult<()>;
    /// An organization's invitations, newest first, older than `before`.
    async fn invitations_page(
        &self,
        org_id: OrgId,
        before: Option<InvitationId>,
        limit: u32,
    ) -> StoreResult<Vec<Invitation>>;
    async fn invitation(&self, org_id: OrgId, id: InvitationId) -> StoreResult<Option<Invitation>>;
    /// The invitation with this secret digest and its organization.
    async fn invitation_by_digest(&self, digest: &[u8]) -> StoreResult<Option<(Invitation, Organization)>>;
    /// Withdraws a pending or expired invitation. False when it was not.
    async fn withdraw_invitation(&self, org_id: OrgId, id: InvitationId, at: DateTime<Utc>) -> StoreResult<bool>;
    /// Gives a pending or expired invitation a new secret, expiry and roles. False
    /// when it was accepted or withdrawn; `Conflict` when another one of the address
    /// is pending.
    async fn renew_invitation(
        &self,
        org_id: OrgId,
        id: InvitationId,
        digest: &[u8],
        expires_at: DateTime<Utc>,
        roles: &[Role],
    ) -> StoreResult<bool>;
    /// Marks the pending, unexpired invitation with this digest accepted and returns
    /// it; `None` when there is none (used, withdrawn, expired or unknown).
    async fn take_invitation(&self, digest: &[u8], now: DateTime<Utc>) -> StoreResult<Option<Invitation>>;
    /// Makes a taken invitation pending again (the registration failed).
    async fn release_invitation(&self, id: InvitationId) -> StoreResult<()>;
    /// Records which user an accepted invitation created.
    async fn set_invitation_user(&self, id: InvitationId, user: UserId) -> StoreResult<()>;
    /// Completes a user created beforehand: names, phone, password; `invited`
    /// becomes `active`. False when the user is no longer `invited`.
    async fn activate_invited_user(
        &self,
        user: UserId,
        profile: &Profile,
        password_hash: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;

    /// Stores a password-reset link's digest.
    async fn insert_password_reset(
        &self,
        digest: &[u8],
        user: UserId,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// How many reset links a user was sent since `since` (to rate-limit).
    async fn count_password_resets(&self, user: UserId, since: DateTime<Utc>) -> StoreResult<u64>;
    /// The user of an unused, unexpired reset link, without using it.
    async fn password_reset_user(&self, digest: &[u8], now: DateTime<Utc>) -> StoreResult<Option<UserId>>;
    /// Uses an unused, unexpired reset link (and every other link of its user);
    /// returns its user.
    async fn take_password_reset(&self, digest: &[u8], now: DateTime<Utc>) -> StoreResult<Option<UserId>>;
}
