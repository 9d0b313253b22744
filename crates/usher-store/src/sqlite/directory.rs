//! The directory on SQLite: sorted pages by index range scans from a cursor,
//! substring search through FTS5 trigram indexes, custom metadata, bulk import
//! (batches bound as one JSON array each) and export.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::{Row, Sqlite, Transaction, sqlite::SqliteRow};
use usher_core::{
    directory::{Candidates, Filter, Seek, SortColumn, SortKey, role_rank},
    import::{Existing, ExistingUser, ExportedUser, ImportPlan, ImportedUser},
    metadata::Metadata,
    store::{DirectoryStore, ImportStore, StoreResult, User, UserStatus},
};
use usher_domain::{GroupId, OrgId, Role, UserId};
use uuid::Uuid;

use super::{SqliteStore, map_err, user_from_row};

/// Users written per statement in an import.
const BATCH: usize = 2000;

/// Reads the `metadata` column of a user row (an empty object when absent).
pub(crate) fn metadata_from_row(row: &SqliteRow) -> Result<Metadata, sqlx::Error> {
    let raw: Option<String> = row.try_get("metadata").ok().flatten();
    Ok(raw.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default())
}

/// Expands `$m!(key expression, its index)` for the sort column.
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

/// The search filter tested row by row: ?2 is the kind (0 all, 1 text, 2
/// metadata), ?3 the folded needle, ?4 the metadata field. It reads only
/// columns of the sort indexes (and the metadata index), so rows that do not
/// match are never read.
macro_rules! row_filter {
    () => {
        "(?2 = 0 \
          OR (?2 = 1 AND (instr(u.first_name_key, ?3) > 0 OR instr(u.last_name_key, ?3) > 0 \
                          OR instr(u.phone_sort, ?3) > 0)) \
          OR (?2 = 2 AND EXISTS (SELECT 1 FROM user_metadata m INDEXED BY user_metadata_user_field \
                                 WHERE m.user_id = u.id AND m.field = ?4 AND instr(m.value_key, ?3) > 0)))"
    };
}

/// Walks along the sort index: [ascending, descending, ascending after ?5/?6,
/// descending before ?5/?6]; limit ?7.
macro_rules! walk_sql {
    ($key:literal, $index:literal) => {
        [
            concat!(
                "SELECT ",
                user_columns!(),
                ", ",
                $key,
                " AS sort_key FROM users u INDEXED BY ",
                $index,
                " WHERE u.org_id = ?1 AND ",
                row_filter!(),
                " AND ?5 IS ?5 AND ?6 IS ?6 ORDER BY ",
                $key,
                ", u.id LIMIT ?7"
            ),
            concat!(
                "SELECT ",
                user_columns!(),
                ", ",
                $key,
                " AS sort_key FROM users u INDEXED BY ",
                $index,
                " WHERE u.org_id = ?1 AND ",
                row_filter!(),
                " AND ?5 IS ?5 AND ?6 IS ?6 ORDER BY ",
                $key,
                " DESC, u.id DESC LIMIT ?7"
            ),
            concat!(
                "SELECT ",
                user_columns!(),
                ", ",
                $key,
                " AS sort_key FROM users u INDEXED BY ",
                $index,
                " WHERE u.org_id = ?1 AND ",
                row_filter!(),
                " AND (",
                $key,
                ", u.id) > (?5, ?6) ORDER BY ",
                $key,
                ", u.id LIMIT ?7"
            ),
            concat!(
                "SELECT ",
                user_columns!(),
                ", ",
                $key,
                " AS sort_key FROM users u INDEXED BY ",
                $index,
                " WHERE u.org_id = ?1 AND ",
                row_filter!(),
                " AND (",
                $key,
                ", u.id) < (?5, ?6) ORDER BY ",
                $key,
                " DESC, u.id DESC LIMIT ?7"
            ),
        ]
    };
}

/// Exact user ID or email matches, with their keys (?1 org, ?2 key).
macro_rules! exact_sql {
    ($key:literal, $index:literal) => {
        concat!(
            "SELECT ",
            user_columns!(),
            ", ",
            $key,
            " AS sort_key FROM users u \
            WHERE u.org_id = ?1 AND u.user_id_key = ?2 \
            UNION ALL SELECT ",
            user_columns!(),
            ", ",
            $key,
            " AS sort_key FROM users u \
            WHERE u.org_id = ?1 AND u.email_key = ?2 AND u.user_id_key <> ?2"
        )
    };
}

