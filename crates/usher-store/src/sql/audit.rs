//! The append-only audit log: rows are inserted, never updated; they go only
//! with their organization.

use async_trait::async_trait;
use usher_core::store::{AuditEvent, AuditQuery, AuditStore, StoreResult};
use usher_domain::{OrgId, UserId};

use super::{Db, Engine, rows, rows::run};

const INSERT: &str = "INSERT INTO audit_events (id, org_id, at, action, actor_id, actor_name, target_id, target_name, \
    address, client, details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

/// $1 org, $2 action, $3 actor, $4 target, $5 before (cursor), $6 limit; filters left NULL match all.
const LIST: &str = "SELECT * FROM audit_events WHERE org_id = $1 AND ($2 IS NULL OR action = $2) \
    AND ($3 IS NULL OR actor_id = $3) AND ($4 IS NULL OR target_id = $4) AND ($5 IS NULL OR id < $5) \
    ORDER BY id DESC LIMIT $6";

const ABOUT: &str = "SELECT * FROM audit_events WHERE target_id = $1 AND action = $2 ORDER BY id DESC LIMIT $3";

/// Appends an entry, in a transaction or on the pool.
pub(super) async fn append_audit_on<'e>(
    exec: impl sqlx::Executor<'e, Database = Engine>,
    e: &AuditEvent,
) -> StoreResult<()> {
    let query = sqlx::query(INSERT).bind(e.id).bind(e.org_id).bind(e.at).bind(&e.action).bind(e.actor_id);
    let query = query.bind(&e.actor_name).bind(e.target_id).bind(&e.target_name).bind(&e.address).bind(&e.client);
    run(exec, query.bind(&e.details)).await?;
    Ok(())
}

#[async_trait]
impl AuditStore for Db {
    async fn append_audit(&self, event: &AuditEvent) -> StoreResult<()> {
        append_audit_on(&self.pool, event).await
    }

    async fn audit_events(&self, org_id: OrgId, q: &AuditQuery) -> StoreResult<Vec<AuditEvent>> {
        let query = || {
            let query = sqlx::query(LIST).bind(org_id).bind(&q.action).bind(q.actor_id).bind(q.target_id);
            query.bind(q.before).bind(i64::from(q.limit))
        };
        self.all(query, rows::audit_event).await
    }

    async fn events_about(&self, user: UserId, action: &str, limit: u32) -> StoreResult<Vec<AuditEvent>> {
        self.all(|| sqlx::query(ABOUT).bind(user).bind(action).bind(i64::from(limit)), rows::audit_event).await
    }
}
