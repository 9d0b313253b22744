//! UserStore queries: users, their roles, passwords and custom metadata.
//! Changes that could leave an organization without an active Administrator
//! first lock the organization's row, so two of them (two Administrators
//! disabling each other at the same instant) run one after the other and the
//! second sees the first.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Postgres, Row, Transaction};
use usher_core::{
    conflict::constraint,
    invitations::NewInvitation,
    mail::OutboxMessage,
    metadata::Metadata,
    store::{AuditEvent, NewUser, Profile, StoreError, StoreResult, User, UserStore},
};
use usher_domain::{OrgId, Role, UserId};

use super::{PostgresStore, directory::write_metadata_on, insert_user_on, map_err, user_from_row, write_profile};

/// True unless the user is an active Administrator and no other active
/// Administrator of the organization ($2) would remain. $1 is the user.
macro_rules! keeps_an_admin {
    () => {
        "(status <> 'active' \
          OR NOT EXISTS (SELECT 1 FROM user_roles a WHERE a.user_id = $1 AND a.role = 'administrator') \
          OR EXISTS (SELECT 1 FROM user_roles r JOIN users o ON o.id = r.user_id \
                     WHERE r.role = 'administrator' AND o.org_id = $2 AND o.status = 'active' AND o.id <> $1))"
    };
}

/// Serializes the changes that count an organization's Administrators.
async fn lock_organization(tx: &mut Transaction<'_, Postgres>, org_id: OrgId) -> StoreResult<()> {
    sqlx::query("SELECT 1 FROM organizations WHERE id = $1 FOR UPDATE")
        .bind(org_id)
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
    Ok(())
}

