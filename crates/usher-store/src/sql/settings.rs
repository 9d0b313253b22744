//! An organization's settings (JSON values by key) and the server's own secrets.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::Row;
use usher_core::store::{SettingsStore, StoreError, StoreResult};
use usher_domain::OrgId;

use super::{Db, rows, rows::run};

const ONE: &str = "SELECT value FROM settings WHERE org_id = $1 AND key = $2";

/// $1 organization, $2 key, $3 value, $4 at.
const PUT: &str = "INSERT INTO settings (org_id, key, value, updated_at) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (org_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at";

const PASSWORD_POLICIES: &str = "SELECT org_id, value FROM settings WHERE key = 'password_policy'";

const PUT_SECRET: &str = "INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING";
const SECRET: &str = "SELECT value FROM server_secrets WHERE name = $1";

#[async_trait]
impl SettingsStore for Db {
    async fn setting(&self, org_id: OrgId, key: &str) -> StoreResult<Option<Value>> {
        self.one(|| sqlx::query(ONE).bind(org_id).bind(key), rows::first).await
    }

    async fn put_setting(&self, org_id: OrgId, key: &str, value: &Value, at: DateTime<Utc>) -> StoreResult<()> {
        run(&self.pool, sqlx::query(PUT).bind(org_id).bind(key).bind(value).bind(at)).await?;
        Ok(())
    }

    async fn password_policies(&self) -> StoreResult<Vec<(OrgId, Value)>> {
        self.all(|| sqlx::query(PASSWORD_POLICIES), |r| Ok((r.try_get("org_id")?, r.try_get("value")?))).await
    }

    async fn server_secret(&self, name: &str, candidate: &[u8]) -> StoreResult<Vec<u8>> {
        // The first node to store a value wins; every node then reads that one.
        run(&self.pool, sqlx::query(PUT_SECRET).bind(name).bind(candidate)).await?;
        self.one(|| sqlx::query(SECRET).bind(name), rows::first).await?.ok_or(StoreError::NotFound)
    }
}
