//! The append-only audit log.

use async_trait::async_trait;
use usher_domain::{OrgId, UserId};

use super::{AuditEvent, AuditQuery, StoreResult};

#[async_trait]
pub trait AuditStore: Send + Sync {
    async fn append_audit(&self, event: &AuditEvent) -> StoreResult<()>;
    /// Entries newest first, filtered by `query`.
    async fn audit_events(&self, org_id: OrgId, query: &AuditQuery) -> StoreResult<Vec<AuditEvent>>;
    /// The newest `limit` audit events with this action about this user.
    async fn events_about(&self, user: UserId, action: &str, limit: u32) -> StoreResult<Vec<AuditEvent>>;
}