/// After a guarded change touched no row: the user is gone, or the guard refused.
async fn refused_or_missing(tx: &mut Transaction<'_, Postgres>, org_id: OrgId, user: UserId) -> StoreError {
    let exists = sqlx::query_scalar::<_, i32>("SELECT 1 FROM users WHERE id = $1 AND org_id = $2")
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

#[async_trait]
impl UserStore for PostgresStore {
    async fn insert_user(&self, u: &NewUser) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        insert_user_on(&mut tx, u).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        let row = self
            .read(|| {
                sqlx::query(concat!("SELECT ", user_columns!(), " FROM users u WHERE u.id = $1"))
                    .bind(id)
                    .fetch_optional(&self.pool)
            })
            .await
            .map_err(map_err)?;
        row.as_ref().map(user_from_row).transpose().map_err(map_err)
    }

    async fn user_by_login(&self, org_id: OrgId, key: &str) -> StoreResult<Option<(User, Option<String>)>> {
        // A user ID match wins over another user's email.
        let row = self
            .read(|| {
                sqlx::query(concat!(
                    "SELECT ",
                    user_columns!(),
                    ", u.password_hash FROM users u \
             WHERE u.org_id = $1 AND (u.user_id_key = $2 OR u.email_key = $2) \
             ORDER BY (u.user_id_key = $2) DESC LIMIT 1"
                ))
                .bind(org_id)
                .bind(key)
                .fetch_optional(&self.pool)
            })
            .await
            .map_err(map_err)?;
        row.map(|r| Ok((user_from_row(&r)?, r.try_get("password_hash")?))).transpose().map_err(map_err)
    }

    async fn update_profile(&self, id: UserId, p: &Profile, at: DateTime<Utc>) -> StoreResult<()> {
        write_profile(&self.pool, id, p, at).await
    }

    async fn count_users_with_role(&self, org_id: OrgId, role: Role) -> StoreResult<u64> {
        let n: i64 = self
            .read(|| {
                sqlx::query_scalar(
            "SELECT count(*) FROM user_roles r JOIN users u ON u.id = r.user_id WHERE r.role = $1 AND u.org_id = $2",
        )
        .bind(role.as_str())
        .bind(org_id)
        .fetch_one(&self.pool)
            })
            .await
            .map_err(map_err)?;
        Ok(n.max(0) as u64)
    }

    async fn users_page(&self, org_id: OrgId, after: Option<&str>, limit: u32) -> StoreResult<Vec<User>> {
        let rows = self.read(|| sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users u WHERE u.org_id = $1 AND ($2::text IS NULL OR u.user_id_key > $2) ORDER BY u.user_id_key LIMIT $3"
        ))
        .bind(org_id)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool))
        .await
        .map_err(map_err)?;
        rows.iter().map(user_from_row).collect::<Result<_, _>>().map_err(map_err)
    }

    async fn password_hash(&self, user: UserId) -> StoreResult<Option<String>> {
        let hash: Option<Option<String>> = self
            .read(|| {
                sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
                    .bind(user)
                    .fetch_optional(&self.pool)
            })
            .await
            .map_err(map_err)?;
        Ok(hash.flatten())
    }

    async fn set_password(&self, user: UserId, hash: &str, at: DateTime<Utc>, keep: u32) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        sqlx::query(
            "INSERT INTO password_history (user_id, hash, created_at) \
             SELECT id, password_hash, $1 FROM users WHERE id = $2 AND password_hash IS NOT NULL",
        )
        .bind(at)
        .bind(user)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        sqlx::query(
            "DELETE FROM password_history WHERE user_id = $1 AND seq NOT IN \
             (SELECT seq FROM password_history WHERE user_id = $1 ORDER BY created_at DESC, seq DESC LIMIT $2)",
        )
        .bind(user)
        .bind(i64::from(keep))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        sqlx::query(
            "UPDATE users SET password_hash = $1, password_changed_at = $2, must_change_password = false, \
             updated_at = $2 WHERE id = $3",
        )
        .bind(hash)
        .bind(at)
        .bind(user)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    async fn password_history(&self, user: UserId, limit: u32) -> StoreResult<Vec<String>> {
        self.read(|| {
            sqlx::query_scalar(
                "SELECT hash FROM password_history WHERE user_id = $1 ORDER BY created_at DESC, seq DESC LIMIT $2",
            )
            .bind(user)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
        })
        .await
        .map_err(map_err)
    }

    async fn set_user_status(&self, org_id: OrgId, user: UserId, disable: bool, at: DateTime<Utc>) -> StoreResult<u64> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let changed = if disable {
            lock_organization(&mut tx, org_id).await?;
            sqlx::query(concat!(
                "UPDATE users SET status = 'disabled', updated_at = $3 WHERE id = $1 AND org_id = $2 AND ",
                keeps_an_admin!()
            ))
            .bind(user)
            .bind(org_id)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
        } else {
            sqlx::query(
                "UPDATE users SET status = CASE WHEN password_hash IS NULL THEN 'invited' ELSE 'active' END, \
                 updated_at = $3 WHERE id = $1 AND org_id = $2",
            )
            .bind(user)
            .bind(org_id)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
        };
        if changed.rows_affected() == 0 {
            return Err(if disable { refused_or_missing(&mut tx, org_id, user).await } else { StoreError::NotFound });
        }
        let ended = if disable {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?
                .rows_affected()
        } else {
            0
        };
        tx.commit().await.map_err(map_err)?;
        Ok(ended)
    }

    async fn create_user(
        &self,
        user: &NewUser,
        metadata: Option<(&Metadata, &[(String, String)])>,
        event: &AuditEvent,
        invitation: Option<&NewInvitation<'_>>,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        super::insert_user_on(&mut tx, user).await?;
        if let Some((values, entries)) = metadata {
            super::directory::write_metadata_on(&mut tx, user.org_id, user.id, values, entries, user.created_at)
                .await?;
        }
        super::append_audit_on(&mut *tx, event).await?;
        if let Some(invitation) = invitation {
            super::invitations::insert_invitation_on(&mut tx, invitation).await?;
        }
        tx.commit().await.map_err(map_err)
    }

    async fn delete_user(
        &self,
        org_id: OrgId,
        user: UserId,
        event: &AuditEvent,
        notices: &[OutboxMessage],
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        lock_organization(&mut tx, org_id).await?;
        let done = sqlx::query(concat!("DELETE FROM users WHERE id = $1 AND org_id = $2 AND ", keeps_an_admin!()))
            .bind(user)
            .bind(org_id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return Err(refused_or_missing(&mut tx, org_id, user).await);
        }
        super::append_audit_on(&mut *tx, event).await?;
        for notice in notices {
            super::mail::insert_mail_on(&mut *tx, notice).await?;
        }
        tx.commit().await.map_err(map_err)
    }

    async fn set_temporary_password(&self, user: UserId, hash: &str, at: DateTime<Utc>, keep: u32) -> StoreResult<u64> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        sqlx::query(
            "INSERT INTO password_history (user_id, hash, created_at) \
             SELECT id, password_hash, $1 FROM users WHERE id = $2 AND password_hash IS NOT NULL",
        )
        .bind(at)
        .bind(user)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        sqlx::query(
            "DELETE FROM password_history WHERE user_id = $1 AND seq NOT IN \
             (SELECT seq FROM password_history WHERE user_id = $1 ORDER BY created_at DESC, seq DESC LIMIT $2)",
        )
        .bind(user)
        .bind(i64::from(keep))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        let done = sqlx::query(
            "UPDATE users SET password_hash = $1, password_changed_at = $2, must_change_password = true, \
             status = CASE WHEN status = 'invited' THEN 'active' ELSE status END, updated_at = $2 WHERE id = $3",
        )
        .bind(hash)
        .bind(at)
        .bind(user)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let ended = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected();
        tx.commit().await.map_err(map_err)?;
        Ok(ended)
    }

    async fn active_users_with_role(&self, org_id: OrgId, role: Role) -> StoreResult<Vec<User>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM user_roles ur JOIN users u ON u.id = ur.user_id \
             WHERE ur.role = $1 AND u.org_id = $2 AND u.status = 'active' ORDER BY u.user_id_key"
        ))
        .bind(role.as_str())
        .bind(org_id)
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.iter().map(user_from_row).collect::<Result<_, _>>().map_err(map_err)
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
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        write_metadata_on(&mut tx, org_id, user, values, entries, at).await?;
        if let Some(profile) = profile {
            super::write_profile(&mut *tx, user, profile, at).await?;
        }
        tx.commit().await.map_err(map_err)
    }

    async fn upgrade_password_hash(&self, user: UserId, old: &str, new: &str) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3")
            .bind(new)
            .bind(user)
            .bind(old)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn require_password_change(&self, user: UserId, at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("UPDATE users SET must_change_password = true, updated_at = $1 WHERE id = $2")
            .bind(at)
            .bind(user)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }
}
