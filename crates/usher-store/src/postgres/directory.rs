//! The directory on PostgreSQL: sorted pages by index range scans from a cursor,
//! substring search through pg_trgm GIN indexes, custom metadata, bulk import
//! (batches bound as arrays and unnested) and export.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{Postgres, Row, Transaction, postgres::PgRow};
use usher_core::{
    directory::{Candidates, Filter, Seek, SortColumn, SortKey, role_rank},
    import::{Existing, ExistingUser, ExportedUser, ImportPlan, ImportedUser},
    metadata::Metadata,
    store::{DirectoryStore, ImportStore, StoreResult, User, UserStatus},
};
use usher_domain::{GroupId, OrgId, Role, UserId};
use uuid::Uuid;

use super::{PostgresStore, bulk::Rebuild, map_err, user_from_row};

/// Users written per statement in an import.
const BATCH: usize = 5000;

/// The most matches read from a trigram index before walking instead.
const CANDIDATES_MAX: u32 = 1000;

/// Reads the `metadata` column of a user row (an empty object when absent).
pub(crate) fn metadata_from_row(row: &PgRow) -> Result<Metadata, sqlx::Error> {
    match row.try_get::<Option<Value>, _>("metadata").ok().flatten() {
        Some(Value::Object(map)) => Ok(map),
        _ => Ok(Metadata::new()),
    }
}

/// Expands `$m!(key expression, key as selected, cast of the cursor parameter)`.
macro_rules! by_sort {
    ($sort:expr, $m:ident) => {
        match $sort {
            SortColumn::UserId => $m!("u.user_id_key", "u.user_id_key", "text"),
            SortColumn::Email => $m!("u.email_sort", "u.email_sort", "text"),
            SortColumn::FirstName => $m!("u.first_name_key", "u.first_name_key", "text"),
            SortColumn::LastName => $m!("u.last_name_key", "u.last_name_key", "text"),
            SortColumn::Phone => $m!("u.phone_sort", "u.phone_sort", "text"),
            SortColumn::Role => $m!("u.role_rank", "u.role_rank::int8", "int2"),
            SortColumn::Status => $m!("u.status", "u.status", "text"),
            SortColumn::CreatedAt => $m!("u.created_at", "u.created_at", "timestamptz"),
            SortColumn::LastLoginAt => $m!("u.last_login_sort", "u.last_login_sort", "timestamptz"),
        }
    };
}

/// The search filter tested row by row: $2 is the kind (0 all, 1 text, 2
/// metadata), $3 the folded needle, $4 the metadata field. strpos, not LIKE, so
/// the planner walks the sort index instead of the trigram index.
macro_rules! row_filter {
    () => {
        "CASE $2::int4 WHEN 0 THEN true \
          WHEN 1 THEN strpos(u.search_doc, $3) > 0 \
          ELSE EXISTS (SELECT 1 FROM user_metadata m \
                       WHERE m.user_id = u.id AND m.field = $4 AND strpos(m.value_key, $3) > 0) END"
    };
}

/// Walks, reading only the sort index (ids and keys; the rows of the page are
/// read afterwards): [ascending, descending] with limit $5; [ascending after,
/// descending before] the cursor ($5 key, $6 id) with limit $7.
macro_rules! walk_sql {
    ($key:literal, $select:literal, $cast:literal) => {
        [
            concat!(
                "SELECT u.id, ",
                $select,
                " AS sort_key FROM users u WHERE u.org_id = $1 AND ",
                row_filter!(),
                " ORDER BY ",
                $key,
                ", u.id LIMIT $5"
            ),
            concat!(
                "SELECT u.id, ",
                $select,
                " AS sort_key FROM users u WHERE u.org_id = $1 AND ",
                row_filter!(),
                " ORDER BY ",
                $key,
                " DESC, u.id DESC LIMIT $5"
            ),
            concat!(
                "SELECT u.id, ",
                $select,
                " AS sort_key FROM users u WHERE u.org_id = $1 AND ",
                row_filter!(),
                " AND (",
                $key,
                ", u.id) > ($5::",
                $cast,
                ", $6) ORDER BY ",
                $key,
                ", u.id LIMIT $7"
            ),
            concat!(
                "SELECT u.id, ",
                $select,
                " AS sort_key FROM users u WHERE u.org_id = $1 AND ",
                row_filter!(),
                " AND (",
                $key,
                ", u.id) < ($5::",
                $cast,
                ", $6) ORDER BY ",
                $key,
                " DESC, u.id DESC LIMIT $7"
            ),
        ]
    };
}

