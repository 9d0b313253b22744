//! UserAdminStore queries.

use async_trait::async_trait;
use usher_core::users::UserAdminStore;

use super::PostgresStore;

#[async_trait]
impl UserAdminStore for PostgresStore {}
