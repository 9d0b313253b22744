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
use usher_domain::{OrgId, Role, UserId};
use uuid::Uuid;

use super::{
    Db, DbRow, Engine,
    bulk::{self, in_keys},
    id_list,
    rows::{self, Read, run},
};

/// $1 org, $2 user ID keys.
const EXISTING: &str = concat!(
    "SELECT u.id, u.user_id, u.user_id_key, u.email, u.first_name, u.last_name, u.phone, u.status, u.metadata, \
     u.password_hash, (SELECT string_agg(role, ',') FROM user_roles r WHERE r.user_id = u.id) AS roles \
     FROM users u WHERE u.org_id = $1 AND u.user_id_key ",
    in_keys!("$2")
);

const MEMBERSHIPS: &str = concat!("SELECT user_id, group_id FROM group_members WHERE user_id ", in_ids!("$1"));

/// $1 org, $2 email keys.
const EMAIL_OWNERS: &str =
    concat!("SELECT email_key, user_id_key FROM users WHERE org_id = $1 AND email_key ", in_keys!("$2"));

/// $1 org, $2 after (user id), $3 limit.
const EXPORT: &str = concat!(
    "SELECT ",
    user_columns!(),
    ", u.password_hash FROM users u WHERE u.org_id = $1 AND u.id > $2 ORDER BY u.id LIMIT $3"
);

const EXPORT_GROUPS: &str = concat!(
    "SELECT gm.user_id, g.name FROM group_members gm JOIN groups g ON g.id = gm.group_id WHERE gm.user_id ",
    in_ids!("$1"),
    " ORDER BY g.name"
);

const INSERT_GROUP: &str = "INSERT INTO groups (id, org_id, name, name_key, description, created_at, updated_at) \
    VALUES ($1, $2, $3, $4, '', $5, $5)";

/// What an update replaces, for the users in $1: [roles, groups, metadata entries].
const CLEAR: [&str; 3] = [
    concat!("DELETE FROM user_roles WHERE user_id ", in_ids!("$1")),
    concat!("DELETE FROM group_members WHERE user_id ", in_ids!("$1")),
    concat!("DELETE FROM user_metadata WHERE user_id ", in_ids!("$1")),
];

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
            let mut users = self.all(|| sqlx::query(EXISTING).bind(org_id).bind(&keys), existing_user).await?;
            if users.is_empty() {
                continue;
            }
            let ids = id_list(users.iter().map(|u| u.id.uuid()));
            let mut groups = by_user(self.all(|| sqlx::query(MEMBERSHIPS).bind(&ids), pair).await?);
            for u in &mut users {
                u.groups = groups.remove(&u.id).unwrap_or_default();
            }
            existing.users.append(&mut users);
        }
        for chunk in email_keys.chunks(bulk::BATCH) {
            let keys = bulk::key_list(chunk);
            existing
                .email_owners
                .append(&mut self.all(|| sqlx::query(EMAIL_OWNERS).bind(org_id).bind(&keys), pair).await?);
        }
        let query = || sqlx::query("SELECT name_key, id FROM groups WHERE org_id = $1").bind(org_id);
        existing.groups.append(&mut self.all(query, pair).await?);
        Ok(existing)
    }

    async fn apply_import(&self, plan: &ImportPlan, progress: &(dyn Fn(u64) + Send + Sync)) -> StoreResult<()> {
        bulk::apply(self, plan, progress).await
    }

    async fn export_users(&self, org_id: OrgId, after: Option<UserId>, limit: u32) -> StoreResult<Vec<ExportedUser>> {
        let after = after.unwrap_or(UserId::from_uuid(Uuid::nil()));
        let query = || sqlx::query(EXPORT).bind(org_id).bind(after).bind(i64::from(limit));
        let mut users = self.all(query, exported_user).await?;
        if users.is_empty() {
            return Ok(users);
        }
        let ids = id_list(users.iter().map(|e| e.user.id.uuid()));
        let mut groups = by_user(self.all(|| sqlx::query(EXPORT_GROUPS).bind(&ids), pair).await?);
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
        let query = sqlx::query(INSERT_GROUP).bind(g.id).bind(plan.org_id).bind(&g.name).bind(&g.name_key);
        run(&mut **tx, query.bind(plan.at)).await?;
    }
    let mut done = 0u64;
    for (users, update) in [(&plan.inserts, false), (&plan.updates, true)] {
        for chunk in users.chunks(bulk::BATCH) {
            bulk::write_users(tx, plan, chunk, update).await?;
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
        let id = |u: &ImportedUser| u.id.uuid();
        let changed = [roles().map(id).collect::<Vec<_>>(), groups().map(id).collect(), metadata().map(id).collect()];
        for (sql, users) in CLEAR.into_iter().zip(changed) {
            if !users.is_empty() {
                run(&mut **tx, sqlx::query(sql).bind(id_list(users))).await?;
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
        let sql = concat!("INSERT INTO user_roles (user_id, role) SELECT ids.id, $2 FROM ", id_rows!("$1"));
        run(&mut **tx, sqlx::query(sql).bind(id_list(users)).bind(role.as_str())).await?;
    }
    let members: Vec<(Uuid, Uuid)> =
        groups().flat_map(|u| u.groups.iter().map(move |g| (g.uuid(), u.id.uuid()))).collect();
    bulk::insert_members(tx, plan.at, &members).await?;
    let entries: Vec<(Uuid, &str, &str)> = metadata()
        .flat_map(|u| u.metadata_entries.iter().map(move |(f, v)| (u.id.uuid(), f.as_str(), v.as_str())))
        .collect();
    bulk::insert_entries(tx, plan.org_id.uuid(), &entries).await
}

/// The first two columns of a row.
fn pair<A, B>(row: &DbRow) -> Read<(A, B)>
where
    A: for<'r> sqlx::Decode<'r, Engine> + sqlx::Type<Engine>,
    B: for<'r> sqlx::Decode<'r, Engine> + sqlx::Type<Engine>,
{
    Ok((row.try_get(0)?, row.try_get(1)?))
}

/// The second values of (user, value) pairs, by user.
fn by_user<T>(pairs: Vec<(UserId, T)>) -> HashMap<UserId, Vec<T>> {
    let mut by_user: HashMap<UserId, Vec<T>> = HashMap::new();
    for (user, value) in pairs {
        by_user.entry(user).or_default().push(value);
    }
    by_user
}

fn existing_user(r: &DbRow) -> Read<ExistingUser> {
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
fn exported_user(r: &DbRow) -> Read<ExportedUser> {
    Ok(ExportedUser { user: rows::user(r)?, groups: Vec::new(), password_hash: r.try_get("password_hash")? })
}
