//! AccessStore queries.

use async_trait::async_trait;
use usher_core::access::AccessStore;

use super::SqliteStore;

#[async_trait]
impl AccessStore for SqliteStore {}