/// Exact user ID or email matches, with their keys ($1 org, $2 key).
macro_rules! exact_sql {
    ($key:literal, $select:literal, $cast:literal) => {
        concat!(
            "SELECT ",
            user_columns!(),
            ", ",
            $select,
            " AS sort_key FROM users u \
            WHERE u.org_id = $1 AND u.user_id_key = $2 \
            UNION ALL SELECT ",
            user_columns!(),
            ", ",
            $select,
            " AS sort_key FROM users u \
            WHERE u.org_id = $1 AND u.email_key = $2 AND u.user_id_key <> $2"
        )
    };
}

/// Candidates: [names through the trigram index ($1 org, $2 LIKE pattern, $3
/// limit), exact user ID or email ($1 org, $2 key), metadata through the trigram
/// index ($1 org, $2 field, $3 LIKE pattern, $4 limit)].
macro_rules! candidates_sql {
    ($key:literal, $select:literal, $cast:literal) => {
        [
            concat!(
                "SELECT u.id, ",
                $select,
                " AS sort_key FROM users u \
                WHERE u.org_id = $1 AND u.search_doc LIKE $2 LIMIT $3"
            ),
            concat!(
                "SELECT u.id, ",
                $select,
                " AS sort_key FROM users u WHERE u.org_id = $1 AND u.user_id_key = $2 \
                UNION SELECT u.id, ",
                $select,
                " AS sort_key FROM users u WHERE u.org_id = $1 AND u.email_key = $2"
            ),
            concat!(
                "SELECT u.id, ",
                $select,
                " AS sort_key FROM user_metadata m JOIN users u ON u.id = m.user_id \
                WHERE m.org_id = $1 AND m.field = $2 AND m.value_key LIKE $3 LIMIT $4"
            ),
        ]
    };
}

fn sort_key(row: &PgRow, sort: SortColumn) -> Result<SortKey, sqlx::Error> {
    Ok(match sort {
        SortColumn::Role => SortKey::Int(row.try_get("sort_key")?),
        SortColumn::CreatedAt | SortColumn::LastLoginAt => SortKey::Time(row.try_get("sort_key")?),
        _ => SortKey::Text(row.try_get("sort_key")?),
    })
}

/// Runs a trigram-index query without parallel workers: starting them costs
/// more than the few hundred rows such a query reads.
async fn trigram_rows(
    pool: &sqlx::PgPool,
    query: sqlx::query::Query<'_, Postgres, sqlx::postgres::PgArguments>,
) -> StoreResult<Vec<PgRow>> {
    let mut tx = pool.begin().await.map_err(map_err)?;
    sqlx::query("SET LOCAL max_parallel_workers_per_gather = 0").execute(&mut *tx).await.map_err(map_err)?;
    let rows = query.fetch_all(&mut *tx).await.map_err(map_err)?;
    tx.commit().await.map_err(map_err)?;
    Ok(rows)
}

