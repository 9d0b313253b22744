//! Users: their rows, roles, passwords and custom metadata.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Row, Transaction};
use usher_core::{
    conflict::constraint,
    invitations::NewInvitation,
    mail::OutboxMessage,
    metadata::Metadata,
    store::{AuditEvent, NewUser, Profile, StoreError, StoreResult, User, UserStore},
};
use usher_domain::{OrgId, Role, UserId, fold};

use super::{Db, Engine, Lock, lock, map_err, rows, rows::run};

/// True unless the user ($1) is an active Administrator and no other active
/// Administrator of the organization ($2) would remain.
macro_rules! keeps_an_admin {
    () => {
        "(status <> 'active' \
          OR NOT EXISTS (SELECT 1 FROM user_roles a WHERE a.user_id = $1 AND a.role = 'administrator') \
          OR EXISTS (SELECT 1 FROM user_roles r JOIN users o ON o.id = r.user_id \
                     WHERE r.role = 'administrator' AND o.org_id = $2 AND o.status = 'active' AND o.id <> $1))"
    };
}

const INSERT: &str = "INSERT INTO users (id, org_id, user_id, user_id_key, email, email_key, first_name, last_name, \
    phone, contact_person, company, language, timezone, status, password_hash, password_changed_at, created_at, \
    updated_at, first_name_key, last_name_key) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17, $18, $19)";

/// Inserts a user with their roles, inside a transaction.
pub(super) async fn insert_user_on(tx: &mut Transaction<'_, Engine>, u: &NewUser) -> StoreResult<()> {
    let (p, keys) = (&u.profile, sort_keys(&u.profile));
    let query = sqlx::query(INSERT).bind(u.id).bind(u.org_id).bind(&u.user_id).bind(&u.user_id_key).bind(&u.email);
    let query = query.bind(&u.email_key).bind(&p.first_name).bind(&p.last_name).bind(&p.phone).bind(&p.contact_person);
    let query = query.bind(&p.company).bind(p.language.code()).bind(p.timezone.name()).bind(u.status.as_str());
    let query = query.bind(&u.password_hash).bind(u.password_hash.as_ref().map(|_| u.created_at)).bind(u.created_at);
    run(&mut **tx, query.bind(keys.0).bind(keys.1)).await?;
    for role in &u.roles {
        let query = sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)").bind(u.id);
        run(&mut **tx, query.bind(role.as_str())).await?;
    }
    Ok(())
}

/// The folded first and last names the directory sorts by.
fn sort_keys(p: &Profile) -> (String, String) {
    (fold(p.first_name.as_deref().unwrap_or("")), fold(p.last_name.as_deref().unwrap_or("")))
}

const WRITE_PROFILE: &str = "UPDATE users SET first_name = $1, last_name = $2, phone = $3, contact_person = $4, \
    company = $5, language = $6, timezone = $7, updated_at = $8, first_name_key = $9, last_name_key = $10 WHERE id = $11";

/// Saves a user's profile (names, phone, language, zone and their sort keys).
async fn write_profile<'e>(
    exec: impl sqlx::Executor<'e, Database = Engine>,
    id: UserId,
    p: &Profile,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let keys = sort_keys(p);
    let query = sqlx::query(WRITE_PROFILE).bind(&p.first_name).bind(&p.last_name).bind(&p.phone);
    let query = query.bind(&p.contact_person).bind(&p.company).bind(p.language.code()).bind(p.timezone.name());
    if run(exec, query.bind(at).bind(keys.0).bind(keys.1).bind(id)).await? == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// $1 at, $2 user.
const KEEP_OLD_HASH: &str = "INSERT INTO password_history (user_id, hash, created_at) \
    SELECT id, password_hash, $1 FROM users WHERE id = $2 AND password_hash IS NOT NULL";
/// $1 user, $2 how many to keep.
const PRUNE_HISTORY: &str = "DELETE FROM password_history WHERE user_id = $1 AND seq NOT IN \
    (SELECT seq FROM password_history WHERE user_id = $1 ORDER BY created_at DESC, seq DESC LIMIT $2)";
/// $1 hash, $2 at, $3 user, $4 temporary.
const SET_HASH: &str = "UPDATE users SET password_hash = $1, password_changed_at = $2, must_change_password = $4, \
    status = CASE WHEN $4 AND status = 'invited' THEN 'active' ELSE status END, updated_at = $2 WHERE id = $3";

