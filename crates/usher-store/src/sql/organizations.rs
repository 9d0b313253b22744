//! Organizations and their one-time setup links.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use usher_core::store::{Organization, OrganizationStore, StoreResult};
use usher_domain::OrgId;

use super::{Db, map_err, rows};

#[async_trait]
impl OrganizationStore for Db {
    async fn default_organization(&self) -> StoreResult<Option<Organization>> {
        let found = self
            .read(|| sqlx::query("SELECT * FROM organizations WHERE is_default = true").fetch_optional(&self.pool))
            .await
            .map_err(map_err)?;
        rows::one(found, rows::organization)
    }

    async fn organization_by_slug(&self, slug: &str) -> StoreResult<Option<Organization>> {
        let found = self
            .read(|| sqlx::query("SELECT * FROM organizations WHERE slug = $1").bind(slug).fetch_optional(&self.pool))
            .await
            .map_err(map_err)?;
        rows::one(found, rows::organization)
    }

    async fn organization(&self, id: OrgId) -> StoreResult<Option<Organization>> {
        let found = self
            .read(|| sqlx::query("SELECT * FROM organizations WHERE id = $1").bind(id).fetch_optional(&self.pool))
            .await
            .map_err(map_err)?;
        rows::one(found, rows::organization)
    }

    async fn insert_organization(&self, org: &Organization) -> StoreResult<()> {
        // Two first inserts racing both see an empty table; the unique index on
        // the default flag turns the loser into a conflict.
        sqlx::query(
            "INSERT INTO organizations (id, slug, name, is_default, created_at) \
             VALUES ($1, $2, $3, NOT EXISTS (SELECT 1 FROM organizations), $4)",
        )
        .bind(org.id)
        .bind(&org.slug)
        .bind(&org.name)
        .bind(org.created_at)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn insert_setup_token(&self, digest: &[u8], org_id: OrgId, expires_at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO setup_tokens (digest, org_id, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (digest) DO UPDATE SET used_at = NULL, expires_at = excluded.expires_at",
        )
        .bind(digest)
        .bind(org_id)
        .bind(expires_at)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn setup_token_org(&self, digest: &[u8], now: DateTime<Utc>) -> StoreResult<Option<OrgId>> {
        self.read(|| {
            sqlx::query_scalar(
                "SELECT org_id FROM setup_tokens WHERE digest = $1 AND used_at IS NULL AND expires_at > $2",
            )
            .bind(digest)
            .bind(now)
            .fetch_optional(&self.pool)
        })
        .await
        .map_err(map_err)
    }

    async fn take_setup_token(&self, digest: &[u8], now: DateTime<Utc>) -> StoreResult<Option<OrgId>> {
        sqlx::query_scalar(
            "UPDATE setup_tokens SET used_at = $2 WHERE digest = $1 AND used_at IS NULL AND expires_at > $2 \
             RETURNING org_id",
        )
        .bind(digest)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)
    }
}
