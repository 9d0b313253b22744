//! Organizations and their one-time setup links.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use usher_core::store::{OrgCounts, Organization, OrganizationStore, StoreResult};
use usher_domain::OrgId;

use sqlx::Row;

use super::{Db, DbRow, rows, rows::run};

/// Two first inserts racing both see an empty table; the unique index on the
/// default flag turns the loser into a conflict.
const INSERT: &str = "INSERT INTO organizations (id, slug, name, is_default, created_at) \
    VALUES ($1, $2, $3, NOT EXISTS (SELECT 1 FROM organizations), $4)";

/// A link that was used and is handed out again starts afresh.
const INSERT_SETUP: &str = "INSERT INTO setup_tokens (digest, org_id, expires_at) VALUES ($1, $2, $3) \
    ON CONFLICT (digest) DO UPDATE SET used_at = NULL, expires_at = excluded.expires_at";

/// $1 digest, $2 now.
const SETUP_ORG: &str = "SELECT org_id FROM setup_tokens WHERE digest = $1 AND used_at IS NULL AND expires_at > $2";
const TAKE_SETUP: &str = "UPDATE setup_tokens SET used_at = $2 WHERE digest = $1 AND used_at IS NULL \
    AND expires_at > $2 RETURNING org_id";

/// $1 organization, $2 now. User counts stop at `OrgCounts::CAP` (10,001) so
/// they read at most that many index entries (`users_sort_status` for the
/// disabled ones); groups and apps are counted whole.
const COUNTS: &str = "SELECT \
    (SELECT count(*) FROM (SELECT 1 FROM users WHERE org_id = $1 LIMIT 10001) AS u), \
    (SELECT count(*) FROM (SELECT 1 FROM users WHERE org_id = $1 AND status = 'disabled' LIMIT 10001) AS d), \
    (SELECT count(*) FROM groups WHERE org_id = $1), \
    (SELECT count(*) FROM apps WHERE org_id = $1), \
    (SELECT count(*) FROM invitations WHERE org_id = $1 AND closed_at IS NULL AND expires_at > $2)";

fn counts(r: &DbRow) -> rows::Read<OrgCounts> {
    let n = |i: usize| r.try_get::<i64, _>(i).map(rows::count);
    Ok(OrgCounts { users: n(0)?, disabled_users: n(1)?, groups: n(2)?, apps: n(3)?, pending_invitations: n(4)? })
}

#[async_trait]
impl OrganizationStore for Db {
    async fn default_organization(&self) -> StoreResult<Option<Organization>> {
        self.one(|| sqlx::query("SELECT * FROM organizations WHERE is_default = true"), rows::organization).await
    }

    async fn organization_by_slug(&self, slug: &str) -> StoreResult<Option<Organization>> {
        self.one(|| sqlx::query("SELECT * FROM organizations WHERE slug = $1").bind(slug), rows::organization).await
    }

    async fn organization(&self, id: OrgId) -> StoreResult<Option<Organization>> {
        self.one(|| sqlx::query("SELECT * FROM organizations WHERE id = $1").bind(id), rows::organization).await
    }

    async fn insert_organization(&self, org: &Organization) -> StoreResult<()> {
        let query = sqlx::query(INSERT).bind(org.id).bind(&org.slug).bind(&org.name).bind(org.created_at);
        run(&self.pool, query).await?;
        Ok(())
    }

    async fn counts(&self, org_id: OrgId, now: DateTime<Utc>) -> StoreResult<OrgCounts> {
        let counts = self.one(|| sqlx::query(COUNTS).bind(org_id).bind(now), counts).await?;
        Ok(counts.unwrap_or_default())
    }

    async fn insert_setup_token(&self, digest: &[u8], org_id: OrgId, expires_at: DateTime<Utc>) -> StoreResult<()> {
        run(&self.pool, sqlx::query(INSERT_SETUP).bind(digest).bind(org_id).bind(expires_at)).await?;
        Ok(())
    }

    async fn setup_token_org(&self, digest: &[u8], now: DateTime<Utc>) -> StoreResult<Option<OrgId>> {
        self.one(|| sqlx::query(SETUP_ORG).bind(digest).bind(now), rows::first::<OrgId>).await
    }

    async fn take_setup_token(&self, digest: &[u8], now: DateTime<Utc>) -> StoreResult<Option<OrgId>> {
        // A write: run once, never again after a lost connection.
        let found = sqlx::query(TAKE_SETUP).bind(digest).bind(now).fetch_optional(&self.pool).await;
        rows::one(found.map_err(super::map_err)?, rows::first::<OrgId>)
    }
}
