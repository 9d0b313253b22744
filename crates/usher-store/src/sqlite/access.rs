//! Roles, groups and apps on SQLite. Lists of ids travel as one JSON array of
//! hex strings (`json_each` + `unhex`), so a set is read or replaced in one
//! statement whatever its size. Transactions write first, so they take the
//! database's write lock before reading what they decide on.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Row, Sqlite, Transaction, sqlite::SqliteRow};
use usher_core::{
    access::{App, AppAccess, AppRoleOf, Group, SetChange, StoredRoles},
    conflict::constraint,
    store::{AccessStore, StoreError, StoreResult, User},
};
use usher_domain::{AppId, AppRole, GroupId, OrgId, Role, UserId};
use uuid::Uuid;

use super::{SqliteStore, map_err, user_from_row};

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

/// The ids as the JSON array `json_each` reads.
fn id_list<I: Into<Uuid> + Copy>(ids: &[I]) -> String {
    serde_json::Value::Array(
        ids.iter().map(|id| serde_json::Value::String((*id).into().simple().to_string())).collect(),
    )
    .to_string()
}

/// Name conflicts get their own constraint names; the rest as everywhere.
fn access_err(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e
        && db.is_unique_violation()
    {
        let msg = db.message();
        if msg.contains("groups.name_key") {
            return StoreError::Conflict { constraint: constraint::GROUP_NAME.into() };
        }
        if msg.contains("apps.name_key") {
            return StoreError::Conflict { constraint: constraint::APP_NAME.into() };
        }
    }
    map_err(e)
}

fn group_from_row(row: &SqliteRow) -> Result<Group, sqlx::Error> {
    Ok(Group {
        id: row.try_get("g_id")?,
        org_id: row.try_get("g_org_id")?,
        name: row.try_get("g_name")?,
        description: row.try_get("g_description")?,
        created_at: row.try_get("g_created_at")?,
        updated_at: row.try_get("g_updated_at")?,
        member_count: row.try_get::<i64, _>("g_member_count")?.max(0) as u64,
    })
}

