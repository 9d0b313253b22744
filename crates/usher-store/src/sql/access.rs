//! Roles, groups and apps. A set (a group's members, an app's people or
//! groups) is read or replaced in one statement whatever its size, its ids
//! bound as one list. Replacing a set locks its parent row first, and role
//! changes lock the organization, so changes of one set run one after the
//! other. Group and app name conflicts are named by `map_err`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;
use usher_core::{
    access::{App, AppAccess, AppRoleOf, Group, SetChange, StoredRoles},
    conflict::constraint,
    store::{AccessStore, StoreError, StoreResult, User},
};
use usher_domain::{AppId, AppRole, GroupId, OrgId, Role, UserId};

use super::{Db, DbRow, Lock, id_list, lock, map_err, rows};

macro_rules! group_columns {
    () => {
        "g.id AS g_id, g.org_id AS g_org_id, g.name AS g_name, g.description AS g_description, \
         g.created_at AS g_created_at, g.updated_at AS g_updated_at, \
         (SELECT count(*) FROM group_members gm WHERE gm.group_id = g.id) AS g_member_count"
    };
}

macro_rules! app_columns {
    () => {
        "a.id AS a_id, a.org_id AS a_org_id, a.name AS a_name, a.description AS a_description, a.url AS a_url, \
         a.created_at AS a_created_at, a.updated_at AS a_updated_at"
    };
}

/// A user's app roles with the apps' names, in app-name order.
const APP_ROLES_OF: &str = "SELECT r.role, r.app_id, a.name AS app_name FROM app_roles r JOIN apps a ON a.id = r.app_id \
     WHERE r.user_id = $1 ORDER BY a.name_key, a.id, r.role";

