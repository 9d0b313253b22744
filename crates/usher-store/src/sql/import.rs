//! Bulk import and export of users. The lookups, the export and the sets an
//! import rewrites are the same on both engines; how a batch of users, group
//! memberships and metadata entries is bound, and how the import's transaction
//! is set up, are the engine's (`bulk.rs`).

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use sqlx::{Row, Transaction};
use usher_core::{
    import::{Existing, ExistingUser, ExportedUser, ImportPlan, ImportedUser},
    store::{ImportStore, StoreResult, UserStatus},
};
use usher_domain::{GroupId, OrgId, Role, UserId};
use uuid::Uuid;

use super::{
    Db, DbRow, Engine,
    bulk::{self, in_keys},
    id_list, map_err, rows,
};

#[async_trait]
impl ImportStore for Db {
    async fn import_lookup(
        &self,
        org_id: OrgId,
        user_id_keys: &[String],
        email_keys: &[String],
    ) -> StoreResult<Existing> {
        let mut existing = Existing::default();
        for chunk in user_id_keys.chunks(bulk::BATCH) {
            let keys = bulk::key_list(chunk);
            let found = self
                .read(|| {
                    sqlx::query(concat!(
                        "SELECT u.id, u.user_id, u.user_id_key, u.email, u.first_name, u.last_name, u.phone, \
                         u.status, u.metadata, u.password_hash, \
                         (SELECT string_agg(role, ',') FROM user_roles r WHERE r.user_id = u.id) AS roles \
                         FROM users u WHERE u.org_id = $1 AND u.user_id_key ",
                        in_keys!("$2")
                    ))
                    .bind(org_id)
                    .bind(&keys)
                    .fetch_all(&self.pool)
                })
                .await
                .map_err(map_err)?;
            let mut users = rows::all(found, existing_user)?;
            if users.is_empty() {
                continue;
            }
            let ids = id_list(users.iter().map(|u| u.id.uuid()));
            let found = self
                .read(|| {
                    sqlx::query(concat!("SELECT user_id, group_id FROM group_members WHERE user_id ", in_ids!("$1")))
                        .bind(&ids)
                        .fetch_all(&self.pool)
                })
                .await
                .map_err(map_err)?;
            let mut groups: HashMap<UserId, Vec<GroupId>> = HashMap::new();
            for r in &found {
                groups.entry(r.try_get(0).map_err(map_err)?).or_default().push(r.try_get(1).map_err(map_err)?);
            }
            for u in &mut users {
                u.groups = groups.remove(&u.id).unwrap_or_default();
            }
            existing.users.append(&mut users);
        }
        for chunk in email_keys.chunks(bulk::BATCH) {
            let keys = bulk::key_list(chunk);
            let found = self
                .read(|| {
                    sqlx::query(concat!(
                        "SELECT email_key, user_id_key FROM users WHERE org_id = $1 AND email_key ",
                        in_keys!("$2")
                    ))
                    .bind(org_id)
                    .bind(&keys)
                    .fetch_all(&self.pool)
                })
                .await
                .map_err(map_err)?;
            for r in found {
                existing.email_owners.push((r.try_get(0).map_err(map_err)?, r.try_get(1).map_err(map_err)?));
            }
        }
        let found = self
            .read(|| {
                sqlx::query("SELECT name_key, id FROM groups WHERE org_id = $1").bind(org_id).fetch_all(&self.pool)
            })
            .await
            .map_err(map_err)?;
        for r in found {
            existing.groups.push((r.try_get(0).map_err(map_err)?, r.try_get(1).map_err(map_err)?));
        }
        Ok(existing)
    }

    async fn apply_import(&self, plan: &ImportPlan, progress: &(dyn Fn(u64) + Send + Sync)) -> StoreResult<()> {
        bulk::apply(self, plan, progress).await
    }