/// The rowids of the name documents that match: ?1 match, ?2 at most.
const MATCH_NAMES: &str = "SELECT rowid FROM user_search_fts WHERE user_search_fts MATCH ?1 LIMIT ?2";
/// The users whose metadata field matches: ?1 match, ?2 at most, ?3 org, ?4 field, ?5 needle.
const MATCH_METADATA: &str = "SELECT m.user_id FROM user_metadata_fts f \
     CROSS JOIN user_metadata m ON m.id = f.rowid \
     WHERE user_metadata_fts MATCH ?1 AND m.org_id = ?3 AND m.field = ?4 AND instr(m.value_key, ?5) > 0 LIMIT ?2";

/// Sort keys of what the indexes found: [by name-document rowids (?1 JSON array,
/// ?2 org), by user ids (?1 JSON array of hex ids, ?2 org), exact user ID or
/// email (?1 org, ?2 key)].
macro_rules! keys_sql {
    ($key:literal, $index:literal) => {
        [
            concat!(
                "SELECT u.id, ",
                $key,
                " AS sort_key FROM json_each(?1) j \
                CROSS JOIN user_search s ON s.id = j.value CROSS JOIN users u ON u.id = s.user_id \
                WHERE u.org_id = ?2"
            ),
            concat!(
                "SELECT u.id, ",
                $key,
                " AS sort_key FROM json_each(?1) j \
                CROSS JOIN users u ON u.id = unhex(j.value) WHERE u.org_id = ?2"
            ),
            concat!(
                "SELECT u.id, ",
                $key,
                " AS sort_key FROM users u WHERE u.org_id = ?1 AND u.user_id_key = ?2 \
                UNION SELECT u.id, ",
                $key,
                " AS sort_key FROM users u WHERE u.org_id = ?1 AND u.email_key = ?2"
            ),
        ]
    };
}

fn sort_key(row: &SqliteRow, sort: SortColumn) -> Result<SortKey, sqlx::Error> {
    Ok(match sort {
        SortColumn::Role => SortKey::Int(row.try_get("sort_key")?),
        _ => SortKey::Text(row.try_get::<Option<String>, _>("sort_key")?.unwrap_or_default()),
    })
}

/// An FTS5 query for a substring: one quoted phrase (trigrams in sequence).
fn phrase(needle: &str) -> String {
    format!("\"{}\"", needle.replace('"', "\"\""))
}

fn hex_ids<'a, I: Into<Uuid> + Copy + 'a>(ids: impl IntoIterator<Item = &'a I>) -> String {
    Value::Array(ids.into_iter().map(|id| Value::String((*id).into().simple().to_string())).collect()).to_string()
}

fn status(s: UserStatus) -> &'static str {
    s.as_str()
}

