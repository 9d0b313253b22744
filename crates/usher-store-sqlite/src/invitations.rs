//! InvitationStore queries.

use async_trait::async_trait;
use usher_core::invitations::InvitationStore;

use super::SqliteStore;

#[async_trait]
impl InvitationStore for SqliteStore {}
