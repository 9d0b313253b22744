//! The directory: sorted pages by index range scans from a cursor, exact user
//! ID and email matches, users by id, and custom metadata values. How a walk
//! reads its sort index and how substring search finds candidates are the
//! engine's (`search.rs`): SQLite hints each walk onto its index, whose extra
//! columns the filter reads, and searches FTS5 trigram indexes; PostgreSQL
//! walks index-only over `search_doc` and searches pg_trgm indexes.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{Row, Transaction};
use usher_core::{
    directory::{Candidates, Filter, Seek, SortColumn, SortKey},
    metadata::Metadata,
    store::{DirectoryStore, StoreError, StoreResult, User},
};
use usher_domain::{OrgId, UserId};
use uuid::Uuid;

use super::{
    Db, DbRow, Engine, bulk, map_err,
    rows::{self, Query, Read, run},
    search::{self, row_filter, sort_index, walk_columns},
};

/// Expands `$m!(key expression, its sort index)` for the sort column.
macro_rules! by_sort {
    ($sort:expr, $m:ident) => {
        match $sort {
            SortColumn::UserId => $m!("u.user_id_key", "users_sort_user_id"),
            SortColumn::Email => $m!("u.email_sort", "users_sort_email"),
            SortColumn::FirstName => $m!("u.first_name_key", "users_sort_first_name"),
            SortColumn::LastName => $m!("u.last_name_key", "users_sort_last_name"),
            SortColumn::Phone => $m!("u.phone_sort", "users_sort_phone"),
            SortColumn::Role => $m!("u.role_rank", "users_sort_role"),
            SortColumn::Status => $m!("u.status", "users_sort_status"),
            SortColumn::CreatedAt => $m!("u.created_at", "users_sort_created"),
            SortColumn::LastLoginAt => $m!("u.last_login_sort", "users_sort_last_login"),
        }
    };
}
pub(super) use by_sort;

/// One walk along the sort index, testing each entry with the engine's
/// `row_filter!()` ($2 the kind: 0 all, 1 text, 2 metadata; $3 the folded
/// needle; $4 the metadata field), from the start or from a cursor.
macro_rules! walk {
    ($key:literal, $index:literal, $cursor:expr, $desc:literal, $limit:literal) => {
        concat!(
            concat!("SELECT ", walk_columns!(), ", ", $key, " AS sort_key FROM users u", sort_index!($index)),
            concat!(" WHERE u.org_id = $1 AND ", row_filter!(), $cursor),
            concat!(" ORDER BY ", $key, $desc, ", u.id", $desc, " LIMIT ", $limit)
        )
    };
}

/// The walks of a sort column: [ascending, descending] with limit $5;
/// [ascending after, descending before] the cursor ($5 key, $6 id) with limit $7.
macro_rules! walk_sql {
    ($key:literal, $index:literal) => {
        [
            walk!($key, $index, "", "", "$5"),
            walk!($key, $index, "", " DESC", "$5"),
            walk!($key, $index, concat!(" AND (", $key, ", u.id) > ($5, $6)"), "", "$7"),
            walk!($key, $index, concat!(" AND (", $key, ", u.id) < ($5, $6)"), " DESC", "$7"),
        ]
    };
}

/// Exact user ID or email matches, with their keys ($1 org, $2 key).
macro_rules! exact_sql {
    ($key:literal, $index:literal) => {
        concat!(
            concat!("SELECT ", user_columns!(), ", ", $key, " AS sort_key FROM users u WHERE u.org_id = $1"),
            concat!(" AND u.user_id_key = $2 UNION ALL SELECT ", user_columns!(), ", ", $key),
            " AS sort_key FROM users u WHERE u.org_id = $1 AND u.email_key = $2 AND u.user_id_key <> $2"
        )
    };
}

/// Ids and keys of the exact user ID or email matches ($1 org, $2 key), through
/// the unique indexes.
macro_rules! exact_keys_sql {
    ($key:literal, $index:literal) => {
        concat!(
            concat!("SELECT u.id, ", $key, " AS sort_key FROM users u WHERE u.org_id = $1 AND u.user_id_key = $2"),
            concat!(" UNION SELECT u.id, ", $key, " AS sort_key FROM users u WHERE u.org_id = $1 AND u.email_key = $2")
        )
    };
}

const BY_IDS: &str = concat!(
    "SELECT ",
    user_columns!(),
    // The ids first (SQLite keeps a CROSS JOIN's order): a lookup by id per
    // wanted user, never a scan of the organization.
    " FROM ",
    id_rows!("$2"),
    " CROSS JOIN users u WHERE u.id = ids.id AND u.org_id = $1"
);

const SET_METADATA: &str = "UPDATE users SET metadata = $1, updated_at = $2 WHERE id = $3 AND org_id = $4";

/// A row's `sort_key`. Roles rank as small integers; times are the engine's
/// (`search::time_key`).
pub(super) fn sort_key(row: &DbRow, sort: SortColumn) -> Read<SortKey> {
    Ok(match sort {
        SortColumn::Role => SortKey::Int(row.try_get::<i16, _>("sort_key")?.into()),
        SortColumn::CreatedAt | SortColumn::LastLoginAt => search::time_key(row)?,
        _ => SortKey::Text(row.try_get::<Option<String>, _>("sort_key")?.unwrap_or_default()),
    })
}