fn app_from_row(row: &SqliteRow) -> Result<App, sqlx::Error> {
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

fn all<T>(rows: &[SqliteRow], f: fn(&SqliteRow) -> Result<T, sqlx::Error>) -> StoreResult<Vec<T>> {
    rows.iter().map(f).collect::<Result<_, _>>().map_err(map_err)
}

fn app_role_of(row: &SqliteRow) -> Result<AppRoleOf, sqlx::Error> {
    Ok(AppRoleOf {
        role: app_role(&row.try_get::<String, _>("role")?)?,
        app_id: row.try_get("app_id")?,
        app_name: row.try_get("app_name")?,
    })
}

const APP_ROLES_OF: &str = "SELECT r.role, r.app_id, a.name AS app_name FROM app_roles r JOIN apps a ON a.id = r.app_id \
     WHERE r.user_id = ? ORDER BY a.name_key, a.id, r.role";

impl SqliteStore {
    async fn tx(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(map_err)
    }
}

#[async_trait]
impl AccessStore for SqliteStore {
    async fn apps_solely_owned_by(&self, user: UserId) -> StoreResult<Vec<(AppId, String)>> {
        let rows = sqlx::query(
            "SELECT a.id, a.name FROM app_roles r JOIN apps a ON a.id = r.app_id \
             WHERE r.user_id = ?1 AND r.role = 'app_owner' AND NOT EXISTS \
             (SELECT 1 FROM app_roles o WHERE o.app_id = r.app_id AND o.role = 'app_owner' AND o.user_id <> ?1) \
             ORDER BY a.name_key",
        )
        .bind(user)
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("name")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(map_err)
    }

    async fn org_users(&self, org_id: OrgId, ids: &[UserId]) -> StoreResult<Vec<User>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users u WHERE u.id IN (SELECT unhex(value) FROM json_each(?2)) AND u.org_id = ?1 ORDER BY u.user_id_key"
        ))
        .bind(org_id)
        .bind(id_list(ids))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        all(&rows, user_from_row)
    }

    async fn insert_group(&self, g: &Group, name_key: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO groups (id, org_id, name, name_key, description, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
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
        .map_err(access_err)?;
        Ok(())
    }

    async fn group(&self, org_id: OrgId, id: GroupId) -> StoreResult<Option<Group>> {
        let row = sqlx::query(concat!("SELECT ", group_columns!(), " FROM groups g WHERE g.id = ? AND g.org_id = ?"))
            .bind(id)
            .bind(org_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.as_ref().map(group_from_row).transpose().map_err(map_err)
    }

    async fn groups_page(&self, org_id: OrgId, after: Option<&str>, limit: u32) -> StoreResult<Vec<Group>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            group_columns!(),
            " FROM groups g WHERE g.org_id = ?1 AND (?2 IS NULL OR g.name_key > ?2) ORDER BY g.name_key LIMIT ?3"
        ))
        .bind(org_id)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        all(&rows, group_from_row)
    }

    async fn org_groups(&self, org_id: OrgId, ids: &[GroupId]) -> StoreResult<Vec<Group>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(concat!(
            "SELECT ",
            group_columns!(),
            " FROM groups g WHERE g.id IN (SELECT unhex(value) FROM json_each(?2)) AND g.org_id = ?1 ORDER BY g.name_key"
        ))
        .bind(org_id)
        .bind(id_list(ids))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        all(&rows, group_from_row)
    }

    async fn update_group(&self, g: &Group, name_key: &str) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE groups SET name = ?, name_key = ?, description = ?, updated_at = ? WHERE id = ? AND org_id = ?",
        )
        .bind(&g.name)
        .bind(name_key)
        .bind(&g.description)
        .bind(g.updated_at)
        .bind(g.id)
        .bind(g.org_id)
        .execute(&self.pool)
        .await
        .map_err(access_err)?;
        if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    async fn delete_group(&self, org_id: OrgId, id: GroupId) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM groups WHERE id = ? AND org_id = ?")
            .bind(id)
            .bind(org_id)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    async fn group_members(&self, group: GroupId, after: Option<&str>, limit: u32) -> StoreResult<Vec<User>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM group_members m JOIN users u ON u.id = m.user_id \
             WHERE m.group_id = ?1 AND (?2 IS NULL OR u.user_id_key > ?2) ORDER BY u.user_id_key LIMIT ?3"
        ))
        .bind(group)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        all(&rows, user_from_row)
    }

    async fn set_group_members(
        &self,
        group: GroupId,
        users: &[UserId],
        at: DateTime<Utc>,
    ) -> StoreResult<SetChange<UserId>> {
        let list = id_list(users);
        let mut tx = self.tx().await?;
        let removed: Vec<UserId> = sqlx::query_scalar(
            "DELETE FROM group_members WHERE group_id = ?1 \
             AND user_id NOT IN (SELECT unhex(value) FROM json_each(?2)) RETURNING user_id",
        )
        .bind(group)
        .bind(&list)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        let added: Vec<UserId> = sqlx::query_scalar(
            "INSERT INTO group_members (group_id, user_id, added_at) \
             SELECT ?1, unhex(value), ?3 FROM json_each(?2) WHERE true ON CONFLICT DO NOTHING RETURNING user_id",
        )
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
            "INSERT INTO group_members (group_id, user_id, added_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
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
        let done = sqlx::query("DELETE FROM group_members WHERE group_id = ? AND user_id = ?")
            .bind(group)
            .bind(user)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn groups_of(&self, user: UserId) -> StoreResult<Vec<Group>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            group_columns!(),
            " FROM group_members m JOIN groups g ON g.id = m.group_id WHERE m.user_id = ? ORDER BY g.name_key"
        ))
        .bind(user)
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        all(&rows, group_from_row)
    }

    async fn insert_app(&self, a: &App, name_key: &str, owner: Option<UserId>) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        sqlx::query(
            "INSERT INTO apps (id, org_id, name, name_key, description, url, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
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
        .map_err(access_err)?;
        if let Some(owner) = owner {
            sqlx::query("INSERT INTO app_roles (app_id, user_id, role, created_at) VALUES (?, ?, 'app_owner', ?)")
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
        let row = sqlx::query(concat!("SELECT ", app_columns!(), " FROM apps a WHERE a.id = ? AND a.org_id = ?"))
            .bind(id)
            .bind(org_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.as_ref().map(app_from_row).transpose().map_err(map_err)
    }

    async fn apps_page(&self, org_id: OrgId, after: Option<&str>, limit: u32) -> StoreResult<Vec<App>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            app_columns!(),
            " FROM apps a WHERE a.org_id = ?1 AND (?2 IS NULL OR a.name_key > ?2) ORDER BY a.name_key LIMIT ?3"
        ))
        .bind(org_id)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        all(&rows, app_from_row)
    }

    async fn org_apps(&self, org_id: OrgId, ids: &[AppId]) -> StoreResult<Vec<App>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(concat!(
            "SELECT ",
            app_columns!(),
            " FROM apps a WHERE a.id IN (SELECT unhex(value) FROM json_each(?2)) AND a.org_id = ?1 ORDER BY a.name_key"
        ))
        .bind(org_id)
        .bind(id_list(ids))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        all(&rows, app_from_row)
    }

    async fn update_app(&self, a: &App, name_key: &str) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE apps SET name = ?, name_key = ?, description = ?, url = ?, updated_at = ? WHERE id = ? AND org_id = ?",
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
        .map_err(access_err)?;
        if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    async fn delete_app(&self, org_id: OrgId, id: AppId) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM apps WHERE id = ? AND org_id = ?")
            .bind(id)
            .bind(org_id)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    async fn app_people(&self, app: AppId) -> StoreResult<Vec<(AppRole, User)>> {
        let rows = sqlx::query(concat!(
            "SELECT ar.role AS app_role, ",
            user_columns!(),
            " FROM app_roles ar JOIN users u ON u.id = ar.user_id WHERE ar.app_id = ? ORDER BY u.user_id_key, ar.role"
        ))
        .bind(app)
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|r| Ok((app_role(&r.try_get::<String, _>("app_role")?)?, user_from_row(r)?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(map_err)
    }

    async fn set_app_people(
        &self,
        app: AppId,
        role: AppRole,
        users: &[UserId],
        at: DateTime<Utc>,
    ) -> StoreResult<SetChange<UserId>> {
        let list = id_list(users);
        let mut tx = self.tx().await?;
        let removed: Vec<UserId> = sqlx::query_scalar(
            "DELETE FROM app_roles WHERE app_id = ?1 AND role = ?2 \
             AND user_id NOT IN (SELECT unhex(value) FROM json_each(?3)) RETURNING user_id",
        )
        .bind(app)
        .bind(role.as_str())
        .bind(&list)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        let added: Vec<UserId> = sqlx::query_scalar(
            "INSERT INTO app_roles (app_id, user_id, role, created_at) \
             SELECT ?1, unhex(value), ?2, ?4 FROM json_each(?3) WHERE true ON CONFLICT DO NOTHING RETURNING user_id",
        )
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
        let rows = sqlx::query(concat!(
            "SELECT ",
            group_columns!(),
            " FROM app_groups ag JOIN groups g ON g.id = ag.group_id WHERE ag.app_id = ? ORDER BY g.name_key"
        ))
        .bind(app)
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        all(&rows, group_from_row)
    }

    async fn set_app_groups(
        &self,
        app: AppId,
        groups: &[GroupId],
        at: DateTime<Utc>,
    ) -> StoreResult<SetChange<GroupId>> {
        let list = id_list(groups);
        let mut tx = self.tx().await?;
        let removed: Vec<GroupId> = sqlx::query_scalar(
            "DELETE FROM app_groups WHERE app_id = ?1 \
             AND group_id NOT IN (SELECT unhex(value) FROM json_each(?2)) RETURNING group_id",
        )
        .bind(app)
        .bind(&list)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        let added: Vec<GroupId> = sqlx::query_scalar(
            "INSERT INTO app_groups (app_id, group_id, added_at) \
             SELECT ?1, unhex(value), ?3 FROM json_each(?2) WHERE true ON CONFLICT DO NOTHING RETURNING group_id",
        )
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
        let roles: Vec<String> = sqlx::query_scalar("SELECT role FROM app_roles WHERE user_id = ? AND app_id = ?")
            .bind(user)
            .bind(app)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        roles.iter().map(|r| app_role(r)).collect::<Result<_, _>>().map_err(map_err)
    }

    async fn app_roles_of(&self, user: UserId) -> StoreResult<Vec<AppRoleOf>> {
        let rows = sqlx::query(APP_ROLES_OF).bind(user).fetch_all(&self.pool).await.map_err(map_err)?;
        all(&rows, app_role_of)
    }

    async fn apps_of(&self, user: UserId, after: Option<&str>, limit: u32) -> StoreResult<Vec<(App, AppAccess)>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            app_columns!(),
            ", EXISTS (SELECT 1 FROM app_groups ag JOIN group_members m ON m.group_id = ag.group_id \
                WHERE ag.app_id = a.id AND m.user_id = ?1) AS via_group, \
             EXISTS (SELECT 1 FROM app_roles r WHERE r.app_id = a.id AND r.role = 'app_owner' AND r.user_id = ?1) AS owner, \
             EXISTS (SELECT 1 FROM app_roles r WHERE r.app_id = a.id AND r.role = 'app_developer' AND r.user_id = ?1) \
                AS developer \
             FROM apps a WHERE a.id IN ( \
                SELECT ag.app_id FROM group_members m JOIN app_groups ag ON ag.group_id = m.group_id WHERE m.user_id = ?1 \
                UNION SELECT r.app_id FROM app_roles r WHERE r.user_id = ?1) \
             AND (?2 IS NULL OR a.name_key > ?2) ORDER BY a.name_key LIMIT ?3"
        ))
        .bind(user)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|r| {
                let access = AppAccess {
                    via_group: r.try_get("via_group")?,
                    owner: r.try_get("owner")?,
                    developer: r.try_get("developer")?,
                };
                Ok((app_from_row(r)?, access))
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(map_err)
    }

    async fn replace_roles(
        &self,
        org_id: OrgId,
        user: UserId,
        org_roles: &[Role],
        app_roles: &[(AppRole, AppId)],
        at: DateTime<Utc>,
    ) -> StoreResult<StoredRoles> {
        let mut tx = self.tx().await?;
        // Writing first takes SQLite's write lock: role changes are serialized.
        let old: Vec<String> = sqlx::query_scalar("DELETE FROM user_roles WHERE user_id = ? RETURNING role")
            .bind(user)
            .fetch_all(&mut *tx)
            .await
            .map_err(map_err)?;
        let mut before_org: Vec<Role> = old.iter().filter_map(|r| r.parse().ok()).collect();
        before_org.sort();
        let rows = sqlx::query(APP_ROLES_OF).bind(user).fetch_all(&mut *tx).await.map_err(map_err)?;
        let before_apps = all(&rows, app_role_of)?;
        for role in org_roles {
            sqlx::query("INSERT INTO user_roles (user_id, role) VALUES (?, ?)")
                .bind(user)
                .bind(role.as_str())
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        sqlx::query("DELETE FROM app_roles WHERE user_id = ?").bind(user).execute(&mut *tx).await.map_err(map_err)?;
        for (role, app) in app_roles {
            sqlx::query("INSERT INTO app_roles (app_id, user_id, role, created_at) VALUES (?, ?, ?, ?)")
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
                 WHERE r.role = 'administrator' AND u.org_id = ? AND u.status = 'active'",
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
        sqlx::query("UPDATE users SET updated_at = ? WHERE id = ?")
            .bind(at)
            .bind(user)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(StoredRoles { org: before_org, apps: before_apps })
    }
}
