//! TwoStepStore, SessionStore and LockoutStore queries: authenticators, recovery
//! codes, sessions, sign-in tickets and failure counts. A guarded UPDATE or an
//! INSERT ... ON CONFLICT checks and changes atomically.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Row, postgres::PgRow};
use usher_core::{
    conflict::constraint,
    store::{
        Attempt, AuditEvent, FailureCount, LockoutStore, LoginTicket, Session, SessionStore, SignInFacts, StoreError,
        StoreResult, ThrottleRow, TotpRecord, TwoStepStore, User,
    },
};
use usher_domain::{OrgId, SessionId, UserId};

use super::{PostgresStore, UPDATE_LAST_LOGIN, append_audit_on, insert_session_on, map_err, user_from_row};

fn count(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

/// One attempt on a key: $1 key, $2 now, $3 threshold, $4 lock until, $5 window
/// cutoff. A running lock keeps the row as it is but answers a count past the
/// threshold (the caller then rolls back); an old lock or window starts afresh.
const TAKE_ATTEMPT: &str = "INSERT INTO login_throttle (key, failures, window_start, last_failure_at, locked_until) \
     VALUES ($1, 1, $2, $2, CASE WHEN $3 <= 1 THEN $4 END) \
     ON CONFLICT (key) DO UPDATE SET \
       failures = CASE WHEN login_throttle.locked_until > $2 THEN GREATEST(login_throttle.failures, $3) + 1 \
         WHEN login_throttle.locked_until IS NOT NULL OR login_throttle.window_start <= $5 THEN 1 \
         ELSE login_throttle.failures + 1 END, \
       window_start = CASE WHEN login_throttle.locked_until > $2 THEN login_throttle.window_start \
         WHEN login_throttle.locked_until IS NOT NULL OR login_throttle.window_start <= $5 THEN $2 \
         ELSE login_throttle.window_start END, \
       last_failure_at = $2, \
       locked_until = CASE WHEN login_throttle.locked_until > $2 THEN login_throttle.locked_until \
         WHEN (CASE WHEN login_throttle.locked_until IS NOT NULL OR login_throttle.window_start <= $5 THEN 1 \
           ELSE login_throttle.failures + 1 END) >= $3 THEN $4 \
         ELSE NULL END \
     RETURNING key, failures, window_start, last_failure_at, locked_until";

fn throttle_from_row(row: &PgRow) -> Result<ThrottleRow, sqlx::Error> {
    Ok(ThrottleRow {
        key: row.try_get("key")?,
        failures: count(i64::from(row.try_get::<i32, _>("failures")?)),
        window_start: row.try_get("window_start")?,
        last_failure_at: row.try_get("last_failure_at")?,
        locked_until: row.try_get("locked_until")?,
    })
}

fn session_from_row(row: &PgRow) -> Result<Session, sqlx::Error> {
    Ok(Session {
        id: row.try_get("id")?,
        user: row.try_get("user_id")?,
        secret_digest: row.try_get("secret_digest")?,
        created_at: row.try_get("created_at")?,
        last_active_at: row.try_get("last_active_at")?,
        expires_at: row.try_get("expires_at")?,
        address: row.try_get("address")?,
        client: row.try_get("client")?,
    })
}

async fn insert_codes(
    tx: &mut sqlx::PgConnection,
    user: UserId,
    codes: &[Vec<u8>],
    at: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM mfa_recovery_codes WHERE user_id = $1")
        .bind(user)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    for digest in codes {
        sqlx::query("INSERT INTO mfa_recovery_codes (user_id, digest, created_at) VALUES ($1, $2, $3)")
            .bind(user)
            .bind(digest)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
    }
    Ok(())
}

#[async_trait]
impl TwoStepStore for PostgresStore {
    async fn totp(&self, user: UserId) -> StoreResult<Option<TotpRecord>> {
        let row = sqlx::query(
            "SELECT t.user_id, t.secret, t.created_at, t.confirmed_at, t.last_step, \
             (SELECT count(*) FROM mfa_recovery_codes c WHERE c.user_id = t.user_id AND c.used_at IS NULL) AS codes \
             FROM mfa_totp t WHERE t.user_id = $1",
        )
        .bind(user)
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        row.map(|r| {
            Ok(TotpRecord {
                user: r.try_get("user_id")?,
                secret: r.try_get("secret")?,
                created_at: r.try_get("created_at")?,
                confirmed_at: r.try_get("confirmed_at")?,
                last_step: r.try_get("last_step")?,
                recovery_codes_left: count(r.try_get("codes")?),
            })
        })
        .transpose()
        .map_err(map_err)
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
        let mut tx = self.pool.begin().await.map_err(map_err)?;
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
        insert_codes(&mut tx, user, codes, at).await?;
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
        let mut tx = self.pool.begin().await.map_err(map_err)?;
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
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        insert_codes(&mut tx, user, codes, at).await?;
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

#[async_trait]
impl SessionStore for PostgresStore {
    async fn insert_session(&self, s: &Session) -> StoreResult<()> {
        insert_session_on(&self.pool, s).await
    }

    async fn sign_in(&self, session: &Session, event: &AuditEvent) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        sqlx::query(UPDATE_LAST_LOGIN)
            .bind(session.created_at)
            .bind(session.user)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        insert_session_on(&mut *tx, session).await?;
        append_audit_on(&mut *tx, event).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn session_by_digest(&self, digest: &[u8]) -> StoreResult<Option<(Session, User)>> {
        let row = self
            .read(|| {
                sqlx::query(concat!(
                    "SELECT ",
                    user_columns!(),
                    ", s.id AS s_id, s.secret_digest, s.created_at AS s_created_at, s.last_active_at, \
             s.expires_at, s.address, s.client \
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.secret_digest = $1"
                ))
                .bind(digest)
                .fetch_optional(&self.pool)
            })
            .await
            .map_err(map_err)?;
        let Some(row) = row else { return Ok(None) };
        let user = user_from_row(&row).map_err(map_err)?;
        let session = (|| {
            Ok::<_, sqlx::Error>(Session {
                id: row.try_get("s_id")?,
                user: user.id,
                secret_digest: row.try_get("secret_digest")?,
                created_at: row.try_get("s_created_at")?,
                last_active_at: row.try_get("last_active_at")?,
                expires_at: row.try_get("expires_at")?,
                address: row.try_get("address")?,
                client: row.try_get("client")?,
            })
        })()
        .map_err(map_err)?;
        Ok(Some((session, user)))
    }

    async fn touch_session(&self, id: SessionId, at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET last_active_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn delete_session(&self, id: SessionId) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id).execute(&self.pool).await.map_err(map_err)?;
        Ok(())
    }

    async fn live_sessions(
        &self,
        user: UserId,
        now: DateTime<Utc>,
        idle_since: DateTime<Utc>,
        before: Option<SessionId>,
        limit: u32,
    ) -> StoreResult<Vec<Session>> {
        let rows = sqlx::query(
            "SELECT * FROM sessions WHERE user_id = $1 AND expires_at > $2 AND last_active_at > $3 \
             AND ($4 IS NULL OR id < $4) ORDER BY id DESC LIMIT $5",
        )
        .bind(user)
        .bind(now)
        .bind(idle_since)
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.iter().map(session_from_row).collect::<Result<_, _>>().map_err(map_err)
    }

    async fn delete_own_session(&self, user: UserId, id: SessionId) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM sessions WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_sessions_except(&self, user: UserId, keep: Option<SessionId>) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND ($2 IS NULL OR id <> $2)")
            .bind(user)
            .bind(keep)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected())
    }

    async fn sign_in_facts(&self, org_id: OrgId, user: UserId) -> StoreResult<SignInFacts> {
        let row = sqlx::query(
            "SELECT EXISTS (SELECT 1 FROM mfa_totp WHERE user_id = $2 AND confirmed_at IS NOT NULL) AS totp, \
             (SELECT value FROM settings WHERE org_id = $1 AND key = 'mfa') AS mfa, \
             (SELECT value FROM settings WHERE org_id = $1 AND key = 'password_policy') AS policy",
        )
        .bind(org_id)
        .bind(user)
        .fetch_one(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(SignInFacts {
            totp: row.try_get("totp").map_err(map_err)?,
            mfa_setting: row.try_get("mfa").map_err(map_err)?,
            password_policy: row.try_get("policy").map_err(map_err)?,
        })
    }

    async fn insert_login_ticket(&self, t: &LoginTicket) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO login_tickets (digest, user_id, created_at, expires_at, attempts) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&t.digest)
        .bind(t.user)
        .bind(t.created_at)
        .bind(t.expires_at)
        .bind(i64::from(t.attempts))
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn login_ticket(&self, digest: &[u8], now: DateTime<Utc>) -> StoreResult<Option<(LoginTicket, User)>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            ", k.digest AS k_digest, k.created_at AS k_created_at, k.expires_at AS k_expires_at, k.attempts \
             FROM login_tickets k JOIN users u ON u.id = k.user_id WHERE k.digest = $1 AND k.expires_at > $2"
        ))
        .bind(digest)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        let Some(row) = row else { return Ok(None) };
        let user = user_from_row(&row).map_err(map_err)?;
        let ticket = LoginTicket {
            digest: row.try_get("k_digest").map_err(map_err)?,
            user: user.id,
            created_at: row.try_get("k_created_at").map_err(map_err)?,
            expires_at: row.try_get("k_expires_at").map_err(map_err)?,
            attempts: count(i64::from(row.try_get::<i32, _>("attempts").map_err(map_err)?)),
        };
        Ok(Some((ticket, user)))
    }

    async fn login_ticket_failed(&self, digest: &[u8], max_attempts: u32) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        sqlx::query("UPDATE login_tickets SET attempts = attempts + 1 WHERE digest = $1")
            .bind(digest)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        sqlx::query("DELETE FROM login_tickets WHERE digest = $1 AND attempts >= $2")
            .bind(digest)
            .bind(i64::from(max_attempts))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    async fn take_login_ticket(&self, digest: &[u8], now: DateTime<Utc>) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM login_tickets WHERE digest = $1 AND expires_at > $2")
            .bind(digest)
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() == 1)
    }
}

