//! Bulk import and export of users (see [`crate::import`]).

use async_trait::async_trait;
use usher_domain::{OrgId, UserId};

use super::StoreResult;
use crate::import::{Existing, ExportedUser, ImportPlan};

#[async_trait]
pub trait ImportStore: Send + Sync {
    /// What the store holds about the user IDs and emails of an import file,
    /// and every group of the organization.
    async fn import_lookup(
        &self,
        org_id: OrgId,
        user_id_keys: &[String],
        email_keys: &[String],
    ) -> StoreResult<Existing>;
    /// Writes an import plan in one transaction, calling `progress` with the
    /// number of users written so far.
    async fn apply_import(&self, plan: &ImportPlan, progress: &(dyn Fn(u64) + Send + Sync)) -> StoreResult<()>;
    /// Users of the organization in id order after `after`, with groups and
    /// password hashes, for exports.
    async fn export_users(&self, org_id: OrgId, after: Option<UserId>, limit: u32) -> StoreResult<Vec<ExportedUser>>;
}