fn group_record(row: &DbRow) -> Result<Group, sqlx::Error> {
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

fn app_record(row: &DbRow) -> Result<App, sqlx::Error> {
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

fn app_role(s: &str) -> Result<AppRole, sqlx::Error> {
    s.parse().map_err(|_| sqlx::Error::Decode(format!("unknown app role {s:?}").into()))
}

fn app_role_of(row: &DbRow) -> Result<AppRoleOf, sqlx::Error> {
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

#[async_trait]
impl AccessStore for Db {
    async fn apps_solely_owned_by(&self, user: UserId) -> StoreResult<Vec<(AppId, String)>> {
        let found = self
            .read(|| {
                sqlx::query(
                    "SELECT a.id, a.name FROM app_roles r JOIN apps a ON a.id = r.app_id \
                     WHERE r.user_id = $1 AND r.role = 'app_owner' AND NOT EXISTS \
                     (SELECT 1 FROM app_roles o WHERE o.app_id = r.app_id AND o.role = 'app_owner' AND o.user_id <> $1) \
                     ORDER BY a.name_key",
                )
                .bind(user)
                .fetch_all(&self.pool)
            })
            .await
            .map_err(map_err)?;
        rows::all(found, |r| Ok((r.try_get("id")?, r.try_get("name")?)))
    }

    async fn org_users(&self, org_id: OrgId, ids: &[UserId]) -> StoreResult<Vec<User>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = id_list(ids.iter().map(|i| i.uuid()));
        let found = self
            .read(|| {
                sqlx::query(concat!(
                    "SELECT ",
                    user_columns!(),
                    " FROM users u WHERE u.id ",
                    in_ids!("$2"),
                    " AND u.org_id = $1 ORDER BY u.user_id_key"
                ))
                .bind(org_id)
                .bind(&list)
                .fetch_all(&self.pool)
            })
            .await
            .map_err(map_err)?;
        rows::all(found, rows::user)
    }

    async fn insert_group(&self, g: &Group, name_key: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO groups (id, org_id, name, name_key, description, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(g.id)
        .bind(g.org_id)
        .bind(&g.name)
        .bind(name_key)
        .bind(&g.description)
        .bind(g.created_at)
        .bind(g.updated_at)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn group(&self, org_id: OrgId, id: GroupId) -> StoreResult<Option<Group>> {
        let found = self
            .read(|| {
                sqlx::query(concat!("SELECT ", group_columns!(), " FROM groups g WHERE g.id = $1 AND g.org_id = $2"))
                    .bind(id)
                    .bind(org_id)
                    .fetch_optional(&self.pool)
            })
            .await
            .map_err(map_err)?;
        rows::one(found, group_record)
    }

    async fn groups_page(&self, org_id: OrgId, after: Option<&str>, limit: u32) -> StoreResult<Vec<Group>> {
        let found = self
            .read(|| {
                sqlx::query(concat!(
                    "SELECT ",
                    group_columns!(),
                    " FROM groups g WHERE g.org_id = $1 AND ($2 IS NULL OR g.name_key > $2) ORDER BY g.name_key LIMIT $3"
                ))
                .bind(org_id)
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
            })
            .await
            .map_err(map_err)?;
        rows::all(found, group_record)
    }

    async fn org_groups(&self, org_id: OrgId, ids: &[GroupId]) -> StoreResult<Vec<Group>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = id_list(ids.iter().map(|i| i.uuid()));
        let found = self
            .read(|| {
                sqlx::query(concat!(
                    "SELECT ",
                    group_columns!(),
                    " FROM groups g WHERE g.id ",
                    in_ids!("$2"),
                    " AND g.org_id = $1 ORDER BY g.name_key"
                ))
                .bind(org_id)
                .bind(&list)
                .fetch_all(&self.pool)
            })
            .await
            .map_err(map_err)?;
        rows::all(found, group_record)
    }

    async fn update_group(&self, g: &Group, name_key: &str) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE groups SET name = $1, name_key = $2, description = $3, updated_at = $4 WHERE id = $5 AND org_id = $6",
        )
        .bind(&g.name)
        .bind(name_key)
        .bind(&g.description)
        .bind(g.updated_at)
        .bind(g.id)
        .bind(g.org_id)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        touched(done.rows_affected())
    }

    async fn delete_group(&self, org_id: OrgId, id: GroupId) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM groups WHERE id = $1 AND org_id = $2")
            .bind(id)
            .bind(org_id)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        touched(done.rows_affected())
    }

    async fn group_members(&self, group: GroupId, after: Option<&str>, limit: u32) -> StoreResult<Vec<User>> {
        let found = self
            .read(|| {
                sqlx::query(concat!(
                    "SELECT ",
                    user_columns!(),
                    " FROM group_members m JOIN users u ON u.id = m.user_id \
                     WHERE m.group_id = $1 AND ($2 IS NULL OR u.user_id_key > $2) ORDER BY u.user_id_key LIMIT $3"
                ))
                .bind(group)
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
            })
            .await
            .map_err(map_err)?;
        rows::all(found, rows::user)
    }

    async fn set_group_members(
        &self,
        group: GroupId,
        users: &[UserId],
        at: DateTime<Utc>,
    ) -> StoreResult<SetChange<UserId>> {
        let list = id_list(users.iter().map(|i| i.uuid()));
        let mut tx = self.write().await?;
        // Replaces of one group's members run one after the other.
        lock(&mut tx, Lock::Group, group.uuid()).await?;
        let removed = sqlx::query_scalar(concat!(
            "DELETE FROM group_members WHERE group_id = $1 AND NOT (user_id ",
            in_ids!("$2"),
            ") RETURNING user_id"
        ))
        .bind(group)
        .bind(&list)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        let added = sqlx::query_scalar(concat!(
            "INSERT INTO group_members (group_id, user_id, added_at) SELECT $1, ids.id, $3 FROM ",
            id_rows!("$2"),
            " WHERE true ON CONFLICT DO NOTHING RETURNING user_id"
        ))
        .bind(group)
        .bind(&list)
        .bind(at)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(SetChange { added, removed })
    }

    async fn add_group_member(&self, group: GroupId, user: UserId, at: DateTime<Utc>) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO group_members (group_id, user_id, added_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(group)
        .bind(user)
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn remove_group_member(&self, group: GroupId, user: UserId) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM group_members WHERE group_id = $1 AND user_id = $2")
            .bind(group)
            .bind(user)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn groups_of(&self, user: UserId) -> StoreResult<Vec<Group>> {
        let found = self
            .read(|| {
                sqlx::query(concat!(
                    "SELECT ",
                    group_columns!(),
                    " FROM group_members m JOIN groups g ON g.id = m.group_id WHERE m.user_id = $1 ORDER BY g.name_key"
                ))
                .bind(user)
                .fetch_all(&self.pool)
            })
            .await
            .map_err(map_err)?;
        rows::all(found, group_record)
    }

    async fn insert_app(&self, a: &App, name_key: &str, owner: Option<UserId>) -> StoreResult<()> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO apps (id, org_id, name, name_key, description, url, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(a.id)
        .bind(a.org_id)
        .bind(&a.name)
        .bind(name_key)
        .bind(&a.description)
        .bind(&a.url)
        .bind(a.created_at)
        .bind(a.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        if let Some(owner) = owner {
            sqlx::query("INSERT INTO app_roles (app_id, user_id, role, created_at) VALUES ($1, $2, 'app_owner', $3)")
                .bind(a.id)
                .bind(owner)
                .bind(a.created_at)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)
    }

    async fn app(&self, org_id: OrgId, id: AppId) -> StoreResult<Option<App>> {
        let found = self
            .read(|| {
                sqlx::query(concat!("SELECT ", app_columns!(), " FROM apps a WHERE a.id = $1 AND a.org_id = $2"))
                    .bind(id)
                    .bind(org_id)
                    .fetch_optional(&self.pool)
            })
            .await
            .map_err(map_err)?;
        rows::one(found, app_record)
    }

    async fn apps_page(&self, org_id: OrgId, after: Option<&str>, limit: u32) -> StoreResult<Vec<App>> {
        let found = self
            .read(|| {
                sqlx::query(concat!(
                    "SELECT ",
                    app_columns!(),
                    " FROM apps a WHERE a.org_id = $1 AND ($2 IS NULL OR a.name_key > $2) ORDER BY a.name_key LIMIT $3"
                ))
                .bind(org_id)
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
            })
            .await
            .map_err(map_err)?;
        rows::all(found, app_record)
    }

    async fn org_apps(&self, org_id: OrgId, ids: &[AppId]) -> StoreResult<Vec<App>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = id_list(ids.iter().map(|i| i.uuid()));
        let found = self
            .read(|| {
                sqlx::query(concat!(
                    "SELECT ",
                    app_columns!(),
                    " FROM apps a WHERE a.id ",
                    in_ids!("$2"),
                    " AND a.org_id = $1 ORDER BY a.name_key"
                ))
                .bind(org_id)
                .bind(&list)
                .fetch_all(&self.pool)
            })
            .await
            .map_err(map_err)?;
        rows::all(found, app_record)
    }

    async fn update_app(&self, a: &App, name_key: &str) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE apps SET name = $1, name_key = $2, description = $3, url = $4, updated_at = $5 \
             WHERE id = $6 AND org_id = $7",
        )
        .bind(&a.name)
        .bind(name_key)
        .bind(&a.description)
        .bind(&a.url)
        .bind(a.updated_at)
        .bind(a.id)
        .bind(a.org_id)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        touched(done.rows_affected())
    }

    async fn delete_app(&self, org_id: OrgId, id: AppId) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM apps WHERE id = $1 AND org_id = $2")
            .bind(id)
            .bind(org_id)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        touched(done.rows_affected())
    }

    async fn app_people(&self, app: AppId) -> StoreResult<Vec<(AppRole, User)>> {
        let found = self
            .read(|| {
                sqlx::query(concat!(
                    "SELECT ar.role AS app_role, ",
                    user_columns!(),
                    " FROM app_roles ar JOIN users u ON u.id = ar.user_id WHERE ar.app_id = $1 \
                     ORDER BY u.user_id_key, ar.role"
                ))
                .bind(app)
                .fetch_all(&self.pool)
            })
            .await
            .map_err(map_err)?;
        rows::all(found, |r| Ok((app_role(&r.try_get::<String, _>("app_role")?)?, rows::user(r)?)))
    }

    async fn set_app_people(
        &self,
        app: AppId,
        role: AppRole,
        users: &[UserId],
        at: DateTime<Utc>,
    ) -> StoreResult<SetChange<UserId>> {
        let list = id_list(users.iter().map(|i| i.uuid()));
        let mut tx = self.write().await?;
        // Replaces of one app's people or groups run one after the other.
        lock(&mut tx, Lock::App, app.uuid()).await?;
        let removed = sqlx::query_scalar(concat!(
            "DELETE FROM app_roles WHERE app_id = $1 AND role = $2 AND NOT (user_id ",
            in_ids!("$3"),
            ") RETURNING user_id"
        ))
        .bind(app)
        .bind(role.as_str())
        .bind(&list)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        let added = sqlx::query_scalar(concat!(
            "INSERT INTO app_roles (app_id, user_id, role, created_at) SELECT $1, ids.id, $2, $4 FROM ",
            id_rows!("$3"),
            " WHERE true ON CONFLICT DO NOTHING RETURNING user_id"
        ))
        .bind(app)
        .bind(role.as_str())
        .bind(&list)
        .bind(at)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(SetChange { added, removed })
    }

    async fn app_groups(&self, app: AppId) -> StoreResult<Vec<Group>> {
        let found = self
            .read(|| {
                sqlx::query(concat!(
                    "SELECT ",
                    group_columns!(),
                    " FROM app_groups ag JOIN groups g ON g.id = ag.group_id WHERE ag.app_id = $1 ORDER BY g.name_key"
                ))
                .bind(app)
                .fetch_all(&self.pool)
            })
            .await
            .map_err(map_err)?;
        rows::all(found, group_record)
    }

    async fn set_app_groups(
        &self,
        app: AppId,
        groups: &[GroupId],
        at: DateTime<Utc>,
    ) -> StoreResult<SetChange<GroupId>> {
        let list = id_list(groups.iter().map(|i| i.uuid()));
        let mut tx = self.write().await?;
        lock(&mut tx, Lock::App, app.uuid()).await?;
        let removed = sqlx::query_scalar(concat!(
            "DELETE FROM app_groups WHERE app_id = $1 AND NOT (group_id ",
            in_ids!("$2"),
            ") RETURNING group_id"
        ))
        .bind(app)
        .bind(&list)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        let added = sqlx::query_scalar(concat!(
            "INSERT INTO app_groups (app_id, group_id, added_at) SELECT $1, ids.id, $3 FROM ",
            id_rows!("$2"),
            " WHERE true ON CONFLICT DO NOTHING RETURNING group_id"
        ))
        .bind(app)
        .bind(&list)
        .bind(at)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(SetChange { added, removed })
    }

    async fn app_roles_on(&self, user: UserId, app: AppId) -> StoreResult<Vec<AppRole>> {
        let roles: Vec<String> = self
            .read(|| {
                sqlx::query_scalar("SELECT role FROM app_roles WHERE user_id = $1 AND app_id = $2")
                    .bind(user)
                    .bind(app)
                    .fetch_all(&self.pool)
            })
            .await
            .map_err(map_err)?;
        roles.iter().map(|r| app_role(r)).collect::<Result<_, _>>().map_err(map_err)
    }

    async fn app_roles_of(&self, user: UserId) -> StoreResult<Vec<AppRoleOf>> {
        let found = self.read(|| sqlx::query(APP_ROLES_OF).bind(user).fetch_all(&self.pool)).await.map_err(map_err)?;
        rows::all(found, app_role_of)
    }

    async fn apps_of(&self, user: UserId, after: Option<&str>, limit: u32) -> StoreResult<Vec<(App, AppAccess)>> {
        let found = self
            .read(|| {
                sqlx::query(concat!(
                    "SELECT ",
                    app_columns!(),
                    ", EXISTS (SELECT 1 FROM app_groups ag JOIN group_members m ON m.group_id = ag.group_id \
                        WHERE ag.app_id = a.id AND m.user_id = $1) AS via_group, \
                     EXISTS (SELECT 1 FROM app_roles r WHERE r.app_id = a.id AND r.role = 'app_owner' \
                        AND r.user_id = $1) AS owner, \
                     EXISTS (SELECT 1 FROM app_roles r WHERE r.app_id = a.id AND r.role = 'app_developer' \
                        AND r.user_id = $1) AS developer \
                     FROM apps a WHERE a.id IN ( \
                        SELECT ag.app_id FROM group_members m JOIN app_groups ag ON ag.group_id = m.group_id \
                        WHERE m.user_id = $1 \
                        UNION SELECT r.app_id FROM app_roles r WHERE r.user_id = $1) \
                     AND ($2 IS NULL OR a.name_key > $2) ORDER BY a.name_key LIMIT $3"
                ))
                .bind(user)
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
            })
            .await
            .map_err(map_err)?;
        rows::all(found, |r| {
            let access = AppAccess {
                via_group: r.try_get("via_group")?,
                owner: r.try_get("owner")?,
                developer: r.try_get("developer")?,
            };
            Ok((app_record(r)?, access))
        })
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
        let old: Vec<String> = sqlx::query_scalar("DELETE FROM user_roles WHERE user_id = $1 RETURNING role")
            .bind(user)
            .fetch_all(&mut *tx)
            .await
            .map_err(map_err)?;
        let mut before_org: Vec<Role> = old.iter().filter_map(|r| r.parse().ok()).collect();
        before_org.sort();
        let before_apps =
            rows::all(sqlx::query(APP_ROLES_OF).bind(user).fetch_all(&mut *tx).await.map_err(map_err)?, app_role_of)?;
        for role in org_roles {
            sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)")
                .bind(user)
                .bind(role.as_str())
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        sqlx::query("DELETE FROM app_roles WHERE user_id = $1").bind(user).execute(&mut *tx).await.map_err(map_err)?;
        for (role, app) in app_roles {
            sqlx::query("INSERT INTO app_roles (app_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)")
                .bind(app)
                .bind(user)
                .bind(role.as_str())
                .bind(at)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        if before_org.contains(&Role::Administrator) && !org_roles.contains(&Role::Administrator) {
            let left: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM user_roles r JOIN users u ON u.id = r.user_id \
                 WHERE r.role = 'administrator' AND u.org_id = $1 AND u.status = 'active'",
            )
            .bind(org_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
            if left == 0 {
                tx.rollback().await.map_err(map_err)?;
                return Err(StoreError::Conflict { constraint: constraint::LAST_ADMINISTRATOR.into() });
            }
        }
        sqlx::query("UPDATE users SET updated_at = $1 WHERE id = $2")
            .bind(at)
            .bind(user)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(StoredRoles { org: before_org, apps: before_apps })
    }
}
