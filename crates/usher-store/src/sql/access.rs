//! Roles, groups and apps. A set (a group's members, an app's people or
//! groups) is read or replaced in one statement whatever its size, its ids
//! bound as one list. Replacing a set locks its parent row first, and role
//! changes lock the organization, so changes of one set run one after the
//! other. Group and app name conflicts are named by `map_err`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Row, Transaction};
use usher_core::{
    access::{App, AppAccess, AppRoleOf, Group, SetChange, StoredRoles},
    conflict::constraint,
    store::{AccessStore, StoreError, StoreResult, User},
};
use usher_domain::{AppId, AppRole, GroupId, OrgId, Role, UserId};

use super::{
    Db, DbRow, Engine, Lock, id_list, lock, map_err,
    rows::{self, Query, Read, run},
};

/// `SELECT` a group's columns (from `g`, with its member count), then `rest`.
macro_rules! select_groups {
    ($($rest:expr),+) => { concat!(
        "SELECT g.id AS g_id, g.org_id AS g_org_id, g.name AS g_name, g.description AS g_description, \
         g.created_at AS g_created_at, g.updated_at AS g_updated_at, \
         (SELECT count(*) FROM group_members gm WHERE gm.group_id = g.id) AS g_member_count",
        $($rest),+
    ) };
}

/// `SELECT` an app's columns (from `a`), then `rest`.
macro_rules! select_apps {
    ($($rest:expr),+) => { concat!(
        "SELECT a.id AS a_id, a.org_id AS a_org_id, a.name AS a_name, a.description AS a_description, \
         a.url AS a_url, a.created_at AS a_created_at, a.updated_at AS a_updated_at",
        $($rest),+
    ) };
}

/// `SELECT` a user's columns (from `u`), then `rest`.
macro_rules! select_users {
    ($($rest:expr),+) => { concat!("SELECT ", user_columns!(), $($rest),+) };
}

/// A user's apps ($1) of which no one else is an owner.
const SOLELY_OWNED: &str = "SELECT a.id, a.name FROM app_roles r JOIN apps a ON a.id = r.app_id WHERE r.user_id = $1 \
    AND r.role = 'app_owner' AND NOT EXISTS (SELECT 1 FROM app_roles o WHERE o.app_id = r.app_id \
    AND o.role = 'app_owner' AND o.user_id <> $1) ORDER BY a.name_key";
const ORG_USERS: &str =
    select_users!(" FROM users u WHERE u.id ", in_ids!("$2"), " AND u.org_id = $1 ORDER BY u.user_id_key");

const INSERT_GROUP: &str = "INSERT INTO groups (id, org_id, name, name_key, description, created_at, updated_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7)";
const GROUP: &str = select_groups!(" FROM groups g WHERE g.id = $1 AND g.org_id = $2");
const GROUPS_PAGE: &str = select_groups!(
    " FROM groups g WHERE g.org_id = $1 AND ($2 IS NULL OR g.name_key > $2) ORDER BY g.name_key LIMIT $3"
);
const ORG_GROUPS: &str =
    select_groups!(" FROM groups g WHERE g.id ", in_ids!("$2"), " AND g.org_id = $1 ORDER BY g.name_key");
const UPDATE_GROUP: &str =
    "UPDATE groups SET name = $1, name_key = $2, description = $3, updated_at = $4 WHERE id = $5 AND org_id = $6";
const GROUPS_OF: &str =
    select_groups!(" FROM group_members m JOIN groups g ON g.id = m.group_id WHERE m.user_id = $1 ORDER BY g.name_key");

const GROUP_MEMBERS: &str = select_users!(
    " FROM group_members m JOIN users u ON u.id = m.user_id \
     WHERE m.group_id = $1 AND ($2 IS NULL OR u.user_id_key > $2) ORDER BY u.user_id_key LIMIT $3"
);
/// $1 group, $2 the members it is to have, $3 added at (the ones new to it).
const REMOVE_MEMBERS: &str =
    concat!("DELETE FROM group_members WHERE group_id = $1 AND NOT (user_id ", in_ids!("$2"), ") RETURNING user_id");
const ADD_MEMBERS: &str = concat!(
    "INSERT INTO group_members (group_id, user_id, added_at) SELECT $1, ids.id, $3 FROM ",
    id_rows!("$2"),
    " WHERE true ON CONFLICT DO NOTHING RETURNING user_id"
);
const ADD_MEMBER: &str =
    "INSERT INTO group_members (group_id, user_id, added_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";