#[async_trait]
impl DirectoryStore for SqliteStore {
    async fn users_sorted(&self, seek: &Seek<'_>) -> StoreResult<Vec<(User, SortKey)>> {
        let sql: [&'static str; 4] = by_sort!(seek.sort, walk_sql);
        let (kind, needle, field) = match seek.filter {
            Filter::All => (0i64, "", ""),
            Filter::Text { needle } => (1, needle.as_str(), ""),
            Filter::Metadata { field, needle } => (2, needle.as_str(), field.as_str()),
        };
        let i = usize::from(seek.descending) + if seek.after.is_some() { 2 } else { 0 };
        let mut q = sqlx::query(sql[i]).bind(seek.org_id).bind(kind).bind(needle).bind(field);
        q = match &seek.after {
            None => q.bind(0i64).bind(0i64),
            Some((SortKey::Int(k), id)) => q.bind(*k).bind(*id),
            Some((SortKey::Text(k), id)) => q.bind(k.clone()).bind(*id),
            Some((SortKey::Time(k), id)) => q.bind(*k).bind(*id),
        };
        let rows = q.bind(i64::from(seek.limit)).fetch_all(&self.pool).await.map_err(map_err)?;
        rows.iter()
            .map(|r| Ok((user_from_row(r)?, sort_key(r, seek.sort)?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(map_err)
    }

    async fn search_candidates(
        &self,
        org_id: OrgId,
        filter: &Filter,
        sort: SortColumn,
        limit: u32,
    ) -> StoreResult<Candidates> {
        let sql: [&'static str; 3] = by_sort!(sort, keys_sql);
        let read = |rows: Vec<SqliteRow>| -> StoreResult<Vec<(UserId, SortKey)>> {
            rows.iter()
                .map(|r| Ok((r.try_get("id")?, sort_key(r, sort)?)))
                .collect::<Result<_, sqlx::Error>>()
                .map_err(map_err)
        };
        // The index is asked once, for at most one more than wanted; keys are
        // read only when few matched.
        let over = i64::from(limit) + 1;
        match filter {
            Filter::All => Ok(Candidates::NoIndex),
            Filter::Text { needle } | Filter::Metadata { needle, .. } if needle.chars().count() < 3 => {
                Ok(Candidates::NoIndex)
            }
            Filter::Text { needle } => {
                let rowids: Vec<i64> = sqlx::query_scalar(MATCH_NAMES)
                    .bind(phrase(needle))
                    .bind(over)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err)?;
                if rowids.len() as i64 >= over {
                    return Ok(Candidates::TooMany);
                }
                let mut found = read(
                    sqlx::query(sql[0])
                        .bind(serde_json::to_string(&rowids).unwrap_or_default())
                        .bind(org_id)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(map_err)?,
                )?;
                let exact =
                    sqlx::query(sql[2]).bind(org_id).bind(needle).fetch_all(&self.pool).await.map_err(map_err)?;
                found.extend(read(exact)?);
                Ok(Candidates::Found(found))
            }
            Filter::Metadata { field, needle } => {
                let users: Vec<UserId> = sqlx::query_scalar(MATCH_METADATA)
                    .bind(phrase(needle))
                    .bind(over)
                    .bind(org_id)
                    .bind(field)
                    .bind(needle)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err)?;
                if users.len() as i64 >= over {
                    return Ok(Candidates::TooMany);
                }
                let rows = sqlx::query(sql[1])
                    .bind(hex_ids(&users))
                    .bind(org_id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(Candidates::Found(read(rows)?))
            }
        }
    }

    async fn users_exact(&self, org_id: OrgId, key: &str, sort: SortColumn) -> StoreResult<Vec<(User, SortKey)>> {
        let sql: &'static str = by_sort!(sort, exact_sql);
        let rows = sqlx::query(sql).bind(org_id).bind(key).fetch_all(&self.pool).await.map_err(map_err)?;
        rows.iter()
            .map(|r| Ok((user_from_row(r)?, sort_key(r, sort)?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(map_err)
    }

    async fn users_by_ids(&self, org_id: OrgId, ids: &[UserId]) -> StoreResult<Vec<User>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            // json_each first: a lookup by id per wanted user, never a scan of the organization.
            " FROM json_each(?2) j CROSS JOIN users u ON u.id = unhex(j.value) WHERE u.org_id = ?1"
        ))
        .bind(org_id)
        .bind(hex_ids(ids))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.iter().map(user_from_row).collect::<Result<_, _>>().map_err(map_err)
    }
}

#[async_trait]
impl ImportStore for SqliteStore {
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
                 (SELECT group_concat(role, ',') FROM user_roles r WHERE r.user_id = u.id) AS roles, \
                 (SELECT json_group_array(hex(gm.group_id)) FROM group_members gm WHERE gm.user_id = u.id) AS groups \
                 FROM json_each(?2) j CROSS JOIN users u ON u.org_id = ?1 AND u.user_id_key = j.value",
            )
            .bind(org_id)
            .bind(serde_json::to_string(chunk).unwrap_or_default())
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
            for r in rows {
                existing.users.push(existing_from_row(&r).map_err(map_err)?);
            }
        }
        for chunk in email_keys.chunks(BATCH) {
            let rows = sqlx::query(
                "SELECT u.email_key, u.user_id_key FROM json_each(?2) j \
                 CROSS JOIN users u ON u.org_id = ?1 AND u.email_key = j.value",
            )
            .bind(org_id)
            .bind(serde_json::to_string(chunk).unwrap_or_default())
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
            for r in rows {
                existing.email_owners.push((r.try_get(0).map_err(map_err)?, r.try_get(1).map_err(map_err)?));
            }
        }
        let rows = sqlx::query("SELECT name_key, id FROM groups WHERE org_id = ?")
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
        // A big page cache for this one transaction: index pages stay in memory
        // until the commit instead of being spilled to the WAL again and again.
        let mut conn = self.pool.acquire().await.map_err(map_err)?;
        sqlx::query("PRAGMA cache_size = -1048576").execute(&mut *conn).await.map_err(map_err)?;
        let result = import_in(&mut conn, plan, progress).await;
        sqlx::query("PRAGMA cache_size = -2000").execute(&mut *conn).await.map_err(map_err)?;
        result
    }

    async fn export_users(&self, org_id: OrgId, after: Option<UserId>, limit: u32) -> StoreResult<Vec<ExportedUser>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            ", u.password_hash, (SELECT json_group_array(g.name) FROM group_members gm \
               JOIN groups g ON g.id = gm.group_id WHERE gm.user_id = u.id) AS group_names \
             FROM users u WHERE u.org_id = ?1 AND u.id > ?2 ORDER BY u.id LIMIT ?3"
        ))
        .bind(org_id)
        .bind(after.map_or(Uuid::nil(), UserId::uuid))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|r| {
                let names: String = r.try_get("group_names")?;
                let mut groups: Vec<String> = serde_json::from_str(&names).unwrap_or_default();
                groups.sort();
                Ok(ExportedUser { user: user_from_row(r)?, groups, password_hash: r.try_get("password_hash")? })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(map_err)
    }
}

