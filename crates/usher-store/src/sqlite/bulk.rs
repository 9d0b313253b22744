//! Bulk writes on SQLite: an import's batches are bound as one JSON array each
//! and read with `json_each`, in one transaction with a big page cache.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::{Connection, Sqlite, SqliteConnection, Transaction};
use usher_core::{
    directory::role_rank,
    import::{ImportPlan, ImportedUser},
    store::StoreResult,
};
use uuid::Uuid;

use super::{Db, import, map_err, rows::run};

/// Users written per statement in an import (and keys looked up per statement).
pub(super) const BATCH: usize = 2000;

/// `<column> IN <the texts bound at $p>`, the texts bound with [`key_list`].
macro_rules! in_keys {
    ($p:literal) => {
        concat!("IN (SELECT value FROM json_each(", $p, "))")
    };
}
pub(super) use in_keys;

/// Texts as the JSON array [`in_keys!`] reads.
pub(super) fn key_list(keys: &[String]) -> String {
    serde_json::to_string(keys).unwrap_or_default()
}

const INSERT_USERS: &str = "INSERT INTO users (id, org_id, user_id, user_id_key, email, email_key, first_name, \
    first_name_key, last_name, last_name_key, phone, status, metadata, password_hash, password_changed_at, created_at, \
    updated_at, role_rank) \
    SELECT unhex(j.value ->> 0), $1, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4, j.value ->> 5, \
    j.value ->> 6, j.value ->> 7, j.value ->> 8, j.value ->> 9, j.value ->> 10, j.value -> 11, j.value ->> 12, \
    CASE WHEN j.value ->> 12 IS NULL THEN NULL ELSE $2 END, $2, $2, j.value ->> 13 \
    FROM json_each($3) j";

const UPDATE_USERS: &str = "UPDATE users SET user_id = j.value ->> 1, email = j.value ->> 3, email_key = j.value ->> 4, \
    first_name = j.value ->> 5, first_name_key = j.value ->> 6, last_name = j.value ->> 7, \
    last_name_key = j.value ->> 8, phone = j.value ->> 9, status = j.value ->> 10, \
    metadata = j.value -> 11, password_hash = COALESCE(j.value ->> 12, users.password_hash), \
    password_changed_at = CASE WHEN j.value ->> 12 IS NULL THEN users.password_changed_at ELSE $1 END, \
    updated_at = $1 \
    FROM json_each($2) j WHERE users.id = unhex(j.value ->> 0)";

const INSERT_MEMBERS: &str = "INSERT INTO group_members (group_id, user_id, added_at) \
    SELECT unhex(j.value ->> 0), unhex(j.value ->> 1), $1 FROM json_each($2) j";

const INSERT_ENTRIES: &str = "INSERT INTO user_metadata (user_id, org_id, field, value_key) \
    SELECT unhex(j.value ->> 0), $1, j.value ->> 1, j.value ->> 2 FROM json_each($2) j";

/// Writes an import plan in one transaction on a connection of its own.
pub(super) async fn apply(db: &Db, plan: &ImportPlan, progress: &(dyn Fn(u64) + Send + Sync)) -> StoreResult<()> {
    // A big page cache for this one transaction: index pages stay in memory
    // until the commit instead of being spilled to the WAL again and again.
    let mut conn = db.pool.acquire().await.map_err(map_err)?;
    run(&mut *conn, sqlx::query("PRAGMA cache_size = -1048576")).await?;
    let result = write(&mut conn, plan, progress).await;
    run(&mut *conn, sqlx::query("PRAGMA cache_size = -2000")).await?;
    result
}

async fn write(
    conn: &mut SqliteConnection,
    plan: &ImportPlan,
    progress: &(dyn Fn(u64) + Send + Sync),
) -> StoreResult<()> {
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.map_err(map_err)?;
    import::write_plan(&mut tx, plan, progress).await?;
    tx.commit().await.map_err(map_err)
}

/// A batch of users as one JSON array of arrays, in the column order the
/// import statements read.
fn users_json(users: &[ImportedUser]) -> String {
    let user = |u: &ImportedUser| {
        json!([
            u.id.uuid().simple().to_string(),
            u.user_id,
            u.user_id_key,
            u.email,
            u.email_key,
            u.first_name,
            u.first_name_key,
            u.last_name,
            u.last_name_key,
            u.phone,
            u.status.as_str(),
            Value::Object(u.metadata.clone()),
            u.password_hash,
            role_rank(&u.roles),
        ])
    };
    Value::Array(users.iter().map(user).collect()).to_string()
}

/// Inserts a batch of users, or updates them (their role ranks follow their
/// roles by trigger).
pub(super) async fn write_users(
    tx: &mut Transaction<'_, Sqlite>,
    plan: &ImportPlan,
    chunk: &[ImportedUser],
    update: bool,
) -> StoreResult<()> {
    let query = if update {
        sqlx::query(UPDATE_USERS).bind(plan.at).bind(users_json(chunk))
    } else {
        sqlx::query(INSERT_USERS).bind(plan.org_id).bind(plan.at).bind(users_json(chunk))
    };
    run(&mut **tx, query).await?;
    Ok(())
}

/// Adds (group, user) memberships.
pub(super) async fn insert_members(
    tx: &mut Transaction<'_, Sqlite>,
    at: DateTime<Utc>,
    members: &[(Uuid, Uuid)],
) -> StoreResult<()> {
    if members.is_empty() {
        return Ok(());
    }
    let rows: Vec<Value> =
        members.iter().map(|(g, u)| json!([g.simple().to_string(), u.simple().to_string()])).collect();
    run(&mut **tx, sqlx::query(INSERT_MEMBERS).bind(at).bind(Value::Array(rows).to_string())).await?;
    Ok(())
}

/// Adds metadata search entries (user, field, folded text); triggers index them in FTS5.
pub(super) async fn insert_entries(
    tx: &mut Transaction<'_, Sqlite>,
    org_id: Uuid,
    entries: &[(Uuid, &str, &str)],
) -> StoreResult<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let rows: Vec<Value> = entries.iter().map(|(u, f, v)| json!([u.simple().to_string(), f, v])).collect();
    run(&mut **tx, sqlx::query(INSERT_ENTRIES).bind(org_id).bind(Value::Array(rows).to_string())).await?;
    Ok(())
}
