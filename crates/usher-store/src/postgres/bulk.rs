//! Bulk writes on PostgreSQL: an import's batches are bound as one array per
//! column and unnested, in one transaction with bulk settings.
//!
//! Big imports go the way PostgreSQL's documentation advises for bulk loads
//! ("Populating a Database": remove indexes and foreign keys, load, create them
//! again). When an import at least doubles the directory, the secondary indexes
//! and the foreign keys of the tables it fills are dropped inside its
//! transaction and built again before it commits: one sorted pass per index
//! instead of a million insertions into each. Those tables stay locked until the
//! commit (requests that touch users wait), which suits a first load; smaller
//! imports write through the indexes and leave the directory usable meanwhile.
//! It is all one transaction: a failed import leaves every index and constraint
//! as it was.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{AssertSqlSafe, Postgres, Row, Transaction};
use usher_core::{
    directory::role_rank,
    import::{ImportPlan, ImportedUser},
    store::StoreResult,
};
use uuid::Uuid;

use super::{
    Db, DbRow, import, map_err,
    rows::{self, Query, Read, run},
};

/// Users written per statement in an import (and keys looked up per statement).
pub(super) const BATCH: usize = 5000;

/// `<column> = ANY(<the texts bound at $p>)`, the texts bound with [`key_list`].
macro_rules! in_keys {
    ($p:literal) => {
        concat!("= ANY(", $p, ")")
    };
}
pub(super) use in_keys;

/// Texts as the array [`in_keys!`] reads.
pub(super) fn key_list(keys: &[String]) -> Vec<&str> {
    keys.iter().map(String::as_str).collect()
}

const INSERT_USERS: &str = "INSERT INTO users (id, org_id, user_id, user_id_key, email, email_key, first_name, \
    first_name_key, last_name, last_name_key, phone, status, metadata, password_hash, password_changed_at, created_at, \
    updated_at, role_rank) \
    SELECT t.id, $1, t.user_id, t.user_id_key, t.email, t.email_key, t.first_name, t.first_name_key, \
    t.last_name, t.last_name_key, t.phone, t.status, t.metadata::jsonb, t.password_hash, \
    CASE WHEN t.password_hash IS NULL THEN NULL ELSE $2 END, $2, $2, t.role_rank \
    FROM UNNEST($3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], \
    $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::int2[]) \
    AS t(id, user_id, user_id_key, email, email_key, first_name, first_name_key, last_name, \
    last_name_key, phone, status, metadata, password_hash, role_rank)";

const UPDATE_USERS: &str = "UPDATE users u SET user_id = t.user_id, email = t.email, email_key = t.email_key, \
    first_name = t.first_name, first_name_key = t.first_name_key, last_name = t.last_name, \
    last_name_key = t.last_name_key, phone = t.phone, status = t.status, metadata = t.metadata::jsonb, \
    role_rank = t.role_rank, password_hash = COALESCE(t.password_hash, u.password_hash), \
    password_changed_at = CASE WHEN t.password_hash IS NULL THEN u.password_changed_at ELSE $1 END, \
    updated_at = $1 \
    FROM UNNEST($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], \
    $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::int2[]) \
    AS t(id, user_id, email, email_key, first_name, first_name_key, last_name, last_name_key, phone, \
    status, metadata, password_hash, role_rank) \
    WHERE u.id = t.id";

const INSERT_MEMBERS: &str = "INSERT INTO group_members (group_id, user_id, added_at) \
    SELECT t.g, t.u, $3 FROM UNNEST($1::uuid[], $2::uuid[]) AS t(g, u)";

const INSERT_ENTRIES: &str = "INSERT INTO user_metadata (user_id, org_id, field, value_key) \
    SELECT t.u, $1, t.f, t.v FROM UNNEST($2::uuid[], $3::text[], $4::text[]) AS t(u, f, v)";

const ESTIMATE: &str = "SELECT reltuples FROM pg_class WHERE oid = 'users'::regclass";

/// The secondary indexes of the tables in $1 (not primary keys nor indexes behind constraints).
const INDEXES: &str = "SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def \
    FROM pg_index i WHERE i.indrelid = ANY($1::text[]::regclass[]) AND NOT i.indisprimary \
    AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) \
    ORDER BY 1";

/// The foreign keys of the tables in $1.
const FOREIGN_KEYS: &str = "SELECT conrelid::regclass::text AS tbl, quote_ident(conname) AS name, \
    pg_get_constraintdef(oid) AS def \
    FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY($1::text[]::regclass[]) ORDER BY 1, 2";

