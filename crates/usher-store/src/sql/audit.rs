//! The append-only audit log: rows are inserted, never updated; they go only
//! with their organization.
//!
//! A page of the log is a walk down one index from its newest end, never a
//! sort: each combination of filters has its own statement, on the index its
//! equality filters make the narrowest (SQLite is told which; PostgreSQL picks
//! it from its statistics). Event ids are UUIDv7 made from the event's time, so
//! a time range is also an id range, which every index, ending with the id,
//! walks within; the times themselves are then checked row by row.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use usher_core::{
    audit::family_of,
    store::{AuditEvent, AuditQuery, AuditStore, StoreResult},
};
use usher_domain::{EventId, OrgId, UserId};
use uuid::Uuid;

use super::{Db, Engine, rows, rows::run, search::sort_index};

const INSERT: &str = "INSERT INTO audit_events (id, org_id, at, action, actor_id, actor_name, target_id, target_name, \
    address, client, details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

/// Newest first, on `$index`: $1 org, ids from $2 (inclusive) to $3
/// (exclusive), times from $4 (inclusive) to $5 (exclusive), $6 limit, then
/// the `$filters` given, numbered from $7.
macro_rules! list_sql {
    ($index:literal, $filters:expr) => {
        concat!(
            "SELECT * FROM audit_events",
            sort_index!($index),
            " WHERE org_id = $1 AND id >= $2 AND id < $3 AND at >= $4 AND at < $5",
            $filters,
            " ORDER BY id DESC LIMIT $6"
        )
    };
}

/// The statement of each combination of filters, at [`list_index`]: the
/// action, its family or neither; then the actor ($7, $8 or $9 after the ones
/// before it); then the target.
pub(super) const LISTS: [&str; 12] = [
    list_sql!("audit_events_org", ""),
    list_sql!("audit_events_target", " AND target_id = $7"),
    list_sql!("audit_events_actor", " AND actor_id = $7"),
    list_sql!("audit_events_target", " AND actor_id = $7 AND target_id = $8"),
    list_sql!("audit_events_action", " AND action = $7"),
    list_sql!("audit_events_target_action", " AND action = $7 AND target_id = $8"),
    list_sql!("audit_events_actor", " AND action = $7 AND actor_id = $8"),
    list_sql!("audit_events_target_action", " AND action = $7 AND actor_id = $8 AND target_id = $9"),
    list_sql!("audit_events_family", concat!(" AND ", action_family!(), " = $7")),
    list_sql!("audit_events_target", concat!(" AND ", action_family!(), " = $7 AND target_id = $8")),
    list_sql!("audit_events_actor", concat!(" AND ", action_family!(), " = $7 AND actor_id = $8")),
    list_sql!("audit_events_target", concat!(" AND ", action_family!(), " = $7 AND actor_id = $8 AND target_id = $9")),
];

/// Which of [`LISTS`] serves a query: `action` 0 none, 1 an action, 2 a family.
pub(super) fn list_index(action: usize, actor: bool, target: bool) -> usize {
    action * 4 + usize::from(actor) * 2 + usize::from(target)
}

const ABOUT: &str = "SELECT * FROM audit_events WHERE target_id = $1 AND action = $2 ORDER BY id DESC LIMIT $3";

/// How much later than its time an event's id may say it happened: ids made
/// before they came from the event's time were taken just after it, and a
/// clock set back makes the next ids keep to the latest time seen. The walk
/// reads that much past `until`; the row's time decides.
const ID_LAG: Duration = Duration::minutes(1);

/// Times bound when a query gives none: before and after every event, and in
/// the same text form as the stored times on SQLite (where they compare as text).
fn no_earlier() -> DateTime<Utc> {
    DateTime::UNIX_EPOCH
}

fn no_later() -> DateTime<Utc> {
    DateTime::from_timestamp(253_402_300_799, 0).unwrap_or(DateTime::<Utc>::MAX_UTC) // 9999-12-31T23:59:59Z
}

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
        // An action is of one family: given both, the action decides, or nothing matches.
        let (kind, text) = match (&q.action, &q.family) {
            (Some(action), Some(family)) if family_of(action) != family => return Ok(Vec::new()),
            (Some(action), _) => (1, Some(action.clone())),
            (None, Some(family)) => (2, Some(family.clone())),
            (None, None) => (0, None),
        };
        let sql = LISTS[list_index(kind, q.actor_id.is_some(), q.target_id.is_some())];
        let from = q.since.map_or(EventId::from_uuid(Uuid::nil()), EventId::first_at);
        let until = q.until.map(|until| EventId::first_at(until + ID_LAG));
        let to = q.before.into_iter().chain(until).min().unwrap_or(EventId::from_uuid(Uuid::max()));
        let (since, until) = (q.since.unwrap_or_else(no_earlier), q.until.unwrap_or_else(no_later));
        let query = || {
            let query = sqlx::query(sql).bind(org_id).bind(from).bind(to).bind(since).bind(until);
            let query = query.bind(i64::from(q.limit));
            let query = if text.is_some() { query.bind(text.clone()) } else { query };
            let query = if q.actor_id.is_some() { query.bind(q.actor_id) } else { query };
            if q.target_id.is_some() { query.bind(q.target_id) } else { query }
        };
        self.all(query, rows::audit_event).await
    }

    async fn events_about(&self, user: UserId, action: &str, limit: u32) -> StoreResult<Vec<AuditEvent>> {
        self.all(|| sqlx::query(ABOUT).bind(user).bind(action).bind(i64::from(limit)), rows::audit_event).await
    }
}