#[async_trait]
impl LockoutStore for PostgresStore {
    async fn take_attempt(&self, keys: &[FailureCount<'_>]) -> StoreResult<Attempt> {
        // One transaction: each upsert locks its row until the end, so attempts
        // on the same key, from any node, are counted one after the other.
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        relax_durability(&mut tx).await?;
        let mut rows = Vec::with_capacity(keys.len());
        for k in keys {
            let row = sqlx::query(TAKE_ATTEMPT)
                .bind(k.key)
                .bind(k.now)
                .bind(i64::from(k.threshold))
                .bind(k.lock_until)
                .bind(k.window_cutoff)
                .fetch_one(&mut *tx)
                .await
                .map_err(map_err)?;
            rows.push(throttle_from_row(&row).map_err(map_err)?);
        }
        let admitted = rows.iter().zip(keys).all(|(row, k)| row.failures <= k.threshold);
        if admitted {
            tx.commit().await.map_err(map_err)?;
        } else {
            tx.rollback().await.map_err(map_err)?;
        }
        Ok(Attempt { admitted, rows })
    }

    async fn give_back_attempt(&self, forget: Option<&str>, keys: &[FailureCount<'_>]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        relax_durability(&mut tx).await?;
        if let Some(key) = forget {
            sqlx::query("DELETE FROM login_throttle WHERE key = $1")
                .bind(key)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        for k in keys {
            sqlx::query(
                "UPDATE login_throttle SET failures = GREATEST(failures - 1, 0), \
                 locked_until = CASE WHEN failures - 1 < $2 THEN NULL ELSE locked_until END WHERE key = $1",
            )
            .bind(k.key)
            .bind(i64::from(k.threshold))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)
    }

    async fn throttle_row(&self, key: &str) -> StoreResult<Option<ThrottleRow>> {
        let row = sqlx::query(
            "SELECT key, failures, window_start, last_failure_at, locked_until FROM login_throttle WHERE key = $1",
        )
        .bind(key)
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        row.as_ref().map(throttle_from_row).transpose().map_err(map_err)
    }

    async fn clear_throttle(&self, key: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM login_throttle WHERE key = $1")
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn purge_lockout(&self, now: DateTime<Utc>, idle_before: DateTime<Utc>) -> StoreResult<u64> {
        let tickets = sqlx::query("DELETE FROM login_tickets WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        let counts = sqlx::query(
            "DELETE FROM login_throttle WHERE last_failure_at <= $1 AND (locked_until IS NULL OR locked_until <= $2)",
        )
        .bind(idle_before)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(tickets.rows_affected() + counts.rows_affected())
    }
}

/// The lockout counts are a defence, not a record: their transactions commit
/// without waiting for the WAL to reach the disk (a crash of the database may
/// lose the last fraction of a second of counts), which takes the disk flush
/// off every sign-in step.
async fn relax_durability(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>) -> StoreResult<()> {
    sqlx::query("SET LOCAL synchronous_commit TO OFF").execute(&mut **tx).await.map_err(map_err)?;
    Ok(())
}
