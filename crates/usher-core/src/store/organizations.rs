//! Organizations and the one-time setup links that create their first Administrator.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use usher_domain::OrgId;

use super::{OrgCounts, Organization, StoreResult};

#[async_trait]
pub trait OrganizationStore: Send + Sync {
    async fn default_organization(&self) -> StoreResult<Option<Organization>>;
    async fn organization_by_slug(&self, slug: &str) -> StoreResult<Option<Organization>>;
    async fn organization(&self, id: OrgId) -> StoreResult<Option<Organization>>;
    /// Inserts the organization; the first one inserted is the default.
    async fn insert_organization(&self, org: &Organization) -> StoreResult<()>;
    /// What the console's overview counts: users (all and disabled), groups,
    /// apps and invitations pending at `now`. Users are counted up to
    /// [`OrgCounts::CAP`], so the count stays cheap at a million.
    async fn counts(&self, org_id: OrgId, now: DateTime<Utc>) -> StoreResult<OrgCounts>;

    async fn insert_setup_token(&self, digest: &[u8], org_id: OrgId, expires_at: DateTime<Utc>) -> StoreResult<()>;
    /// The organization of an unused, unexpired setup token, without using it.
    async fn setup_token_org(&self, digest: &[u8], now: DateTime<Utc>) -> StoreResult<Option<OrgId>>;
    /// Marks an unused, unexpired setup token used and returns its organization.
    async fn take_setup_token(&self, digest: &[u8], now: DateTime<Utc>) -> StoreResult<Option<OrgId>>;
}
