//! The directory: sorted, filtered and searched walks through an organization's
//! users (see [`crate::directory`]).

use async_trait::async_trait;
use usher_domain::{OrgId, UserId};

use super::{StoreResult, User};
use crate::directory::{Candidates, Filter, Seek, SortColumn, SortKey};

#[async_trait]
pub trait DirectoryStore: Send + Sync {
    /// The users of `seek.org_id` matching the filter (tested row by row), in
    /// (key, id) order from the cursor, each with its sort key. For
    /// [`Filter::Text`], the substring only (see [`Seek`]).
    async fn users_sorted(&self, seek: &Seek<'_>) -> StoreResult<Vec<(User, SortKey)>>;
    /// The users matching the filter found through the engine's text index
    /// (for [`Filter::Text`], with the exact user ID and email matches), when
    /// there are at most `limit` of them.
    async fn search_candidates(
        &self,
        org_id: OrgId,
        filter: &Filter,
        sort: SortColumn,
        limit: u32,
    ) -> StoreResult<Candidates>;
    /// The users whose user ID or email key is exactly `key`, with their sort keys.
    async fn users_exact(&self, org_id: OrgId, key: &str, sort: SortColumn) -> StoreResult<Vec<(User, SortKey)>>;
    /// These users of the organization, in any order.
    async fn users_by_ids(&self, org_id: OrgId, ids: &[UserId]) -> StoreResult<Vec<User>>;
}
