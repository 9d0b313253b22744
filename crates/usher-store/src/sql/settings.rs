//! An organization's settings (JSON values by key) and the server's own secrets.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;
use usher_core::store::{SettingsStore, StoreResult};
use usher_domain::OrgId;

use super::{Db, map_err};

#[async_trait]
impl SettingsStore for Db {
    async fn setting(&self, org_id: OrgId, key: &str) -> StoreResult<Option<serde_json::Value>> {
        self.read(|| {
            sqlx::query_scalar("SELECT value FROM settings WHERE org_id = $1 AND key = $2")
                .bind(org_id)
                .bind(key)
                .fetch_optional(&self.pool)
        })
        .await
        .map_err(map_err)
    }

    async fn put_setting(
        &self,
        org_id: OrgId,
        key: &str,
        value: &serde_json::Value,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO settings (org_id, key, value, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (org_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(org_id)
        .bind(key)
        .bind(value)
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn password_policies(&self) -> StoreResult<Vec<(OrgId, serde_json::Value)>> {
        let found = self
            .read(|| {
                sqlx::query("SELECT org_id, value FROM settings WHERE key = 'password_policy'").fetch_all(&self.pool)
            })
            .await
            .map_err(map_err)?;
        found
            .iter()
            .map(|r| Ok((r.try_get("org_id")?, r.try_get("value")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(map_err)
    }

    async fn server_secret(&self, name: &str, candidate: &[u8]) -> StoreResult<Vec<u8>> {
        // The first node to store a value wins; every node then reads that one.
        sqlx::query("INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(candidate)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        self.read(|| {
            sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = $1").bind(name).fetch_one(&self.pool)
        })
        .await
        .map_err(map_err)
    }
}