/// `%needle%` with LIKE's wildcards escaped.
fn contains_pattern(needle: &str) -> String {
    let mut p = String::with_capacity(needle.len() + 2);
    p.push('%');
    for c in needle.chars() {
        if matches!(c, '\\' | '%' | '_') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Whether pg_trgm can take trigrams from the needle: it needs a run of three
/// letters or digits (other characters split words).
fn indexable(needle: &str) -> bool {
    let mut run = 0;
    for c in needle.chars() {
        run = if c.is_alphanumeric() { run + 1 } else { 0 };
        if run >= 3 {
            return true;
        }
    }
    false
}

#[async_trait]
impl DirectoryStore for PostgresStore {
    async fn users_sorted(&self, seek: &Seek<'_>) -> StoreResult<Vec<(User, SortKey)>> {
        let sql: [&'static str; 4] = by_sort!(seek.sort, walk_sql);
        let (kind, needle, field) = match seek.filter {
            Filter::All => (0i32, "", ""),
            Filter::Text { needle } => (1, needle.as_str(), ""),
            Filter::Metadata { field, needle } => (2, needle.as_str(), field.as_str()),
        };
        let i = usize::from(seek.descending) + if seek.after.is_some() { 2 } else { 0 };
        let query = || {
            let q = sqlx::query(sql[i]).bind(seek.org_id).bind(kind).bind(needle).bind(field);
            let q = match &seek.after {
                None => q,
                Some((SortKey::Int(k), id)) => q.bind(*k).bind(*id),
                Some((SortKey::Text(k), id)) => q.bind(k.clone()).bind(*id),
                Some((SortKey::Time(k), id)) => q.bind(*k).bind(*id),
            };
            q.bind(i64::from(seek.limit)).fetch_all(&self.pool)
        };
        let rows = self.read(query).await.map_err(map_err)?;
        let keys: Vec<(UserId, SortKey)> = rows
            .iter()
            .map(|r| Ok((r.try_get("id")?, sort_key(r, seek.sort)?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(map_err)?;
        let ids: Vec<UserId> = keys.iter().map(|(id, _)| *id).collect();
        let mut users: std::collections::HashMap<UserId, User> =
            self.users_by_ids(seek.org_id, &ids).await?.into_iter().map(|u| (u.id, u)).collect();
        Ok(keys.into_iter().filter_map(|(id, key)| users.remove(&id).map(|u| (u, key))).collect())
    }

    async fn search_candidates(
        &self,
        org_id: OrgId,
        filter: &Filter,
        sort: SortColumn,
        limit: u32,
    ) -> StoreResult<Candidates> {
        let sql: [&'static str; 3] = by_sort!(sort, candidates_sql);
        let read = |rows: Vec<PgRow>| -> StoreResult<Vec<(UserId, SortKey)>> {
            rows.iter()
                .map(|r| Ok((r.try_get("id")?, sort_key(r, sort)?)))
                .collect::<Result<_, sqlx::Error>>()
                .map_err(map_err)
        };
        // Each candidate costs a row read here (SQLite counts on its index):
        // beyond this many, walking the sort index is cheaper.
        let over = i64::from(limit.min(CANDIDATES_MAX)) + 1;
        match filter {
            Filter::All => Ok(Candidates::NoIndex),
            Filter::Text { needle } | Filter::Metadata { needle, .. } if !indexable(needle) => Ok(Candidates::NoIndex),
            Filter::Text { needle } => {
                let rows = trigram_rows(
                    &self.pool,
                    sqlx::query(sql[0]).bind(org_id).bind(contains_pattern(needle)).bind(over),
                )
                .await?;
                if rows.len() as i64 >= over {
                    return Ok(Candidates::TooMany);
                }
                let mut found = read(rows)?;
                let exact = self
                    .read(|| sqlx::query(sql[1]).bind(org_id).bind(needle).fetch_all(&self.pool))
                    .await
                    .map_err(map_err)?;
                found.extend(read(exact)?);
                Ok(Candidates::Found(found))
            }
            Filter::Metadata { field, needle } => {
                let query = sqlx::query(sql[2]).bind(org_id).bind(field).bind(contains_pattern(needle)).bind(over);
                let rows = trigram_rows(&self.pool, query).await?;
                if rows.len() as i64 >= over {
                    return Ok(Candidates::TooMany);
                }
                Ok(Candidates::Found(read(rows)?))
            }
        }
    }

    async fn users_exact(&self, org_id: OrgId, key: &str, sort: SortColumn) -> StoreResult<Vec<(User, SortKey)>> {
        let sql: &'static str = by_sort!(sort, exact_sql);
        let rows =
            self.read(|| sqlx::query(sql).bind(org_id).bind(key).fetch_all(&self.pool)).await.map_err(map_err)?;
        rows.iter()
            .map(|r| Ok((user_from_row(r)?, sort_key(r, sort)?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(map_err)
    }

    async fn users_by_ids(&self, org_id: OrgId, ids: &[UserId]) -> StoreResult<Vec<User>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self
            .read(|| {
                sqlx::query(concat!("SELECT ", user_columns!(), " FROM users u WHERE u.org_id = $1 AND u.id = ANY($2)"))
                    .bind(org_id)
                    .bind(ids)
                    .fetch_all(&self.pool)
            })
            .await
            .map_err(map_err)?;
        rows.iter().map(user_from_row).collect::<Result<_, _>>().map_err(map_err)
    }
}

#[async_trait]
impl ImportStore for PostgresStore {
    async fn import_lookup(
        &self,
        org_id: OrgId,
        user_id_keys: &[String],
        email_keys: &[String],
    ) -> StoreResult<Existing> {
        let mut existing = Existing::default();
        for chunk in user_id_keys.chunks(BATCH) {
            let rows = sqlx::query(
                "SELECT u.id, u.user_id, u.user_id_key, u.email, u.first_name, u.last_name, u.phone, u.status, \
                 u.metadata, u.password_hash, \
                 (SELECT string_agg(role, ',') FROM user_roles r WHERE r.user_id = u.id) AS roles, \
                 ARRAY(SELECT gm.group_id FROM group_members gm WHERE gm.user_id = u.id) AS groups \
                 FROM users u WHERE u.org_id = $1 AND u.user_id_key = ANY($2)",
            )
            .bind(org_id)
            .bind(chunk)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
            for r in rows {
                existing.users.push(existing_from_row(&r).map_err(map_err)?);
            }
        }
        for chunk in email_keys.chunks(BATCH) {
            let rows =
                sqlx::query("SELECT email_key, user_id_key FROM users WHERE org_id = $1 AND email_key = ANY($2)")
                    .bind(org_id)
                    .bind(chunk)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err)?;
            for r in rows {
                existing.email_owners.push((r.try_get(0).map_err(map_err)?, r.try_get(1).map_err(map_err)?));
            }
        }
        let rows = sqlx::query("SELECT name_key, id FROM groups WHERE org_id = $1")
            .bind(org_id)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        for r in rows {
            existing.groups.push((r.try_get(0).map_err(map_err)?, r.try_get(1).map_err(map_err)?));
        }
        Ok(existing)
    }

    async fn apply_import(&self, plan: &ImportPlan, progress: &(dyn Fn(u64) + Send + Sync)) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        // Bulk settings for this transaction only: trigram index entries gather in
        // a bigger pending list and are merged in fewer, larger steps.
        sqlx::query("SET LOCAL gin_pending_list_limit = '64MB'").execute(&mut *tx).await.map_err(map_err)?;
        sqlx::query("SET LOCAL work_mem = '256MB'").execute(&mut *tx).await.map_err(map_err)?;
        // The import writes role_rank with each user: the user_roles trigger rests.
        sqlx::query("SET LOCAL usher.import = 'on'").execute(&mut *tx).await.map_err(map_err)?;
        // An import that at least doubles the directory builds its indexes afterwards.
        let rebuild = if Rebuild::pays_off(&mut tx, plan.inserts.len()).await? {
            Some(Rebuild::drop_all(&mut tx).await?)
        } else {
            None
        };
        for g in &plan.new_groups {
            sqlx::query(
                "INSERT INTO groups (id, org_id, name, name_key, description, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, '', $5, $5)",
            )
            .bind(g.id)
            .bind(plan.org_id)
            .bind(&g.name)
            .bind(&g.name_key)
            .bind(plan.at)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        let mut done = 0u64;
        for chunk in plan.inserts.chunks(BATCH) {
            let c = Columns::of(chunk);
            sqlx::query(
                "INSERT INTO users (id, org_id, user_id, user_id_key, email, email_key, first_name, first_name_key, \
                 last_name, last_name_key, phone, status, metadata, password_hash, password_changed_at, created_at, \
                 updated_at, role_rank) \
                 SELECT t.id, $1, t.user_id, t.user_id_key, t.email, t.email_key, t.first_name, t.first_name_key, \
                 t.last_name, t.last_name_key, t.phone, t.status, t.metadata::jsonb, t.password_hash, \
                 CASE WHEN t.password_hash IS NULL THEN NULL ELSE $2 END, $2, $2, t.role_rank \
                 FROM UNNEST($3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], \
                 $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::int2[]) \
                 AS t(id, user_id, user_id_key, email, email_key, first_name, first_name_key, last_name, \
                 last_name_key, phone, status, metadata, password_hash, role_rank)",
            )
            .bind(plan.org_id)
            .bind(plan.at)
            .bind(c.id)
            .bind(c.user_id)
            .bind(c.user_id_key)
            .bind(c.email)
            .bind(c.email_key)
            .bind(c.first_name)
            .bind(c.first_name_key)
            .bind(c.last_name)
            .bind(c.last_name_key)
            .bind(c.phone)
            .bind(c.status)
            .bind(c.metadata)
            .bind(c.password_hash)
            .bind(c.role_rank)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            write_sets(&mut tx, plan, chunk, false).await?;
            done += chunk.len() as u64;
            progress(done);
        }
        for chunk in plan.updates.chunks(BATCH) {
            let c = Columns::of(chunk);
            sqlx::query(
                "UPDATE users u SET user_id = t.user_id, email = t.email, email_key = t.email_key, \
                 first_name = t.first_name, first_name_key = t.first_name_key, last_name = t.last_name, \
                 last_name_key = t.last_name_key, phone = t.phone, status = t.status, metadata = t.metadata::jsonb, \
                 role_rank = t.role_rank, password_hash = COALESCE(t.password_hash, u.password_hash), \
                 password_changed_at = CASE WHEN t.password_hash IS NULL THEN u.password_changed_at ELSE $1 END, \
                 updated_at = $1 \
                 FROM UNNEST($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], \
                 $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::int2[]) \
                 AS t(id, user_id, email, email_key, first_name, first_name_key, last_name, last_name_key, phone, \
                 status, metadata, password_hash, role_rank) \
                 WHERE u.id = t.id",
            )
            .bind(plan.at)
            .bind(c.id)
            .bind(c.user_id)
            .bind(c.email)
            .bind(c.email_key)
            .bind(c.first_name)
            .bind(c.first_name_key)
            .bind(c.last_name)
            .bind(c.last_name_key)
            .bind(c.phone)
            .bind(c.status)
            .bind(c.metadata)
            .bind(c.password_hash)
            .bind(c.role_rank)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            write_sets(&mut tx, plan, chunk, true).await?;
            done += chunk.len() as u64;
            progress(done);
        }
        if let Some(rebuild) = rebuild {
            rebuild.restore(&mut tx).await?;
        }
        tx.commit().await.map_err(map_err)?;
        // Fresh statistics and visibility after a bulk change, so plans fit the new
        // sizes and walks read indexes alone at once (autovacuum would get there
        // later).
        if plan.inserts.len() + plan.updates.len() >= 10_000 {
            sqlx::query("VACUUM (ANALYZE) users, user_metadata, user_roles, group_members")
                .execute(&self.pool)
                .await
                .map_err(map_err)?;
        }
        Ok(())
    }

    async fn export_users(&self, org_id: OrgId, after: Option<UserId>, limit: u32) -> StoreResult<Vec<ExportedUser>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            ", u.password_hash, ARRAY(SELECT g.name FROM group_members gm JOIN groups g ON g.id = gm.group_id \
               WHERE gm.user_id = u.id ORDER BY g.name) AS group_names \
             FROM users u WHERE u.org_id = $1 AND u.id > $2 ORDER BY u.id LIMIT $3"
        ))
        .bind(org_id)
        .bind(after.map_or(Uuid::nil(), UserId::uuid))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|r| {
                Ok(ExportedUser {
                    user: user_from_row(r)?,
                    groups: r.try_get("group_names")?,
                    password_hash: r.try_get("password_hash")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(map_err)
    }
}

/// A batch of users as one array per column, for UNNEST.
struct Columns<'a> {
    id: Vec<UserId>,
    user_id: Vec<&'a str>,
    user_id_key: Vec<&'a str>,
    email: Vec<Option<&'a str>>,
    email_key: Vec<Option<&'a str>>,
    first_name: Vec<Option<&'a str>>,
    first_name_key: Vec<&'a str>,
    last_name: Vec<Option<&'a str>>,
    last_name_key: Vec<&'a str>,
    phone: Vec<Option<&'a str>>,
    status: Vec<&'static str>,
    metadata: Vec<String>,
    password_hash: Vec<Option<&'a str>>,
    role_rank: Vec<i16>,
}

impl<'a> Columns<'a> {
    fn of(users: &'a [ImportedUser]) -> Self {
        Self {
            id: users.iter().map(|u| u.id).collect(),
            user_id: users.iter().map(|u| u.user_id.as_str()).collect(),
            user_id_key: users.iter().map(|u| u.user_id_key.as_str()).collect(),
            email: users.iter().map(|u| u.email.as_deref()).collect(),
            email_key: users.iter().map(|u| u.email_key.as_deref()).collect(),
            first_name: users.iter().map(|u| u.first_name.as_deref()).collect(),
            first_name_key: users.iter().map(|u| u.first_name_key.as_str()).collect(),
            last_name: users.iter().map(|u| u.last_name.as_deref()).collect(),
            last_name_key: users.iter().map(|u| u.last_name_key.as_str()).collect(),
            phone: users.iter().map(|u| u.phone.as_deref()).collect(),
            status: users.iter().map(|u| u.status.as_str()).collect(),
            metadata: users.iter().map(|u| Value::Object(u.metadata.clone()).to_string()).collect(),
            password_hash: users.iter().map(|u| u.password_hash.as_deref()).collect(),
            role_rank: users.iter().map(|u| role_rank(&u.roles) as i16).collect(),
        }
    }
}

/// Writes the roles, groups and metadata entries of a batch (replacing those
/// that changed, for updates).
async fn write_sets(
    tx: &mut Transaction<'_, Postgres>,
    plan: &ImportPlan,
    chunk: &[ImportedUser],
    replace: bool,
) -> StoreResult<()> {
    let ids =
        |pick: fn(&ImportedUser) -> bool| -> Vec<UserId> { chunk.iter().filter(|u| pick(u)).map(|u| u.id).collect() };
    let roles = ids(|u| u.roles_changed);
    let groups = ids(|u| u.groups_changed);
    let metadata = ids(|u| u.metadata_changed);
    if replace {
        for (users, sql) in [
            (&roles, "DELETE FROM user_roles WHERE user_id = ANY($1)"),
            (&groups, "DELETE FROM group_members WHERE user_id = ANY($1)"),
            (&metadata, "DELETE FROM user_metadata WHERE user_id = ANY($1)"),
        ] {
            if !users.is_empty() {
                sqlx::query(sql).bind(users).execute(&mut **tx).await.map_err(map_err)?;
            }
        }
    }
    let (role_users, role_names): (Vec<UserId>, Vec<&str>) =
        chunk.iter().filter(|u| u.roles_changed).flat_map(|u| u.roles.iter().map(move |r| (u.id, r.as_str()))).unzip();
    if !role_users.is_empty() {
        sqlx::query("INSERT INTO user_roles (user_id, role) SELECT * FROM UNNEST($1::uuid[], $2::text[])")
            .bind(role_users)
            .bind(role_names)
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
    }
    let (group_ids, member_ids): (Vec<GroupId>, Vec<UserId>) =
        chunk.iter().filter(|u| u.groups_changed).flat_map(|u| u.groups.iter().map(move |g| (*g, u.id))).unzip();
    if !group_ids.is_empty() {
        sqlx::query(
            "INSERT INTO group_members (group_id, user_id, added_at) \
             SELECT t.g, t.u, $3 FROM UNNEST($1::uuid[], $2::uuid[]) AS t(g, u)",
        )
        .bind(group_ids)
        .bind(member_ids)
        .bind(plan.at)
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
    }
    let mut entry_users = Vec::new();
    let mut entry_fields = Vec::new();
    let mut entry_keys = Vec::new();
    for u in chunk.iter().filter(|u| u.metadata_changed) {
        for (f, v) in &u.metadata_entries {
            entry_users.push(u.id);
            entry_fields.push(f.as_str());
            entry_keys.push(v.as_str());
        }
    }
    if !entry_users.is_empty() {
        sqlx::query(
            "INSERT INTO user_metadata (user_id, org_id, field, value_key) \
             SELECT t.u, $1, t.f, t.v FROM UNNEST($2::uuid[], $3::text[], $4::text[]) AS t(u, f, v)",
        )
        .bind(plan.org_id)
        .bind(entry_users)
        .bind(entry_fields)
        .bind(entry_keys)
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
    }
    Ok(())
}

fn existing_from_row(r: &PgRow) -> Result<ExistingUser, sqlx::Error> {
    let roles: Option<String> = r.try_get("roles")?;
    let mut roles: Vec<Role> = roles.unwrap_or_default().split(',').filter_map(|r| r.parse().ok()).collect();
    roles.sort();
    Ok(ExistingUser {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        user_id_key: r.try_get("user_id_key")?,
        email: r.try_get("email")?,
        first_name: r.try_get("first_name")?,
        last_name: r.try_get("last_name")?,
        phone: r.try_get("phone")?,
        status: UserStatus::from_stored(&r.try_get::<String, _>("status")?),
        roles,
        groups: r.try_get("groups")?,
        metadata: metadata_from_row(r)?,
        password_hash: r.try_get("password_hash")?,
    })
}

/// Replaces a user's custom metadata values and their search entries, inside a transaction.
pub(crate) async fn write_metadata_on(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    org_id: OrgId,
    user: UserId,
    values: &Metadata,
    entries: &[(String, String)],
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let done = sqlx::query("UPDATE users SET metadata = $1, updated_at = $2 WHERE id = $3 AND org_id = $4")
        .bind(Value::Object(values.clone()))
        .bind(at)
        .bind(user)
        .bind(org_id)
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
    if done.rows_affected() == 0 {
        return Err(usher_core::StoreError::NotFound);
    }
    sqlx::query("DELETE FROM user_metadata WHERE user_id = $1").bind(user).execute(&mut **tx).await.map_err(map_err)?;
    let (fields, keys): (Vec<&str>, Vec<&str>) = entries.iter().map(|(f, v)| (f.as_str(), v.as_str())).unzip();
    sqlx::query(
        "INSERT INTO user_metadata (user_id, org_id, field, value_key) \
         SELECT $1, $2, t.f, t.v FROM UNNEST($3::text[], $4::text[]) AS t(f, v)",
    )
    .bind(user)
    .bind(org_id)
    .bind(fields)
    .bind(keys)
    .execute(&mut **tx)
    .await
    .map_err(map_err)?;
    Ok(())
}
