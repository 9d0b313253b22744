//! Invitations by email, registration, and password-reset links (issue 4).

use async_trait::async_trait;

/// Storage for this area; part of [`crate::Store`].
#[async_trait]
pub trait InvitationStore: Send + Sync {}
