//! UserAdminStore queries. Changes that could leave an organization without an
//! active Administrator first lock the organization's row, so two of them (two
//! Administrators disabling each other at the same instant) run one after the
//! other and the second sees the first.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Postgres, Row, Transaction};
use usher_core::{
    conflict::constraint,
    invitations::NewInvitation,
    mail::OutboxMessage,
    metadata::Metadata,
    store::{AuditEvent, NewUser, Session, StoreError, StoreResult, User},
    users::UserAdminStore,
};
use usher_domain::Role;
use uuid::Uuid;

use super::{PostgresStore, audit_from_row, map_err, user_from_row};

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
async fn lock_organization(tx: &mut Transaction<'_, Postgres>, org_id: Uuid) -> StoreResult<()> {
    sqlx::query("SELECT 1 FROM organizations WHERE id = $1 FOR UPDATE")
        .bind(org_id)
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
    Ok(())
}

/// After a guarded change touched no row: the user is gone, or the guard refused.
async fn refused_or_missing(tx: &mut Transaction<'_, Postgres>, org_id: Uuid, user: Uuid) -> StoreError {
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

fn session_from_row(row: &sqlx::postgres::PgRow) -> Result<Session, sqlx::Error> {
    Ok(Session {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        secret_digest: row.try_get("secret_digest")?,
        created_at: row.try_get("created_at")?,
        last_active_at: row.try_get("last_active_at")?,
        expires_at: row.try_get("expires_at")?,
        address: row.try_get("address")?,
        client: row.try_get("client")?,
    })
}

#[async_trait]
impl UserAdminStore for PostgresStore {
    async fn set_user_status(&self, org_id: Uuid, user: Uuid, disable: bool, at: DateTime<Utc>) -> StoreResult<u64> {
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
        org_id: Uuid,
        user: Uuid,
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

    async fn set_temporary_password(&self, user: Uuid, hash: &str, at: DateTime<Utc>, keep: u32) -> StoreResult<u64> {
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

    async fn user_sessions(
        &self,
        user: Uuid,
        now: DateTime<Utc>,
        idle_since: DateTime<Utc>,
    ) -> StoreResult<Vec<Session>> {
        let rows = sqlx::query(
            "SELECT id, user_id, secret_digest, created_at, last_active_at, expires_at, address, client \
             FROM sessions WHERE user_id = $1 AND expires_at > $2 AND last_active_at > $3 ORDER BY created_at DESC",
        )
        .bind(user)
        .bind(now)
        .bind(idle_since)
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.iter().map(session_from_row).collect::<Result<_, _>>().map_err(map_err)
    }

    async fn delete_user_sessions(&self, user: Uuid) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected())
    }

    async fn events_about(&self, user: Uuid, action: &str, limit: u32) -> StoreResult<Vec<AuditEvent>> {
        let rows =
            sqlx::query("SELECT * FROM audit_events WHERE target_id = $1 AND action = $2 ORDER BY id DESC LIMIT $3")
                .bind(user)
                .bind(action)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(map_err)?;
        rows.iter().map(audit_from_row).collect::<Result<_, _>>().map_err(map_err)
    }

    async fn active_users_with_role(&self, org_id: Uuid, role: Role) -> StoreResult<Vec<User>> {
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
}
