//! AccessStore queries.

use async_trait::async_trait;
use usher_core::access::AccessStore;

use super::PostgresStore;

#[async_trait]
impl AccessStore for PostgresStore {}
