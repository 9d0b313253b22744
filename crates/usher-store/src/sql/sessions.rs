//! Sessions, and the tickets a correct password earns while a second step is due.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;
use usher_core::store::{AuditEvent, LoginTicket, Session, SessionStore, SignInFacts, StoreResult, User};
use usher_domain::{OrgId, SessionId, UserId};

use super::{Db, Engine, map_err, rows};

pub(super) async fn insert_session_on<'e>(exec: impl sqlx::Executor<'e, Database = Engine>, s: &Session) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO sessions (id, user_id, secret_digest, created_at, last_active_at, expires_at, address, client) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(s.id)
    .bind(s.user)
    .bind(&s.secret_digest)
    .bind(s.created_at)
    .bind(s.last_active_at)
    .bind(s.expires_at)
    .bind(&s.address)
    .bind(&s.client)
    .execute(exec)
    .await
    .map_err(map_err)?;
    Ok(())
}

fn ticket(row: &super::DbRow) -> Result<(LoginTicket, User), sqlx::Error> {
    let user = rows::user(row)?;
    let ticket = LoginTicket {
        digest: row.try_get("k_digest")?,
        user: user.id,
        created_at: row.try_get("k_created_at")?,
        expires_at: row.try_get("k_expires_at")?,
        attempts: u32::try_from(row.try_get::<i32, _>("attempts")?).unwrap_or(0),
    };
    Ok((ticket, user))
}

#[async_trait]
impl SessionStore for Db {
    async fn sign_in(&self, session: &Session, event: &AuditEvent) -> StoreResult<()> {
        let mut tx = self.write().await?;
        sqlx::query("UPDATE users SET last_login_at = $1 WHERE id = $2")
            .bind(session.created_at)
            .bind(session.user)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        insert_session_on(&mut *tx, session).await?;
        super::audit::append_audit_on(&mut *tx, event).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn insert_session(&self, session: &Session) -> StoreResult<()> {
        insert_session_on(&self.pool, session).await
    }

    async fn session_by_digest(&self, digest: &[u8]) -> StoreResult<Option<(Session, User)>> {
        let found = self
            .read(|| {
                sqlx::query(concat!(
                    "SELECT ",
                    user_columns!(),
                    ", ",
                    session_columns!(),
                    " FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.secret_digest = $1"
                ))
                .bind(digest)
                .fetch_optional(&self.pool)
            })
            .await
            .map_err(map_err)?;
        rows::one(found, |r| Ok((rows::session(r)?, rows::user(r)?)))
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
        let found = self
            .read(|| {
                sqlx::query(concat!(
                    "SELECT ",
                    session_columns!(),
                    " FROM sessions s WHERE s.user_id = $1 AND s.expires_at > $2 AND s.last_active_at > $3 \
                     AND ($4 IS NULL OR s.id < $4) ORDER BY s.id DESC LIMIT $5"
                ))
                .bind(user)
                .bind(now)
                .bind(idle_since)
                .bind(before)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
            })
            .await
            .map_err(map_err)?;
        rows::all(found, rows::session)
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
        let row = self
            .read(|| {
                sqlx::query(
                    "SELECT EXISTS (SELECT 1 FROM mfa_totp WHERE user_id = $2 AND confirmed_at IS NOT NULL) AS totp, \
                     (SELECT value FROM settings WHERE org_id = $1 AND key = 'mfa') AS mfa, \
                     (SELECT value FROM settings WHERE org_id = $1 AND key = 'password_policy') AS policy",
                )
                .bind(org_id)
                .bind(user)
                .fetch_one(&self.pool)
            })
            .await
            .map_err(map_err)?;
        let facts = || {
            Ok(SignInFacts {
                totp: row.try_get("totp")?,
                mfa_setting: row.try_get("mfa")?,
                password_policy: row.try_get("policy")?,
            })
        };
        facts().map_err(map_err)
    }

    async fn insert_login_ticket(&self, t: &LoginTicket) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO login_tickets (digest, user_id, created_at, expires_at, attempts) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&t.digest)
        .bind(t.user)
        .bind(t.created_at)
        .bind(t.expires_at)
        .bind(i32::try_from(t.attempts).unwrap_or(i32::MAX))
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn login_ticket(&self, digest: &[u8], now: DateTime<Utc>) -> StoreResult<Option<(LoginTicket, User)>> {
        let found = self
            .read(|| {
                sqlx::query(concat!(
                    "SELECT ",
                    user_columns!(),
                    ", k.digest AS k_digest, k.created_at AS k_created_at, k.expires_at AS k_expires_at, k.attempts \
                     FROM login_tickets k JOIN users u ON u.id = k.user_id WHERE k.digest = $1 AND k.expires_at > $2"
                ))
                .bind(digest)
                .bind(now)
                .fetch_optional(&self.pool)
            })
            .await
            .map_err(map_err)?;
        rows::one(found, ticket)
    }

    async fn login_ticket_failed(&self, digest: &[u8], max_attempts: u32) -> StoreResult<()> {
        let mut tx = self.write().await?;
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