/// Writes an import in one transaction on `conn`.
async fn import_in(
    conn: &mut sqlx::SqliteConnection,
    plan: &ImportPlan,
    progress: &(dyn Fn(u64) + Send + Sync),
) -> StoreResult<()> {
    let mut tx = sqlx::Connection::begin_with(conn, "BEGIN IMMEDIATE").await.map_err(map_err)?;
    for g in &plan.new_groups {
        sqlx::query(
            "INSERT INTO groups (id, org_id, name, name_key, description, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, '', ?5, ?5)",
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
        let rows: Vec<Value> = chunk.iter().map(user_json).collect();
        sqlx::query(
            "INSERT INTO users (id, org_id, user_id, user_id_key, email, email_key, first_name, first_name_key, \
             last_name, last_name_key, phone, status, metadata, password_hash, password_changed_at, created_at, \
             updated_at, role_rank) \
             SELECT unhex(j.value ->> 0), ?1, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4, \
             j.value ->> 5, j.value ->> 6, j.value ->> 7, j.value ->> 8, j.value ->> 9, j.value ->> 10, \
             j.value -> 11, j.value ->> 12, CASE WHEN j.value ->> 12 IS NULL THEN NULL ELSE ?2 END, ?2, ?2, \
             j.value ->> 13 \
             FROM json_each(?3) j",
        )
        .bind(plan.org_id)
        .bind(plan.at)
        .bind(Value::Array(rows).to_string())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        write_sets(&mut tx, plan, chunk, false).await?;
        done += chunk.len() as u64;
        progress(done);
    }
    for chunk in plan.updates.chunks(BATCH) {
        let rows: Vec<Value> = chunk.iter().map(user_json).collect();
        sqlx::query(
            "UPDATE users SET user_id = j.value ->> 1, email = j.value ->> 3, email_key = j.value ->> 4, \
             first_name = j.value ->> 5, first_name_key = j.value ->> 6, last_name = j.value ->> 7, \
             last_name_key = j.value ->> 8, phone = j.value ->> 9, status = j.value ->> 10, \
             metadata = j.value -> 11, password_hash = COALESCE(j.value ->> 12, users.password_hash), \
             password_changed_at = CASE WHEN j.value ->> 12 IS NULL THEN users.password_changed_at ELSE ?1 END, \
             updated_at = ?1 \
             FROM json_each(?2) j WHERE users.id = unhex(j.value ->> 0)",
        )
        .bind(plan.at)
        .bind(Value::Array(rows).to_string())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        write_sets(&mut tx, plan, chunk, true).await?;
        done += chunk.len() as u64;
        progress(done);
    }
    tx.commit().await.map_err(map_err)
}

/// One user as a JSON array, in the column order the import statements read.
fn user_json(u: &ImportedUser) -> Value {
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
        status(u.status),
        Value::Object(u.metadata.clone()),
        u.password_hash,
        role_rank(&u.roles),
    ])
}