/// Replaces the password hash, the previous one joining the history (which
/// keeps `keep` entries), inside a transaction; `temporary` makes the user
/// change it at their next sign-in and activates an invited user. False when
/// there is no such user.
async fn replace_password(
    tx: &mut Transaction<'_, Engine>,
    user: UserId,
    hash: &str,
    at: DateTime<Utc>,
    keep: u32,
    temporary: bool,
) -> StoreResult<bool> {
    run(&mut **tx, sqlx::query(KEEP_OLD_HASH).bind(at).bind(user)).await?;
    run(&mut **tx, sqlx::query(PRUNE_HISTORY).bind(user).bind(i64::from(keep))).await?;
    Ok(run(&mut **tx, sqlx::query(SET_HASH).bind(hash).bind(at).bind(user).bind(temporary)).await? == 1)
}

/// After a guarded change touched no row: the user is gone, or the guard refused.
async fn refused_or_missing(tx: &mut Transaction<'_, Engine>, org_id: OrgId, user: UserId) -> StoreError {
    let exists = sqlx::query("SELECT 1 FROM users WHERE id = $1 AND org_id = $2")
        .bind(user)
        .bind(org_id)
        .fetch_optional(&mut **tx)
        .await;
    match exists {
        Ok(Some(_)) => StoreError::Conflict { constraint: constraint::LAST_ADMINISTRATOR.to_owned() },
        Ok(None) => StoreError::NotFound,
        Err(e) => map_err(e),
    }
}

const BY_ID: &str = concat!("SELECT ", user_columns!(), " FROM users u WHERE u.id = $1");

/// $1 org, $2 key: a user ID match wins over another user's email.
const BY_LOGIN: &str = concat!(
    "SELECT ",
    user_columns!(),
    ", u.password_hash FROM users u WHERE u.org_id = $1 AND (u.user_id_key = $2 OR u.email_key = $2) \
     ORDER BY u.user_id_key = $2 DESC LIMIT 1"
);

/// $1 org, $2 after (cursor), $3 limit.
const PAGE: &str = concat!(
    "SELECT ",
    user_columns!(),
    " FROM users u WHERE u.org_id = $1 AND ($2 IS NULL OR u.user_id_key > $2) ORDER BY u.user_id_key LIMIT $3"
);

/// $1 role, $2 org.
const WITH_ROLE: &str = concat!(
    "SELECT ",
    user_columns!(),
    " FROM user_roles ur JOIN users u ON u.id = ur.user_id \
     WHERE ur.role = $1 AND u.org_id = $2 AND u.status = 'active' ORDER BY u.user_id_key"
);

/// $1 user, $2 org, $3 at.
const DISABLE: &str = concat!(
    "UPDATE users SET status = 'disabled', updated_at = $3 WHERE id = $1 AND org_id = $2 AND ",
    keeps_an_admin!()
);
const ENABLE: &str = "UPDATE users SET status = CASE WHEN password_hash IS NULL THEN 'invited' ELSE 'active' END, \
    updated_at = $3 WHERE id = $1 AND org_id = $2";
const DELETE: &str = concat!("DELETE FROM users WHERE id = $1 AND org_id = $2 AND ", keeps_an_admin!());
const END_SESSIONS: &str = "DELETE FROM sessions WHERE user_id = $1";

#[async_trait]
impl UserStore for Db {
    async fn insert_user(&self, user: &NewUser) -> StoreResult<()> {
        let mut tx = self.write().await?;
        insert_user_on(&mut tx, user).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn create_user(
        &self,
        user: &NewUser,
        metadata: Option<(&Metadata, &[(String, String)])>,
        event: &AuditEvent,
        invitation: Option<&NewInvitation<'_>>,
    ) -> StoreResult<()> {
        let mut tx = self.write().await?;
        insert_user_on(&mut tx, user).await?;
        if let Some((values, entries)) = metadata {
            super::directory::write_metadata_on(&mut tx, user.org_id, user.id, values, entries, user.created_at)
                .await?;
        }
        super::audit::append_audit_on(&mut *tx, event).await?;
        if let Some(invitation) = invitation {
            super::invitations::insert_invitation_on(&mut tx, invitation).await?;
        }
        tx.commit().await.map_err(map_err)
    }

    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        self.one(|| sqlx::query(BY_ID).bind(id), rows::user).await
    }

    async fn user_by_login(&self, org_id: OrgId, key: &str) -> StoreResult<Option<(User, Option<String>)>> {
        self.one(|| sqlx::query(BY_LOGIN).bind(org_id).bind(key), |r| Ok((rows::user(r)?, r.try_get("password_hash")?)))
            .await
    }

    async fn users_page(&self, org_id: OrgId, after: Option<&str>, limit: u32) -> StoreResult<Vec<User>> {
        self.all(|| sqlx::query(PAGE).bind(org_id).bind(after).bind(i64::from(limit)), rows::user).await
    }

    async fn update_profile(&self, id: UserId, profile: &Profile, at: DateTime<Utc>) -> StoreResult<()> {
        write_profile(&self.pool, id, profile, at).await
    }

