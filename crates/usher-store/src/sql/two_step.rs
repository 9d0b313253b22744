//! Two-step verification: authenticators and recovery codes. A guarded UPDATE
//! or an INSERT ... ON CONFLICT checks and changes atomically.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Row, Transaction};
use usher_core::{
    conflict::constraint,
    store::{StoreError, StoreResult, TotpRecord, TwoStepStore},
};
use usher_domain::UserId;

use super::{Db, DbRow, Engine, id_list, map_err, rows};

fn totp(row: &DbRow) -> Result<TotpRecord, sqlx::Error> {
    Ok(TotpRecord {
        user: row.try_get("user_id")?,
        secret: row.try_get("secret")?,
        created_at: row.try_get("created_at")?,
        confirmed_at: row.try_get("confirmed_at")?,
        last_step: row.try_get("last_step")?,
        recovery_codes_left: u32::try_from(row.try_get::<i64, _>("codes")?).unwrap_or(u32::MAX),
    })
}

/// Replaces the user's recovery codes with `codes` (digests), in one statement each way.
async fn replace_codes(
    tx: &mut Transaction<'_, Engine>,
    user: UserId,
    codes: &[Vec<u8>],
    at: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM mfa_recovery_codes WHERE user_id = $1")
        .bind(user)
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
    sqlx::query(concat!(
        "INSERT INTO mfa_recovery_codes (user_id, digest, created_at) SELECT $1, ids.id, $2 FROM ",
        id_rows!("$3")
    ))
    .bind(user)
    .bind(at)
    .bind(id_list(codes.iter().map(Vec::as_slice)))
    .execute(&mut **tx)
    .await
    .map_err(map_err)?;
    Ok(())
}

#[async_trait]
impl TwoStepStore for Db {
    async fn totp(&self, user: UserId) -> StoreResult<Option<TotpRecord>> {
        let found = self
            .read(|| {
                sqlx::query(
                    "SELECT t.user_id, t.secret, t.created_at, t.confirmed_at, t.last_step, \
                     (SELECT count(*) FROM mfa_recovery_codes c WHERE c.user_id = t.user_id AND c.used_at IS NULL) \
                     AS codes FROM mfa_totp t WHERE t.user_id = $1",
                )
                .bind(user)
                .fetch_optional(&self.pool)
            })
            .await
            .map_err(map_err)?;
        rows::one(found, totp)
    }

    async fn put_pending_totp(&self, user: UserId, secret: &[u8], at: DateTime<Utc>) -> StoreResult<()> {
        let done = sqlx::query(
            "INSERT INTO mfa_totp (user_id, secret, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at, \
             last_step = NULL WHERE mfa_totp.confirmed_at IS NULL",
        )
        .bind(user)
        .bind(secret)
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        if done.rows_affected() == 0 {
            Err(StoreError::Conflict { constraint: constraint::MFA_ENABLED.into() })
        } else {
            Ok(())
        }
    }

    async fn confirm_totp(&self, user: UserId, step: i64, codes: &[Vec<u8>], at: DateTime<Utc>) -> StoreResult<bool> {
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE mfa_totp SET confirmed_at = $2, last_step = $3 WHERE user_id = $1 AND confirmed_at IS NULL",
        )
        .bind(user)
        .bind(at)
        .bind(step)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        replace_codes(&mut tx, user, codes, at).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }

    async fn use_totp_step(&self, user: UserId, step: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE mfa_totp SET last_step = $2 WHERE user_id = $1 AND confirmed_at IS NOT NULL \
             AND (last_step IS NULL OR last_step < $2)",
        )
        .bind(user)
        .bind(step)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_totp(&self, user: UserId) -> StoreResult<bool> {
        let mut tx = self.write().await?;
        let done = sqlx::query("DELETE FROM mfa_totp WHERE user_id = $1")
            .bind(user)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        sqlx::query("DELETE FROM mfa_recovery_codes WHERE user_id = $1")
            .bind(user)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn replace_recovery_codes(&self, user: UserId, codes: &[Vec<u8>], at: DateTime<Utc>) -> StoreResult<()> {
        let mut tx = self.write().await?;
        replace_codes(&mut tx, user, codes, at).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn use_recovery_code(&self, user: UserId, digest: &[u8], at: DateTime<Utc>) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE mfa_recovery_codes SET used_at = $3 WHERE user_id = $1 AND digest = $2 AND used_at IS NULL \
             AND EXISTS (SELECT 1 FROM mfa_totp t WHERE t.user_id = $1 AND t.confirmed_at IS NOT NULL)",
        )
        .bind(user)
        .bind(digest)
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected() == 1)
    }
}
