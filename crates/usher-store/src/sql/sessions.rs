//! Sessions, and the tickets a correct password earns while a second step is due.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;
use usher_core::store::{AuditEvent, LoginTicket, Session, SessionStore, SignInFacts, StoreResult, User};
use usher_domain::{OrgId, SessionId, UserId};
use uuid::Uuid;

use super::{Db, DbRow, Engine, map_err, rows, rows::run};

const INSERT_REVEAL: &str = "INSERT INTO reveals (id, session_id, sealed, expires_at) VALUES ($1, $2, $3, $4)";
/// $1 id, $2 session, $3 now.
const TAKE_REVEAL: &str = "DELETE FROM reveals WHERE id = $1 AND session_id = $2 AND expires_at > $3 RETURNING sealed";

const INSERT: &str = "INSERT INTO sessions (id, user_id, secret_digest, created_at, last_active_at, expires_at, \
    address, client, forced_change_proof_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

const BY_DIGEST: &str = concat!(
    "SELECT ",
    user_columns!(),
    ", ",
    session_columns!(),
    " FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.secret_digest = $1"
);

/// $1 user, $2 now, $3 idle since, $4 before (cursor), $5 limit.
const LIVE: &str = concat!(
    "SELECT ",
    session_columns!(),
    " FROM sessions s WHERE s.user_id = $1 AND s.expires_at > $2 AND s.last_active_at > $3 \
     AND ($4 IS NULL OR s.id < $4) ORDER BY s.id DESC LIMIT $5"
);

/// $1 organization, $2 user.
const FACTS: &str = "SELECT EXISTS (SELECT 1 FROM mfa_totp WHERE user_id = $2 AND confirmed_at IS NOT NULL) AS totp, \
    (SELECT value FROM settings WHERE org_id = $1 AND key = 'mfa') AS mfa, \
    (SELECT value FROM settings WHERE org_id = $1 AND key = 'password_policy') AS policy";

const INSERT_TICKET: &str =
    "INSERT INTO login_tickets (digest, user_id, created_at, expires_at, attempts) VALUES ($1, $2, $3, $4, $5)";

/// $1 digest, $2 now.
const TICKET: &str = concat!(
    "SELECT ",
    user_columns!(),
    ", k.digest AS k_digest, k.created_at AS k_created_at, k.expires_at AS k_expires_at, k.attempts \
     FROM login_tickets k JOIN users u ON u.id = k.user_id WHERE k.digest = $1 AND k.expires_at > $2"
);

/// Inserts a session, in a transaction or on the pool.
pub(super) async fn insert_session_on<'e>(
    exec: impl sqlx::Executor<'e, Database = Engine>,
    s: &Session,
) -> StoreResult<()> {
    let query = sqlx::query(INSERT).bind(s.id).bind(s.user).bind(&s.secret_digest).bind(s.created_at);
    let query = query.bind(s.last_active_at).bind(s.expires_at).bind(&s.address).bind(&s.client);
    run(exec, query.bind(s.forced_change_proof)).await?;
    Ok(())
}

