//! An organization's settings (JSON values by key) and the server's own secrets.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use usher_domain::OrgId;

use super::StoreResult;

#[async_trait]
pub trait SettingsStore: Send + Sync {
    async fn setting(&self, org_id: OrgId, key: &str) -> StoreResult<Option<serde_json::Value>>;
    async fn put_setting(
        &self,
        org_id: OrgId,
        key: &str,
        value: &serde_json::Value,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Organizations whose password policy is set, with the policy.
    async fn password_policies(&self) -> StoreResult<Vec<(OrgId, serde_json::Value)>>;
    /// The value stored under `name`, storing `candidate` first when there is none
    /// (the first node to ask decides, every node gets the same).
    async fn server_secret(&self, name: &str, candidate: &[u8]) -> StoreResult<Vec<u8>>;
}