/// Writes the roles, groups and metadata entries of a batch (replacing those
/// that changed, for updates).
async fn write_sets(
    tx: &mut Transaction<'_, Sqlite>,
    plan: &ImportPlan,
    chunk: &[ImportedUser],
    replace: bool,
) -> StoreResult<()> {
    let roles: Vec<&ImportedUser> = chunk.iter().filter(|u| u.roles_changed).collect();
    let groups: Vec<&ImportedUser> = chunk.iter().filter(|u| u.groups_changed).collect();
    let metadata: Vec<&ImportedUser> = chunk.iter().filter(|u| u.metadata_changed).collect();
    if replace {
        for (users, sql) in [
            (&roles, "DELETE FROM user_roles WHERE user_id IN (SELECT unhex(value) FROM json_each(?))"),
            (&groups, "DELETE FROM group_members WHERE user_id IN (SELECT unhex(value) FROM json_each(?))"),
            (&metadata, "DELETE FROM user_metadata WHERE user_id IN (SELECT unhex(value) FROM json_each(?))"),
        ] {
            if !users.is_empty() {
                sqlx::query(sql)
                    .bind(hex_ids(users.iter().map(|u| &u.id)))
                    .execute(&mut **tx)
                    .await
                    .map_err(map_err)?;
            }
        }
    }
    let role_rows: Vec<Value> = roles
        .iter()
        .flat_map(|u| u.roles.iter().map(|r| json!([u.id.uuid().simple().to_string(), r.as_str()])))
        .collect();
    if !role_rows.is_empty() {
        sqlx::query(
            "INSERT INTO user_roles (user_id, role) SELECT unhex(j.value ->> 0), j.value ->> 1 FROM json_each(?) j",
        )
        .bind(Value::Array(role_rows).to_string())
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
    }
    let group_rows: Vec<Value> = groups
        .iter()
        .flat_map(|u| u.groups.iter().map(|g| json!([g.uuid().simple().to_string(), u.id.uuid().simple().to_string()])))
        .collect();
    if !group_rows.is_empty() {
        sqlx::query(
            "INSERT INTO group_members (group_id, user_id, added_at) \
             SELECT unhex(j.value ->> 0), unhex(j.value ->> 1), ?1 FROM json_each(?2) j",
        )
        .bind(plan.at)
        .bind(Value::Array(group_rows).to_string())
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
    }
    let entry_rows: Vec<Value> = metadata
        .iter()
        .flat_map(|u| u.metadata_entries.iter().map(|(f, v)| json!([u.id.uuid().simple().to_string(), f, v])))
        .collect();
    if !entry_rows.is_empty() {
        sqlx::query(
            "INSERT INTO user_metadata (user_id, org_id, field, value_key) \
             SELECT unhex(j.value ->> 0), ?1, j.value ->> 1, j.value ->> 2 FROM json_each(?2) j",
        )
        .bind(plan.org_id)
        .bind(Value::Array(entry_rows).to_string())
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
    }
    Ok(())
}

fn existing_from_row(r: &SqliteRow) -> Result<ExistingUser, sqlx::Error> {
    let roles: Option<String> = r.try_get("roles")?;
    let mut roles: Vec<Role> = roles.unwrap_or_default().split(',').filter_map(|r| r.parse().ok()).collect();
    roles.sort();
    let groups: String = r.try_get("groups")?;
    let groups: Vec<String> = serde_json::from_str(&groups).unwrap_or_default();
    let groups = groups.iter().filter_map(|h| Uuid::try_parse(h).ok().map(GroupId::from)).collect();
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
        groups,
        metadata: metadata_from_row(r)?,
        password_hash: r.try_get("password_hash")?,
    })
}

/// Replaces a user's custom metadata values and their search entries, inside a transaction.
pub(crate) async fn write_metadata_on(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    org_id: OrgId,
    user: UserId,
    values: &Metadata,
    entries: &[(String, String)],
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let done = sqlx::query("UPDATE users SET metadata = ?1, updated_at = ?2 WHERE id = ?3 AND org_id = ?4")
        .bind(Value::Object(values.clone()).to_string())
        .bind(at)
        .bind(user)
        .bind(org_id)
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
    if done.rows_affected() == 0 {
        return Err(usher_core::StoreError::NotFound);
    }
    sqlx::query("DELETE FROM user_metadata WHERE user_id = ?").bind(user).execute(&mut **tx).await.map_err(map_err)?;
    for (field, value_key) in entries {
        sqlx::query("INSERT INTO user_metadata (user_id, org_id, field, value_key) VALUES (?, ?, ?, ?)")
            .bind(user)
            .bind(org_id)
            .bind(field)
            .bind(value_key)
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
    }
    Ok(())
}