fn ticket(row: &DbRow) -> Result<(LoginTicket, User), sqlx::Error> {
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

fn facts(row: &DbRow) -> Result<SignInFacts, sqlx::Error> {
    Ok(SignInFacts {
        totp: row.try_get("totp")?,
        mfa_setting: row.try_get("mfa")?,
        password_policy: row.try_get("policy")?,
    })
}

#[async_trait]
impl SessionStore for Db {
    async fn sign_in(&self, session: &Session, event: &AuditEvent) -> StoreResult<()> {
        let mut tx = self.write().await?;
        let last_login = sqlx::query("UPDATE users SET last_login_at = $1 WHERE id = $2");
        run(&mut *tx, last_login.bind(session.created_at).bind(session.user)).await?;
        insert_session_on(&mut *tx, session).await?;
        super::audit::append_audit_on(&mut *tx, event).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn insert_session(&self, session: &Session) -> StoreResult<()> {
        insert_session_on(&self.pool, session).await
    }

    async fn session_by_digest(&self, digest: &[u8]) -> StoreResult<Option<(Session, User)>> {
        self.one(|| sqlx::query(BY_DIGEST).bind(digest), |r| Ok((rows::session(r)?, rows::user(r)?))).await
    }

    async fn touch_session(&self, id: SessionId, at: DateTime<Utc>) -> StoreResult<()> {
        run(&self.pool, sqlx::query("UPDATE sessions SET last_active_at = $1 WHERE id = $2").bind(at).bind(id)).await?;
        Ok(())
    }

    async fn delete_session(&self, id: SessionId) -> StoreResult<()> {
        run(&self.pool, sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id)).await?;
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
        let query = || sqlx::query(LIVE).bind(user).bind(now).bind(idle_since).bind(before).bind(i64::from(limit));
        self.all(query, rows::session).await
    }

    async fn delete_own_session(&self, user: UserId, id: SessionId) -> StoreResult<bool> {
        let query = sqlx::query("DELETE FROM sessions WHERE id = $1 AND user_id = $2").bind(id).bind(user);
        Ok(run(&self.pool, query).await? == 1)
    }

    async fn delete_sessions_except(&self, user: UserId, keep: Option<SessionId>) -> StoreResult<u64> {
        let query = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND ($2 IS NULL OR id <> $2)");
        run(&self.pool, query.bind(user).bind(keep)).await
    }

    async fn sign_in_facts(&self, org_id: OrgId, user: UserId) -> StoreResult<SignInFacts> {
        Ok(self.one(|| sqlx::query(FACTS).bind(org_id).bind(user), facts).await?.unwrap_or_default())
    }

    async fn insert_login_ticket(&self, t: &LoginTicket) -> StoreResult<()> {
        let query = sqlx::query(INSERT_TICKET).bind(&t.digest).bind(t.user).bind(t.created_at).bind(t.expires_at);
        run(&self.pool, query.bind(i32::try_from(t.attempts).unwrap_or(i32::MAX))).await?;
        Ok(())
    }

    async fn login_ticket(&self, digest: &[u8], now: DateTime<Utc>) -> StoreResult<Option<(LoginTicket, User)>> {
        self.one(|| sqlx::query(TICKET).bind(digest).bind(now), ticket).await
    }

    async fn login_ticket_failed(&self, digest: &[u8], max_attempts: u32) -> StoreResult<()> {
        let mut tx = self.write().await?;
        let count = sqlx::query("UPDATE login_tickets SET attempts = attempts + 1 WHERE digest = $1");
        run(&mut *tx, count.bind(digest)).await?;
        let spent = sqlx::query("DELETE FROM login_tickets WHERE digest = $1 AND attempts >= $2");
        run(&mut *tx, spent.bind(digest).bind(i64::from(max_attempts))).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn take_login_ticket(&self, digest: &[u8], now: DateTime<Utc>) -> StoreResult<bool> {
        let query = sqlx::query("DELETE FROM login_tickets WHERE digest = $1 AND expires_at > $2");
        Ok(run(&self.pool, query.bind(digest).bind(now)).await? == 1)
    }

    async fn insert_reveal(
        &self,
        id: Uuid,
        session: SessionId,
        sealed: &[u8],
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let query = sqlx::query(INSERT_REVEAL).bind(id).bind(session).bind(sealed).bind(expires_at);
        run(&self.pool, query).await?;
        Ok(())
    }

    async fn take_reveal(&self, id: Uuid, session: SessionId, now: DateTime<Utc>) -> StoreResult<Option<Vec<u8>>> {
        // A write: run once, never again after a lost connection.
        let query = sqlx::query(TAKE_REVEAL).bind(id).bind(session).bind(now);
        rows::one(query.fetch_optional(&self.pool).await.map_err(map_err)?, rows::first::<Vec<u8>>)
    }

    async fn purge_reveals(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        run(&self.pool, sqlx::query("DELETE FROM reveals WHERE expires_at <= $1").bind(now)).await
    }
}
