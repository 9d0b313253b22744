//! The outbox, token expiry reminders and password expiry reminders.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Row, Transaction};
use usher_core::{
    mail::{Mail, OutboxMessage},
    store::{MailStore, ReminderRenderer, ReminderScope, StoreResult, User},
};
use usher_domain::{MailId, TokenId};
use uuid::Uuid;

use super::{Db, DbRow, Engine, id_list, map_err, rows, rows::run};

const INSERT: &str = "INSERT INTO outbox (id, org_id, to_address, subject, body, created_at, attempts, next_attempt_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

/// Leases due messages in one statement. PostgreSQL skips rows another node is
/// leasing right now instead of waiting for them, and re-checks the lease on
/// the locked row; SQLite runs it under the database write lock. Either way two
/// nodes cannot lease the same row. $1 owner, $2 now, $3 lease until, $4 limit.
const CLAIM: &str = concat!(
    "UPDATE outbox SET lease_owner = $1, lease_until = $3 WHERE id IN ( \
     SELECT id FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $2 \
     AND (lease_until IS NULL OR lease_until <= $2) ORDER BY next_attempt_at LIMIT $4",
    skip_locked!(),
    ") AND sent_at IS NULL AND failed_at IS NULL AND (lease_until IS NULL OR lease_until <= $2) \
     RETURNING id, org_id, to_address, subject, body, created_at, attempts, next_attempt_at, sent_at, last_error"
);

/// $1 at, $2 id, $3 lease owner.
const SENT: &str = "UPDATE outbox SET sent_at = $1, lease_owner = NULL, lease_until = NULL, last_error = NULL \
     WHERE id = $2 AND lease_owner = $3";

/// $1 error, $2 retry at (none: failed for good), $3 at, $4 id, $5 lease owner.
const FAILED: &str = "UPDATE outbox SET attempts = attempts + 1, last_error = $1, \
     next_attempt_at = COALESCE($2, next_attempt_at), failed_at = CASE WHEN $2 IS NULL THEN $3 END, \
     lease_owner = NULL, lease_until = NULL WHERE id = $4 AND lease_owner = $5";

/// Marks the tokens to remind about: $1 now, $2 horizon, $3 limit.
const MARK_TOKENS: &str = concat!(
    "UPDATE api_tokens SET expiry_reminded_at = $1, expiry_reminded_for = expires_at WHERE id IN ( \
     SELECT t.id FROM api_tokens t JOIN users u ON u.id = t.user_id \
     WHERE t.revoked_at IS NULL AND t.expires_at > $1 AND t.expires_at <= $2 \
     AND (t.expiry_reminded_for IS NULL OR t.expiry_reminded_for <> t.expires_at) \
     AND u.status = 'active' ORDER BY t.expires_at LIMIT $3",
    skip_locked!("t"),
    ") AND (expiry_reminded_for IS NULL OR expiry_reminded_for <> expires_at) RETURNING id"
);

const MARKED: &str = concat!(
    "SELECT ",
    user_columns!(),
    ", ",
    token_columns!(),
    " FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id ",
    in_ids!("$1")
);

/// The users a reminder pass may claim: active, with an email address, not yet
/// reminded about this password.
macro_rules! reminder_due {
    () => {
        "u.status = 'active' AND u.email IS NOT NULL AND NOT EXISTS (SELECT 1 FROM password_reminders p \
         WHERE p.user_id = u.id AND p.password_changed_at = u.password_changed_at)"
    };
}

/// Claims a user again only for a newer password (so concurrent passes claim once).
macro_rules! reminder_upsert {
    () => {
        "ON CONFLICT (user_id) DO UPDATE SET password_changed_at = excluded.password_changed_at, \
         batch = excluded.batch, reminded_at = excluded.reminded_at \
         WHERE password_reminders.password_changed_at <> excluded.password_changed_at"
    };
}

/// $1 batch, $2 at, $3 organization, $4 changed before, $5 limit.
const CLAIM_NON_ADMINS: &str = concat!(
    "INSERT INTO password_reminders (user_id, password_changed_at, batch, reminded_at) \
     SELECT u.id, u.password_changed_at, $1, $2 FROM users u \
     WHERE u.org_id = $3 AND u.password_changed_at <= $4 AND ",
    reminder_due!(),
    " AND NOT EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role = 'administrator') \
     ORDER BY u.password_changed_at LIMIT $5 ",
    reminder_upsert!()
);

/// $1 batch, $2 at, $3 changed before, $4 limit.
const CLAIM_ADMINS: &str = concat!(
    "INSERT INTO password_reminders (user_id, password_changed_at, batch, reminded_at) \
     SELECT u.id, u.password_changed_at, $1, $2 FROM user_roles r JOIN users u ON u.id = r.user_id \
     WHERE r.role = 'administrator' AND u.password_changed_at <= $3 AND ",
    reminder_due!(),
    " LIMIT $4 ",
    reminder_upsert!()
);