    async fn set_user_metadata(
        &self,
        org_id: OrgId,
        user: UserId,
        profile: Option<&Profile>,
        values: &Metadata,
        entries: &[(String, String)],
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.write().await?;
        super::directory::write_metadata_on(&mut tx, org_id, user, values, entries, at).await?;
        if let Some(profile) = profile {
            write_profile(&mut *tx, user, profile, at).await?;
        }
        tx.commit().await.map_err(map_err)
    }

    async fn count_users_with_role(&self, org_id: OrgId, role: Role) -> StoreResult<u64> {
        let sql =
            "SELECT count(*) FROM user_roles r JOIN users u ON u.id = r.user_id WHERE r.role = $1 AND u.org_id = $2";
        let n = self.one(|| sqlx::query(sql).bind(role.as_str()).bind(org_id), rows::first::<i64>).await?;
        Ok(rows::count(n.unwrap_or(0)))
    }

    async fn active_users_with_role(&self, org_id: OrgId, role: Role) -> StoreResult<Vec<User>> {
        self.all(|| sqlx::query(WITH_ROLE).bind(role.as_str()).bind(org_id), rows::user).await
    }

    async fn set_user_status(&self, org_id: OrgId, user: UserId, disable: bool, at: DateTime<Utc>) -> StoreResult<u64> {
        // Changes that could leave the organization without an active
        // Administrator run one after the other (two Administrators disabling
        // each other at the same instant: the second sees the first).
        let mut tx = self.write().await?;
        if disable {
            lock(&mut tx, Lock::Organization, org_id.uuid()).await?;
        }
        let sql = if disable { DISABLE } else { ENABLE };
        if run(&mut *tx, sqlx::query(sql).bind(user).bind(org_id).bind(at)).await? == 0 {
            return Err(if disable { refused_or_missing(&mut tx, org_id, user).await } else { StoreError::NotFound });
        }
        let ended = if disable { run(&mut *tx, sqlx::query(END_SESSIONS).bind(user)).await? } else { 0 };
        tx.commit().await.map_err(map_err)?;
        Ok(ended)
    }

    async fn delete_user(
        &self,
        org_id: OrgId,
        user: UserId,
        event: &AuditEvent,
        notices: &[OutboxMessage],
    ) -> StoreResult<()> {
        let mut tx = self.write().await?;
        lock(&mut tx, Lock::Organization, org_id.uuid()).await?;
        if run(&mut *tx, sqlx::query(DELETE).bind(user).bind(org_id)).await? == 0 {
            return Err(refused_or_missing(&mut tx, org_id, user).await);
        }
        super::audit::append_audit_on(&mut *tx, event).await?;
        for notice in notices {
            super::mail::insert_mail_on(&mut *tx, notice).await?;
        }
        tx.commit().await.map_err(map_err)
    }

    async fn password_hash(&self, user: UserId) -> StoreResult<Option<String>> {
        let sql = "SELECT password_hash FROM users WHERE id = $1";
        Ok(self.one(|| sqlx::query(sql).bind(user), rows::first::<Option<String>>).await?.flatten())
    }

    async fn set_password(&self, user: UserId, hash: &str, at: DateTime<Utc>, keep: u32) -> StoreResult<()> {
        let mut tx = self.write().await?;
        replace_password(&mut tx, user, hash, at, keep, false).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn set_temporary_password(&self, user: UserId, hash: &str, at: DateTime<Utc>, keep: u32) -> StoreResult<u64> {
        let mut tx = self.write().await?;
        if !replace_password(&mut tx, user, hash, at, keep, true).await? {
            return Err(StoreError::NotFound);
        }
        let ended = run(&mut *tx, sqlx::query(END_SESSIONS).bind(user)).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(ended)
    }

    async fn password_history(&self, user: UserId, limit: u32) -> StoreResult<Vec<String>> {
        let sql = "SELECT hash FROM password_history WHERE user_id = $1 ORDER BY created_at DESC, seq DESC LIMIT $2";
        self.all(|| sqlx::query(sql).bind(user).bind(i64::from(limit)), rows::first::<String>).await
    }

    async fn upgrade_password_hash(&self, user: UserId, old: &str, new: &str) -> StoreResult<bool> {
        let sql = "UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3";
        Ok(run(&self.pool, sqlx::query(sql).bind(new).bind(user).bind(old)).await? == 1)
    }

    async fn require_password_change(&self, user: UserId, at: DateTime<Utc>) -> StoreResult<()> {
        let sql = "UPDATE users SET must_change_password = true, updated_at = $1 WHERE id = $2";
        run(&self.pool, sqlx::query(sql).bind(at).bind(user)).await?;
        Ok(())
    }
}