    async fn export_users(&self, org_id: OrgId, after: Option<UserId>, limit: u32) -> StoreResult<Vec<ExportedUser>> {
        let after = after.unwrap_or(UserId::from_uuid(Uuid::nil()));
        let found = self
            .read(|| {
                sqlx::query(concat!(
                    "SELECT ",
                    user_columns!(),
                    ", u.password_hash FROM users u WHERE u.org_id = $1 AND u.id > $2 ORDER BY u.id LIMIT $3"
                ))
                .bind(org_id)
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
            })
            .await
            .map_err(map_err)?;
        let mut users = rows::all(found, exported_user)?;
        if users.is_empty() {
            return Ok(users);
        }
        let ids = id_list(users.iter().map(|e| e.user.id.uuid()));
        let found = self
            .read(|| {
                sqlx::query(concat!(
                    "SELECT gm.user_id, g.name FROM group_members gm JOIN groups g ON g.id = gm.group_id \
                     WHERE gm.user_id ",
                    in_ids!("$1"),
                    " ORDER BY g.name"
                ))
                .bind(&ids)
                .fetch_all(&self.pool)
            })
            .await
            .map_err(map_err)?;
        let mut groups: HashMap<UserId, Vec<String>> = HashMap::new();
        for r in &found {
            groups.entry(r.try_get(0).map_err(map_err)?).or_default().push(r.try_get(1).map_err(map_err)?);
        }
        for e in &mut users {
            e.groups = groups.remove(&e.user.id).unwrap_or_default();
        }
        Ok(users)
    }
}

/// Writes an import plan inside the transaction the engine set up for it
/// (`bulk::apply`): new groups, then the users in batches with their sets,
/// calling `progress` after each batch.
pub(super) async fn write_plan(
    tx: &mut Transaction<'_, Engine>,
    plan: &ImportPlan,
    progress: &(dyn Fn(u64) + Send + Sync),
) -> StoreResult<()> {
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
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
    }
    let mut done = 0u64;
    for (users, update) in [(&plan.inserts, false), (&plan.updates, true)] {
        for chunk in users.chunks(bulk::BATCH) {
            if update {
                bulk::update_users(tx, plan, chunk).await?;
            } else {
                bulk::insert_users(tx, plan, chunk).await?;
            }
            write_sets(tx, plan, chunk, update).await?;
            done += chunk.len() as u64;
            progress(done);
        }
    }
    Ok(())
}

/// Writes the roles, groups and metadata entries of a batch (replacing those
/// that changed, for updates).
async fn write_sets(
    tx: &mut Transaction<'_, Engine>,
    plan: &ImportPlan,
    chunk: &[ImportedUser],
    replace: bool,
) -> StoreResult<()> {
    let roles = || chunk.iter().filter(|u| u.roles_changed);
    let groups = || chunk.iter().filter(|u| u.groups_changed);
    let metadata = || chunk.iter().filter(|u| u.metadata_changed);
    if replace {
        for (users, sql) in [
            (
                roles().map(|u| u.id.uuid()).collect::<Vec<_>>(),
                concat!("DELETE FROM user_roles WHERE user_id ", in_ids!("$1")),
            ),
            (
                groups().map(|u| u.id.uuid()).collect(),
                concat!("DELETE FROM group_members WHERE user_id ", in_ids!("$1")),
            ),
            (
                metadata().map(|u| u.id.uuid()).collect(),
                concat!("DELETE FROM user_metadata WHERE user_id ", in_ids!("$1")),
            ),
        ] {
            if !users.is_empty() {
                sqlx::query(sql).bind(id_list(users)).execute(&mut **tx).await.map_err(map_err)?;
            }
        }
    }
    // One statement per role (there are four), each for every user holding it.
    let mut holders: BTreeMap<Role, Vec<Uuid>> = BTreeMap::new();
    for u in roles() {
        for role in &u.roles {
            holders.entry(*role).or_default().push(u.id.uuid());
        }
    }
    for (role, users) in holders {
        sqlx::query(concat!("INSERT INTO user_roles (user_id, role) SELECT ids.id, $2 FROM ", id_rows!("$1")))
            .bind(id_list(users))
            .bind(role.as_str())
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
    }
    let members: Vec<(Uuid, Uuid)> =
        groups().flat_map(|u| u.groups.iter().map(move |g| (g.uuid(), u.id.uuid()))).collect();
    bulk::insert_members(tx, plan.at, &members).await?;
    let entries: Vec<(Uuid, &str, &str)> = metadata()
        .flat_map(|u| u.metadata_entries.iter().map(move |(f, v)| (u.id.uuid(), f.as_str(), v.as_str())))
        .collect();
    bulk::insert_entries(tx, plan.org_id.uuid(), &entries).await
}

fn existing_user(r: &DbRow) -> Result<ExistingUser, sqlx::Error> {
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
        groups: Vec::new(),
        metadata: rows::metadata(r)?,
        password_hash: r.try_get("password_hash")?,
    })
}

/// A user selected with `user_columns!()` and the password hash; groups come after.
fn exported_user(r: &DbRow) -> Result<ExportedUser, sqlx::Error> {
    Ok(ExportedUser { user: rows::user(r)?, groups: Vec::new(), password_hash: r.try_get("password_hash")? })
}
