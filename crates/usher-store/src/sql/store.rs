//! The sum of the aggregates, and the health checks.

use async_trait::async_trait;
use usher_core::store::{Store, StoreResult};

use super::{Db, map_err};

#[async_trait]
impl Store for Db {
    async fn ping(&self) -> StoreResult<()> {
        self.read(|| sqlx::query("SELECT 1").execute(&self.pool)).await.map_err(map_err).map(|_| ())
    }

    async fn check_writable(&self) -> StoreResult<()> {
        self.probe_write().await
    }
}