const INSERT_APP: &str = "INSERT INTO apps (id, org_id, name, name_key, description, url, created_at, updated_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
const APP: &str = select_apps!(" FROM apps a WHERE a.id = $1 AND a.org_id = $2");
const APPS_PAGE: &str =
    select_apps!(" FROM apps a WHERE a.org_id = $1 AND ($2 IS NULL OR a.name_key > $2) ORDER BY a.name_key LIMIT $3");
const ORG_APPS: &str =
    select_apps!(" FROM apps a WHERE a.id ", in_ids!("$2"), " AND a.org_id = $1 ORDER BY a.name_key");
const UPDATE_APP: &str = "UPDATE apps SET name = $1, name_key = $2, description = $3, url = $4, updated_at = $5 \
    WHERE id = $6 AND org_id = $7";
/// The apps a user ($1) reaches, with how; $2 after (a name key), $3 limit.
const APPS_OF: &str = select_apps!(
    ", EXISTS (SELECT 1 FROM app_groups ag JOIN group_members m ON m.group_id = ag.group_id \
     WHERE ag.app_id = a.id AND m.user_id = $1) AS via_group, \
     EXISTS (SELECT 1 FROM app_roles r WHERE r.app_id = a.id AND r.role = 'app_owner' AND r.user_id = $1) AS owner, \
     EXISTS (SELECT 1 FROM app_roles r WHERE r.app_id = a.id AND r.role = 'app_developer' AND r.user_id = $1) \
     AS developer FROM apps a WHERE a.id IN ( SELECT ag.app_id FROM group_members m JOIN app_groups ag \
     ON ag.group_id = m.group_id WHERE m.user_id = $1 UNION SELECT r.app_id FROM app_roles r WHERE r.user_id = $1) \
     AND ($2 IS NULL OR a.name_key > $2) ORDER BY a.name_key LIMIT $3"
);

const APP_PEOPLE: &str = concat!(
    "SELECT ar.role AS app_role, ",
    user_columns!(),
    " FROM app_roles ar JOIN users u ON u.id = ar.user_id WHERE ar.app_id = $1 ORDER BY u.user_id_key, ar.role"
);
/// $1 app, $2 role, $3 the people it is to have, $4 added at (the ones new to it).
const REMOVE_PEOPLE: &str = concat!(
    "DELETE FROM app_roles WHERE app_id = $1 AND role = $2 AND NOT (user_id ",
    in_ids!("$3"),
    ") RETURNING user_id"
);
const ADD_PEOPLE: &str = concat!(
    "INSERT INTO app_roles (app_id, user_id, role, created_at) SELECT $1, ids.id, $2, $4 FROM ",
    id_rows!("$3"),
    " WHERE true ON CONFLICT DO NOTHING RETURNING user_id"
);

const APP_GROUPS: &str =
    select_groups!(" FROM app_groups ag JOIN groups g ON g.id = ag.group_id WHERE ag.app_id = $1 ORDER BY g.name_key");
/// $1 app, $2 the groups it is to have, $3 added at (the ones new to it).
const REMOVE_APP_GROUPS: &str =
    concat!("DELETE FROM app_groups WHERE app_id = $1 AND NOT (group_id ", in_ids!("$2"), ") RETURNING group_id");
const ADD_APP_GROUPS: &str = concat!(
    "INSERT INTO app_groups (app_id, group_id, added_at) SELECT $1, ids.id, $3 FROM ",
    id_rows!("$2"),
    " WHERE true ON CONFLICT DO NOTHING RETURNING group_id"
);

/// A user's app roles with the apps' names, in app-name order.
const APP_ROLES_OF: &str = "SELECT r.role, r.app_id, a.name AS app_name FROM app_roles r \
    JOIN apps a ON a.id = r.app_id WHERE r.user_id = $1 ORDER BY a.name_key, a.id, r.role";
/// The active Administrators of an organization ($1).
const ADMINS_LEFT: &str = "SELECT count(*) FROM user_roles r JOIN users u ON u.id = r.user_id \
    WHERE r.role = 'administrator' AND u.org_id = $1 AND u.status = 'active'";

fn group_record(row: &DbRow) -> Read<Group> {
    Ok(Group {
        id: row.try_get("g_id")?,
        org_id: row.try_get("g_org_id")?,
        name: row.try_get("g_name")?,
        description: row.try_get("g_description")?,
        created_at: row.try_get("g_created_at")?,
        updated_at: row.try_get("g_updated_at")?,
        member_count: rows::count(row.try_get("g_member_count")?),
    })
}