/// Writes an import plan in one transaction.
pub(super) async fn apply(db: &Db, plan: &ImportPlan, progress: &(dyn Fn(u64) + Send + Sync)) -> StoreResult<()> {
    let mut tx = db.write().await?;
    // Bulk settings for this transaction only: trigram index entries gather in
    // a bigger pending list and are merged in fewer, larger steps.
    run(&mut *tx, sqlx::query("SET LOCAL gin_pending_list_limit = '64MB'")).await?;
    run(&mut *tx, sqlx::query("SET LOCAL work_mem = '256MB'")).await?;
    // The import writes role_rank with each user: the user_roles trigger rests.
    run(&mut *tx, sqlx::query("SET LOCAL usher.import = 'on'")).await?;
    // An import that at least doubles the directory builds its indexes afterwards.
    let rebuild = if Rebuild::pays_off(&mut tx, plan.inserts.len()).await? {
        Some(Rebuild::drop_all(&mut tx).await?)
    } else {
        None
    };
    import::write_plan(&mut tx, plan, progress).await?;
    if let Some(rebuild) = rebuild {
        rebuild.restore(&mut tx).await?;
    }
    tx.commit().await.map_err(map_err)?;
    // Fresh statistics and visibility after a bulk change, so plans fit the new
    // sizes and walks read indexes alone at once (autovacuum would get there
    // later).
    if plan.inserts.len() + plan.updates.len() >= 10_000 {
        run(&db.pool, sqlx::query("VACUUM (ANALYZE) users, user_metadata, user_roles, group_members")).await?;
    }
    Ok(())
}

/// One column of a batch of users, as an array for UNNEST.
fn column<'a, T>(users: &'a [ImportedUser], value: impl Fn(&'a ImportedUser) -> T) -> Vec<T> {
    users.iter().map(value).collect()
}

/// Binds a batch of users as one array per column, in the order both
/// statements read them (`user_id_key` only when `with_key`, for inserts).
fn bind_columns(query: Query, users: &[ImportedUser], with_key: bool) -> Query {
    let query = query.bind(column(users, |u| u.id.uuid())).bind(column(users, |u| u.user_id.as_str()));
    let query = if with_key { query.bind(column(users, |u| u.user_id_key.as_str())) } else { query };
    let query = query.bind(column(users, |u| u.email.as_deref())).bind(column(users, |u| u.email_key.as_deref()));
    let query =
        query.bind(column(users, |u| u.first_name.as_deref())).bind(column(users, |u| u.first_name_key.as_str()));
    let query = query.bind(column(users, |u| u.last_name.as_deref())).bind(column(users, |u| u.last_name_key.as_str()));
    let query = query.bind(column(users, |u| u.phone.as_deref())).bind(column(users, |u| u.status.as_str()));
    let query = query.bind(column(users, |u| Value::Object(u.metadata.clone()).to_string()));
    query.bind(column(users, |u| u.password_hash.as_deref())).bind(column(users, |u| role_rank(&u.roles) as i16))
}

/// Inserts a batch of users, or updates them, with their role ranks (the
/// trigger rests during imports).
pub(super) async fn write_users(
    tx: &mut Transaction<'_, Postgres>,
    plan: &ImportPlan,
    chunk: &[ImportedUser],
    update: bool,
) -> StoreResult<()> {
    let query = if update {
        bind_columns(sqlx::query(UPDATE_USERS).bind(plan.at), chunk, false)
    } else {
        bind_columns(sqlx::query(INSERT_USERS).bind(plan.org_id).bind(plan.at), chunk, true)
    };
    run(&mut **tx, query).await?;
    Ok(())
}

/// Adds (group, user) memberships.
pub(super) async fn insert_members(
    tx: &mut Transaction<'_, Postgres>,
    at: DateTime<Utc>,
    members: &[(Uuid, Uuid)],
) -> StoreResult<()> {
    if members.is_empty() {
        return Ok(());
    }
    let (groups, users): (Vec<Uuid>, Vec<Uuid>) = members.iter().copied().unzip();
    run(&mut **tx, sqlx::query(INSERT_MEMBERS).bind(groups).bind(users).bind(at)).await?;
    Ok(())
}

