//! InvitationStore queries.

use async_trait::async_trait;
use usher_core::invitations::InvitationStore;

use super::PostgresStore;

#[async_trait]
impl InvitationStore for PostgresStore {}