/// Each row read with `read`, with its sort key.
fn with_keys<T>(found: &[DbRow], sort: SortColumn, read: fn(&DbRow) -> Read<T>) -> StoreResult<Vec<(T, SortKey)>> {
    found.iter().map(|r| Ok((read(r)?, sort_key(r, sort)?))).collect::<Read<_>>().map_err(map_err)
}

/// The ids and sort keys of rows that select `u.id` and a `sort_key`.
pub(super) fn keys(found: &[DbRow], sort: SortColumn) -> StoreResult<Vec<(UserId, SortKey)>> {
    with_keys(found, sort, |r| r.try_get("id"))
}

/// The users and sort keys of rows that select `user_columns!()` and a `sort_key`.
pub(super) fn users_with_keys(found: &[DbRow], sort: SortColumn) -> StoreResult<Vec<(User, SortKey)>> {
    with_keys(found, sort, rows::user)
}

/// The rows `query` reads, to read with their sort keys (see `Db::read`).
pub(super) async fn fetch(db: &Db, query: impl Fn() -> Query) -> StoreResult<Vec<DbRow>> {
    db.read(|| query().fetch_all(&db.pool)).await.map_err(map_err)
}

/// The users whose user ID or email key is exactly `key`, as candidates.
pub(super) async fn exact_keys(
    db: &Db,
    org_id: OrgId,
    key: &str,
    sort: SortColumn,
) -> StoreResult<Vec<(UserId, SortKey)>> {
    let sql: &'static str = by_sort!(sort, exact_keys_sql);
    keys(&fetch(db, || sqlx::query(sql).bind(org_id).bind(key)).await?, sort)
}

/// A role rank as the column holds it (a cursor's key is opaque, not trusted).
fn rank(key: i64) -> i16 {
    i16::try_from(key).unwrap_or(if key < 0 { i16::MIN } else { i16::MAX })
}

#[async_trait]
impl DirectoryStore for Db {
    async fn users_sorted(&self, seek: &Seek<'_>) -> StoreResult<Vec<(User, SortKey)>> {
        let sql: [&'static str; 4] = by_sort!(seek.sort, walk_sql);
        let (kind, needle, field) = match seek.filter {
            Filter::All => (0i32, "", ""),
            Filter::Text { needle } => (1, needle.as_str(), ""),
            Filter::Metadata { field, needle } => (2, needle.as_str(), field.as_str()),
        };
        let i = usize::from(seek.descending) + if seek.after.is_some() { 2 } else { 0 };
        let found = fetch(self, || {
            let q = sqlx::query(sql[i]).bind(seek.org_id).bind(kind).bind(needle).bind(field);
            let q = match &seek.after {
                None => q,
                Some((SortKey::Int(k), id)) => q.bind(rank(*k)).bind(*id),
                Some((SortKey::Text(k), id)) => q.bind(k.as_str()).bind(*id),
                Some((SortKey::Time(k), id)) => q.bind(*k).bind(*id),
            };
            q.bind(i64::from(seek.limit))
        })
        .await?;
        search::page(self, seek.org_id, &found, seek.sort).await
    }

    async fn search_candidates(
        &self,
        org_id: OrgId,
        filter: &Filter,
        sort: SortColumn,
        limit: u32,
    ) -> StoreResult<Candidates> {
        search::candidates(self, org_id, filter, sort, limit).await
    }

    async fn users_exact(&self, org_id: OrgId, key: &str, sort: SortColumn) -> StoreResult<Vec<(User, SortKey)>> {
        let sql: &'static str = by_sort!(sort, exact_sql);
        users_with_keys(&fetch(self, || sqlx::query(sql).bind(org_id).bind(key)).await?, sort)
    }

    async fn users_by_ids(&self, org_id: OrgId, ids: &[UserId]) -> StoreResult<Vec<User>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = super::id_list(ids.iter().map(|i| i.uuid()));
        self.all(|| sqlx::query(BY_IDS).bind(org_id).bind(&list), rows::user).await
    }
}

/// Replaces a user's custom metadata values and their search entries (field,
/// folded text), inside a transaction. On SQLite, triggers keep the FTS5 index
/// of the entries in step.
pub(super) async fn write_metadata_on(
    tx: &mut Transaction<'_, Engine>,
    org_id: OrgId,
    user: UserId,
    values: &Metadata,
    entries: &[(String, String)],
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let query = sqlx::query(SET_METADATA).bind(Value::Object(values.clone())).bind(at).bind(user).bind(org_id);
    if run(&mut **tx, query).await? == 0 {
        return Err(StoreError::NotFound);
    }
    run(&mut **tx, sqlx::query("DELETE FROM user_metadata WHERE user_id = $1").bind(user)).await?;
    let entries: Vec<(Uuid, &str, &str)> = entries.iter().map(|(f, v)| (user.uuid(), f.as_str(), v.as_str())).collect();
    bulk::insert_entries(tx, org_id.uuid(), &entries).await
}