fn app_record(row: &DbRow) -> Read<App> {
    Ok(App {
        id: row.try_get("a_id")?,
        org_id: row.try_get("a_org_id")?,
        name: row.try_get("a_name")?,
        description: row.try_get("a_description")?,
        url: row.try_get("a_url")?,
        created_at: row.try_get("a_created_at")?,
        updated_at: row.try_get("a_updated_at")?,
    })
}

/// An app read with `APPS_OF`, with how the user reaches it.
fn app_with_access(row: &DbRow) -> Read<(App, AppAccess)> {
    let access = AppAccess {
        via_group: row.try_get("via_group")?,
        owner: row.try_get("owner")?,
        developer: row.try_get("developer")?,
    };
    Ok((app_record(row)?, access))
}

fn app_role(s: &str) -> Read<AppRole> {
    s.parse().map_err(|_| sqlx::Error::Decode(format!("unknown app role {s:?}").into()))
}

fn app_role_of(row: &DbRow) -> Read<AppRoleOf> {
    Ok(AppRoleOf {
        role: app_role(&row.try_get::<String, _>("role")?)?,
        app_id: row.try_get("app_id")?,
        app_name: row.try_get("app_name")?,
    })
}

/// `NotFound` when a change by id touched no row (unknown, or of another organization).
fn touched(rows_affected: u64) -> StoreResult<()> {
    if rows_affected == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// Every row `query` reads inside `tx`, each read with `read`.
async fn all_in<T>(tx: &mut Transaction<'_, Engine>, query: Query, read: fn(&DbRow) -> Read<T>) -> StoreResult<Vec<T>> {
    rows::all(query.fetch_all(&mut **tx).await.map_err(map_err)?, read)
}

/// Replaces a set holding `parent`'s row lock: `remove` deletes the members
/// left out and `add` inserts the new ones, each returning the ids it changed.
async fn replace_set<T>(db: &Db, parent: (Lock, uuid::Uuid), remove: Query, add: Query) -> StoreResult<SetChange<T>>
where
    T: for<'r> sqlx::Decode<'r, Engine> + sqlx::Type<Engine>,
{
    let mut tx = db.write().await?;
    lock(&mut tx, parent.0, parent.1).await?;
    let removed = all_in(&mut tx, remove, rows::first::<T>).await?;
    let added = all_in(&mut tx, add, rows::first::<T>).await?;
    tx.commit().await.map_err(map_err)?;
    Ok(SetChange { added, removed })
}

#[async_trait]
impl AccessStore for Db {
    async fn apps_solely_owned_by(&self, user: UserId) -> StoreResult<Vec<(AppId, String)>> {
        self.all(|| sqlx::query(SOLELY_OWNED).bind(user), |r| Ok((r.try_get("id")?, r.try_get("name")?))).await
    }

    async fn org_users(&self, org_id: OrgId, ids: &[UserId]) -> StoreResult<Vec<User>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = id_list(ids.iter().map(|i| i.uuid()));
        self.all(|| sqlx::query(ORG_USERS).bind(org_id).bind(&list), rows::user).await
    }

    async fn insert_group(&self, g: &Group, name_key: &str) -> StoreResult<()> {
        let query = sqlx::query(INSERT_GROUP).bind(g.id).bind(g.org_id).bind(&g.name).bind(name_key);
        run(&self.pool, query.bind(&g.description).bind(g.created_at).bind(g.updated_at)).await?;
        Ok(())
    }

    async fn group(&self, org_id: OrgId, id: GroupId) -> StoreResult<Option<Group>> {
        self.one(|| sqlx::query(GROUP).bind(id).bind(org_id), group_record).await
    }

    async fn groups_page(&self, org_id: OrgId, after: Option<&str>, limit: u32) -> StoreResult<Vec<Group>> {
        self.all(|| sqlx::query(GROUPS_PAGE).bind(org_id).bind(after).bind(i64::from(limit)), group_record).await
    }

    async fn org_groups(&self, org_id: OrgId, ids: &[GroupId]) -> StoreResult<Vec<Group>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = id_list(ids.iter().map(|i| i.uuid()));
        self.all(|| sqlx::query(ORG_GROUPS).bind(org_id).bind(&list), group_record).await
    }

    async fn update_group(&self, g: &Group, name_key: &str) -> StoreResult<()> {
        let query = sqlx::query(UPDATE_GROUP).bind(&g.name).bind(name_key).bind(&g.description).bind(g.updated_at);
        touched(run(&self.pool, query.bind(g.id).bind(g.org_id)).await?)
    }

    async fn delete_group(&self, org_id: OrgId, id: GroupId) -> StoreResult<()> {
        let sql = "DELETE FROM groups WHERE id = $1 AND org_id = $2";
        touched(run(&self.pool, sqlx::query(sql).bind(id).bind(org_id)).await?)
    }

    async fn group_members(&self, group: GroupId, after: Option<&str>, limit: u32) -> StoreResult<Vec<User>> {
        self.all(|| sqlx::query(GROUP_MEMBERS).bind(group).bind(after).bind(i64::from(limit)), rows::user).await
    }

    async fn set_group_members(
        &self,
        group: GroupId,
        users: &[UserId],
        at: DateTime<Utc>,
    ) -> StoreResult<SetChange<UserId>> {
        let list = id_list(users.iter().map(|i| i.uuid()));
        let remove = sqlx::query(REMOVE_MEMBERS).bind(group).bind(&list);
        let add = sqlx::query(ADD_MEMBERS).bind(group).bind(&list).bind(at);
        // Replaces of one group's members run one after the other.
        replace_set(self, (Lock::Group, group.uuid()), remove, add).await
    }

    async fn add_group_member(&self, group: GroupId, user: UserId, at: DateTime<Utc>) -> StoreResult<bool> {
        Ok(run(&self.pool, sqlx::query(ADD_MEMBER).bind(group).bind(user).bind(at)).await? > 0)
    }

    async fn remove_group_member(&self, group: GroupId, user: UserId) -> StoreResult<bool> {
        let sql = "DELETE FROM group_members WHERE group_id = $1 AND user_id = $2";
        Ok(run(&self.pool, sqlx::query(sql).bind(group).bind(user)).await? > 0)
    }

    async fn groups_of(&self, user: UserId) -> StoreResult<Vec<Group>> {
        self.all(|| sqlx::query(GROUPS_OF).bind(user), group_record).await
    }

    async fn insert_app(&self, a: &App, name_key: &str, owner: Option<UserId>) -> StoreResult<()> {
        let mut tx = self.write().await?;
        let query = sqlx::query(INSERT_APP).bind(a.id).bind(a.org_id).bind(&a.name).bind(name_key).bind(&a.description);
        run(&mut *tx, query.bind(&a.url).bind(a.created_at).bind(a.updated_at)).await?;
        if let Some(owner) = owner {
            let sql = "INSERT INTO app_roles (app_id, user_id, role, created_at) VALUES ($1, $2, 'app_owner', $3)";
            run(&mut *tx, sqlx::query(sql).bind(a.id).bind(owner).bind(a.created_at)).await?;
        }
        tx.commit().await.map_err(map_err)
    }

    async fn app(&self, org_id: OrgId, id: AppId) -> StoreResult<Option<App>> {
        self.one(|| sqlx::query(APP).bind(id).bind(org_id), app_record).await
    }

    async fn apps_page(&self, org_id: OrgId, after: Option<&str>, limit: u32) -> StoreResult<Vec<App>> {
        self.all(|| sqlx::query(APPS_PAGE).bind(org_id).bind(after).bind(i64::from(limit)), app_record).await
    }

    async fn org_apps(&self, org_id: OrgId, ids: &[AppId]) -> StoreResult<Vec<App>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = id_list(ids.iter().map(|i| i.uuid()));
        self.all(|| sqlx::query(ORG_APPS).bind(org_id).bind(&list), app_record).await
    }

    async fn update_app(&self, a: &App, name_key: &str) -> StoreResult<()> {
        let query = sqlx::query(UPDATE_APP).bind(&a.name).bind(name_key).bind(&a.description).bind(&a.url);
        touched(run(&self.pool, query.bind(a.updated_at).bind(a.id).bind(a.org_id)).await?)
    }

    async fn delete_app(&self, org_id: OrgId, id: AppId) -> StoreResult<()> {
        let sql = "DELETE FROM apps WHERE id = $1 AND org_id = $2";
        touched(run(&self.pool, sqlx::query(sql).bind(id).bind(org_id)).await?)
    }

    async fn app_people(&self, app: AppId) -> StoreResult<Vec<(AppRole, User)>> {
        let read: fn(&DbRow) -> Read<(AppRole, User)> =
            |r| Ok((app_role(&r.try_get::<String, _>("app_role")?)?, rows::user(r)?));
        self.all(|| sqlx::query(APP_PEOPLE).bind(app), read).await
    }

    async fn set_app_people(
        &self,
        app: AppId,
        role: AppRole,
        users: &[UserId],
        at: DateTime<Utc>,
    ) -> StoreResult<SetChange<UserId>> {
        let list = id_list(users.iter().map(|i| i.uuid()));
        let remove = sqlx::query(REMOVE_PEOPLE).bind(app).bind(role.as_str()).bind(&list);
        let add = sqlx::query(ADD_PEOPLE).bind(app).bind(role.as_str()).bind(&list).bind(at);
        // Replaces of one app's people or groups run one after the other.
        replace_set(self, (Lock::App, app.uuid()), remove, add).await
    }

    async fn app_groups(&self, app: AppId) -> StoreResult<Vec<Group>> {
        self.all(|| sqlx::query(APP_GROUPS).bind(app), group_record).await
    }

    async fn set_app_groups(
        &self,
        app: AppId,
        groups: &[GroupId],
        at: DateTime<Utc>,
    ) -> StoreResult<SetChange<GroupId>> {
        let list = id_list(groups.iter().map(|i| i.uuid()));
        let remove = sqlx::query(REMOVE_APP_GROUPS).bind(app).bind(&list);
        let add = sqlx::query(ADD_APP_GROUPS).bind(app).bind(&list).bind(at);
        replace_set(self, (Lock::App, app.uuid()), remove, add).await
    }

    async fn app_roles_on(&self, user: UserId, app: AppId) -> StoreResult<Vec<AppRole>> {
        let sql = "SELECT role FROM app_roles WHERE user_id = $1 AND app_id = $2";
        self.all(|| sqlx::query(sql).bind(user).bind(app), |r| app_role(&r.try_get::<String, _>(0)?)).await
    }

    async fn app_roles_of(&self, user: UserId) -> StoreResult<Vec<AppRoleOf>> {
        self.all(|| sqlx::query(APP_ROLES_OF).bind(user), app_role_of).await
    }

    async fn apps_of(&self, user: UserId, after: Option<&str>, limit: u32) -> StoreResult<Vec<(App, AppAccess)>> {
        self.all(|| sqlx::query(APPS_OF).bind(user).bind(after).bind(i64::from(limit)), app_with_access).await
    }

    async fn replace_roles(
        &self,
        org_id: OrgId,
        user: UserId,
        org_roles: &[Role],
        app_roles: &[(AppRole, AppId)],
        at: DateTime<Utc>,
    ) -> StoreResult<StoredRoles> {
        let mut tx = self.write().await?;
        // Role changes of one organization run one after the other, so two
        // concurrent demotions cannot both see the other Administrator still there.
        lock(&mut tx, Lock::Organization, org_id.uuid()).await?;
        let old = sqlx::query("DELETE FROM user_roles WHERE user_id = $1 RETURNING role").bind(user);
        let old = all_in(&mut tx, old, rows::first::<String>).await?;
        let mut before_org: Vec<Role> = old.iter().filter_map(|r| r.parse().ok()).collect();
        before_org.sort();
        let before_apps = all_in(&mut tx, sqlx::query(APP_ROLES_OF).bind(user), app_role_of).await?;
        for role in org_roles {
            let sql = "INSERT INTO user_roles (user_id, role) VALUES ($1, $2)";
            run(&mut *tx, sqlx::query(sql).bind(user).bind(role.as_str())).await?;
        }
        run(&mut *tx, sqlx::query("DELETE FROM app_roles WHERE user_id = $1").bind(user)).await?;
        for (role, app) in app_roles {
            let sql = "INSERT INTO app_roles (app_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)";
            run(&mut *tx, sqlx::query(sql).bind(app).bind(user).bind(role.as_str()).bind(at)).await?;
        }
        if before_org.contains(&Role::Administrator) && !org_roles.contains(&Role::Administrator) {
            let left: i64 = sqlx::query_scalar(ADMINS_LEFT).bind(org_id).fetch_one(&mut *tx).await.map_err(map_err)?;
            if left == 0 {
                tx.rollback().await.map_err(map_err)?;
                return Err(StoreError::Conflict { constraint: constraint::LAST_ADMINISTRATOR.into() });
            }
        }
        run(&mut *tx, sqlx::query("UPDATE users SET updated_at = $1 WHERE id = $2").bind(at).bind(user)).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(StoredRoles { org: before_org, apps: before_apps })
    }
}
