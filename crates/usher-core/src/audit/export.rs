//! An export of the audit log: the events a query selects, read from the
//! store a page at a time with the `before` cursor, so an edge can stream a
//! log of any length without holding it.

use std::sync::Arc;

use usher_domain::OrgId;

use crate::{
    Result,
    store::{AuditEvent, AuditQuery, Store},
};

/// The rest of an export; made by [`crate::Usher::audit_export`] once the
/// caller may read the log.
pub struct AuditExport {
    store: Arc<dyn Store>,
    org_id: OrgId,
    query: AuditQuery,
    done: bool,
}

impl AuditExport {
    pub(crate) fn new(store: Arc<dyn Store>, org_id: OrgId, query: AuditQuery) -> Self {
        Self { store, org_id, query, done: false }
    }

    /// The next events, newest first, at most [`super::EXPORT_PAGE`]; `None`
    /// once every event has been read.
    pub async fn next_page(&mut self) -> Result<Option<Vec<AuditEvent>>> {
        if self.done {
            return Ok(None);
        }
        let page = self.store.audit_events(self.org_id, &self.query).await?;
        self.done = page.len() < self.query.limit as usize;
        match page.last() {
            Some(last) => self.query.before = Some(last.id),
            None => return Ok(None),
        }
        Ok(Some(page))
    }
}
