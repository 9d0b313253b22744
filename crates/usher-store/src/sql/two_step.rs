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

use super::{Db, DbRow, Engine, id_list, map_err, rows, rows::run};

const ONE: &str = "SELECT t.user_id, t.secret, t.created_at, t.confirmed_at, t.last_step, \
     (SELECT count(*) FROM mfa_recovery_codes c WHERE c.user_id = t.user_id AND c.used_at IS NULL) \
     AS codes FROM mfa_totp t WHERE t.user_id = $1";

/// $1 user, $2 secret, $3 at; only while the authenticator is not confirmed.
const PUT_PENDING: &str = "INSERT INTO mfa_totp (user_id, secret, created_at) VALUES ($1, $2, $3) \
     ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at, \
     last_step = NULL WHERE mfa_totp.confirmed_at IS NULL";

/// $1 user, $2 at, $3 step.
const CONFIRM: &str =
    "UPDATE mfa_totp SET confirmed_at = $2, last_step = $3 WHERE user_id = $1 AND confirmed_at IS NULL";

/// $1 user, $2 step: each step is used once, in order.
const USE_STEP: &str = "UPDATE mfa_totp SET last_step = $2 WHERE user_id = $1 AND confirmed_at IS NOT NULL \
     AND (last_step IS NULL OR last_step < $2)";

const DELETE_CODES: &str = "DELETE FROM mfa_recovery_codes WHERE user_id = $1";

/// $1 user, $2 at, $3 the digests.
const INSERT_CODES: &str =
    concat!("INSERT INTO mfa_recovery_codes (user_id, digest, created_at) SELECT $1, ids.id, $2 FROM ", id_rows!("$3"));

/// $1 user, $2 digest, $3 at.
const USE_CODE: &str = "UPDATE mfa_recovery_codes SET used_at = $3 WHERE user_id = $1 AND digest = $2 AND used_at IS NULL \
     AND EXISTS (SELECT 1 FROM mfa_totp t WHERE t.user_id = $1 AND t.confirmed_at IS NOT NULL)";

fn totp(row: &DbRow) -> rows::Read<TotpRecord> {
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
    run(&mut **tx, sqlx::query(DELETE_CODES).bind(user)).await?;
    let digests = id_list(codes.iter().map(Vec::as_slice));
    run(&mut **tx, sqlx::query(INSERT_CODES).bind(user).bind(at).bind(digests)).await?;
    Ok(())
}

#[async_trait]
impl TwoStepStore for Db {
    async fn totp(&self, user: UserId) -> StoreResult<Option<TotpRecord>> {
        self.one(|| sqlx::query(ONE).bind(user), totp).await
    }

    async fn put_pending_totp(&self, user: UserId, secret: &[u8], at: DateTime<Utc>) -> StoreResult<()> {
        let done = run(&self.pool, sqlx::query(PUT_PENDING).bind(user).bind(secret).bind(at)).await?;
        if done == 0 { Err(StoreError::Conflict { constraint: constraint::MFA_ENABLED.into() }) } else { Ok(()) }
    }

    async fn confirm_totp(&self, user: UserId, step: i64, codes: &[Vec<u8>], at: DateTime<Utc>) -> StoreResult<bool> {
        let mut tx = self.write().await?;
        if run(&mut *tx, sqlx::query(CONFIRM).bind(user).bind(at).bind(step)).await? == 0 {
            return Ok(false);
        }
        replace_codes(&mut tx, user, codes, at).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }

    async fn use_totp_step(&self, user: UserId, step: i64) -> StoreResult<bool> {
        Ok(run(&self.pool, sqlx::query(USE_STEP).bind(user).bind(step)).await? == 1)
    }

    async fn delete_totp(&self, user: UserId) -> StoreResult<bool> {
        let mut tx = self.write().await?;
        let deleted = run(&mut *tx, sqlx::query("DELETE FROM mfa_totp WHERE user_id = $1").bind(user)).await?;
        run(&mut *tx, sqlx::query(DELETE_CODES).bind(user)).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(deleted > 0)
    }

    async fn replace_recovery_codes(&self, user: UserId, codes: &[Vec<u8>], at: DateTime<Utc>) -> StoreResult<()> {
        let mut tx = self.write().await?;
        replace_codes(&mut tx, user, codes, at).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn use_recovery_code(&self, user: UserId, digest: &[u8], at: DateTime<Utc>) -> StoreResult<bool> {
        Ok(run(&self.pool, sqlx::query(USE_CODE).bind(user).bind(digest).bind(at)).await? == 1)
    }
}