const CLAIMED: &str = concat!(
    "SELECT ",
    user_columns!(),
    " FROM password_reminders p JOIN users u ON u.id = p.user_id WHERE p.batch = $1"
);

fn message(row: &DbRow) -> rows::Read<OutboxMessage> {
    Ok(OutboxMessage {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        mail: Mail { to: row.try_get("to_address")?, subject: row.try_get("subject")?, text: row.try_get("body")? },
        created_at: row.try_get("created_at")?,
        attempts: u32::try_from(row.try_get::<i32, _>("attempts")?).unwrap_or(0),
        next_attempt_at: row.try_get("next_attempt_at")?,
        sent_at: row.try_get("sent_at")?,
        last_error: row.try_get("last_error")?,
    })
}

/// Every row `query` reads in the transaction, each read with `read`.
async fn all_in<T>(
    tx: &mut Transaction<'_, Engine>,
    query: rows::Query,
    read: fn(&DbRow) -> rows::Read<T>,
) -> StoreResult<Vec<T>> {
    rows::all(query.fetch_all(&mut **tx).await.map_err(map_err)?, read)
}

/// Adds a message to the outbox on `exec`, so a transaction can queue mail
/// with the change it tells about.
pub(super) async fn insert_mail_on<'e>(
    exec: impl sqlx::Executor<'e, Database = Engine>,
    m: &OutboxMessage,
) -> StoreResult<()> {
    let query = sqlx::query(INSERT).bind(m.id).bind(m.org_id).bind(&m.mail.to).bind(&m.mail.subject);
    let query = query.bind(&m.mail.text).bind(m.created_at).bind(i32::try_from(m.attempts).unwrap_or(i32::MAX));
    run(exec, query.bind(m.next_attempt_at)).await?;
    Ok(())
}

#[async_trait]
impl MailStore for Db {
    async fn insert_mail(&self, message: &OutboxMessage) -> StoreResult<()> {
        insert_mail_on(&self.pool, message).await
    }

    async fn claim_mail(
        &self,
        owner: Uuid,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<OutboxMessage>> {
        let query = sqlx::query(CLAIM).bind(owner).bind(now).bind(lease_until).bind(i64::from(limit));
        let mut messages = rows::all(query.fetch_all(&self.pool).await.map_err(map_err)?, message)?;
        messages.sort_by_key(|m| (m.next_attempt_at, m.id));
        Ok(messages)
    }

    async fn mark_mail_sent(&self, id: MailId, owner: Uuid, at: DateTime<Utc>) -> StoreResult<bool> {
        Ok(run(&self.pool, sqlx::query(SENT).bind(at).bind(id).bind(owner)).await? == 1)
    }

    async fn mark_mail_failed(
        &self,
        id: MailId,
        owner: Uuid,
        error: &str,
        at: DateTime<Utc>,
        retry_at: Option<DateTime<Utc>>,
    ) -> StoreResult<()> {
        run(&self.pool, sqlx::query(FAILED).bind(error).bind(retry_at).bind(at).bind(id).bind(owner)).await?;
        Ok(())
    }

    async fn queue_token_reminders(
        &self,
        now: DateTime<Utc>,
        horizon: DateTime<Utc>,
        limit: u32,
        render: &ReminderRenderer,
    ) -> StoreResult<u64> {
        let mut tx = self.write().await?;
        // Rows another node is marking are skipped (PostgreSQL; on SQLite this
        // transaction is the only writer), and a row is marked only when it is
        // still not reminded once locked. The marked tokens are then read back
        // with their owners by id: SQLite's RETURNING cannot read a joined table.
        let query = sqlx::query(MARK_TOKENS).bind(now).bind(horizon).bind(i64::from(limit));
        let marked = all_in(&mut tx, query, rows::first::<TokenId>).await?;
        if marked.is_empty() {
            return Ok(0);
        }
        let query = sqlx::query(MARKED).bind(id_list(marked.iter().map(|id| id.uuid())));
        for (token, owner) in all_in(&mut tx, query, |r| Ok((rows::token(r)?, rows::user(r)?))).await? {
            if let Some(message) = render(&token, &owner) {
                insert_mail_on(&mut *tx, &message).await?;
            }
        }
        tx.commit().await.map_err(map_err)?;
        Ok(marked.len() as u64)
    }

    async fn claim_password_reminders(
        &self,
        scope: ReminderScope,
        changed_before: DateTime<Utc>,
        batch: Uuid,
        at: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<User>> {
        let mut tx = self.write().await?;
        let claim = match scope {
            ReminderScope::NonAdministrators(org) => sqlx::query(CLAIM_NON_ADMINS).bind(batch).bind(at).bind(org),
            ReminderScope::Administrators => sqlx::query(CLAIM_ADMINS).bind(batch).bind(at),
        };
        run(&mut *tx, claim.bind(changed_before).bind(i64::from(limit))).await?;
        let users = all_in(&mut tx, sqlx::query(CLAIMED).bind(batch), rows::user).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(users)
    }
}