/// Adds metadata search entries (user, field, folded text).
pub(super) async fn insert_entries(
    tx: &mut Transaction<'_, Postgres>,
    org_id: Uuid,
    entries: &[(Uuid, &str, &str)],
) -> StoreResult<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let users: Vec<Uuid> = entries.iter().map(|(u, _, _)| *u).collect();
    let fields: Vec<&str> = entries.iter().map(|(_, f, _)| *f).collect();
    let keys: Vec<&str> = entries.iter().map(|(_, _, v)| *v).collect();
    run(&mut **tx, sqlx::query(INSERT_ENTRIES).bind(org_id).bind(users).bind(fields).bind(keys)).await?;
    Ok(())
}

/// The tables an import fills.
const TABLES: [&str; 4] = ["users", "user_roles", "group_members", "user_metadata"];

/// Below this many new users, writing through the indexes is quick anyway.
const MIN_USERS: usize = 10_000;

/// Memory for each index build of a bulk import (PostgreSQL's default is 64 MB).
const BUILD_MEMORY: &str = "SET LOCAL maintenance_work_mem = '512MB'";

/// What a bulk import dropped, to create again.
struct Rebuild {
    /// `CREATE INDEX` statements, as the catalog prints them.
    indexes: Vec<String>,
    /// `ALTER TABLE .. ADD CONSTRAINT ..` statements.
    foreign_keys: Vec<String>,
}

impl Rebuild {
    /// Whether `new_users` at least doubles the users table.
    async fn pays_off(tx: &mut Transaction<'_, Postgres>, new_users: usize) -> StoreResult<bool> {
        if new_users < MIN_USERS {
            return Ok(false);
        }
        // The planner's estimate; a table never analyzed (-1) is counted.
        let estimate: f32 = sqlx::query_scalar(ESTIMATE).fetch_one(&mut **tx).await.map_err(map_err)?;
        let existing = if estimate < 0.0 {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM users").fetch_one(&mut **tx).await.map_err(map_err)?
                as f64
        } else {
            f64::from(estimate)
        };
        Ok(new_users as f64 >= existing)
    }

    /// Drops the secondary indexes (not primary keys nor indexes behind
    /// constraints) and the foreign keys of the filled tables.
    async fn drop_all(tx: &mut Transaction<'_, Postgres>) -> StoreResult<Self> {
        let indexes: Vec<(String, String)> =
            catalog(tx, INDEXES, |r| Ok((r.try_get("name")?, r.try_get("def")?))).await?;
        let mut drops: Vec<String> = indexes.iter().map(|(name, _)| format!("DROP INDEX {name}")).collect();
        let keys: Vec<(String, String, String)> =
            catalog(tx, FOREIGN_KEYS, |r| Ok((r.try_get("tbl")?, r.try_get("name")?, r.try_get("def")?))).await?;
        let mut foreign_keys = Vec::with_capacity(keys.len());
        for (table, name, def) in keys {
            foreign_keys.push(format!("ALTER TABLE {table} ADD CONSTRAINT {name} {def}"));
            drops.insert(0, format!("ALTER TABLE {table} DROP CONSTRAINT {name}"));
        }
        // Statements printed by the catalog, names quoted by it.
        run_all(tx, &drops).await?;
        Ok(Self { indexes: indexes.into_iter().map(|(_, def)| def).collect(), foreign_keys })
    }

    /// Builds the indexes and checks the foreign keys again.
    async fn restore(self, tx: &mut Transaction<'_, Postgres>) -> StoreResult<()> {
        sqlx::raw_sql(BUILD_MEMORY).execute(&mut **tx).await.map_err(map_err)?;
        run_all(tx, &self.indexes).await?;
        run_all(tx, &self.foreign_keys).await
    }
}

/// What a catalog query about the tables an import fills ($1) reads, each row read with `read`.
async fn catalog<T>(
    tx: &mut Transaction<'_, Postgres>,
    sql: &'static str,
    read: fn(&DbRow) -> Read<T>,
) -> StoreResult<Vec<T>> {
    rows::all(sqlx::query(sql).bind(TABLES.to_vec()).fetch_all(&mut **tx).await.map_err(map_err)?, read)
}

async fn run_all(tx: &mut Transaction<'_, Postgres>, statements: &[String]) -> StoreResult<()> {
    for sql in statements {
        sqlx::raw_sql(AssertSqlSafe(sql.as_str())).execute(&mut **tx).await.map_err(map_err)?;
    }
    Ok(())
}
