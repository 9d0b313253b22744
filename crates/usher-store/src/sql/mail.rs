//! The outbox, token expiry reminders and password expiry reminders.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;
use usher_core::{
    mail::{Mail, OutboxMessage},
    store::{MailStore, ReminderRenderer, ReminderScope, StoreResult, User},
};
use usher_domain::{MailId, TokenId};
use uuid::Uuid;

use super::{Db, DbRow, Engine, id_list, map_err, rows};

/// Leases due messages in one statement. PostgreSQL skips rows another node is
/// leasing right now instead of waiting for them, and re-checks the lease on
/// the locked row; SQLite runs it under the database write lock. Either way two
/// nodes cannot lease the same row.
const CLAIM: &str = concat!(
    "UPDATE outbox SET lease_owner = $1, lease_until = $3 WHERE id IN ( \
     SELECT id FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $2 \
     AND (lease_until IS NULL OR lease_until <= $2) ORDER BY next_attempt_at LIMIT $4",
    skip_locked!(),
    ") AND sent_at IS NULL AND failed_at IS NULL AND (lease_until IS NULL OR lease_until <= $2) \
     RETURNING id, org_id, to_address, subject, body, created_at, attempts, next_attempt_at, sent_at, last_error"
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

fn message(row: &DbRow) -> Result<OutboxMessage, sqlx::Error> {
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

/// Adds a message to the outbox on `exec`, so a transaction can queue mail
/// with the change it tells about.
pub(super) async fn insert_mail_on<'e>(
    exec: impl sqlx::Executor<'e, Database = Engine>,
    m: &OutboxMessage,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO outbox (id, org_id, to_address, subject, body, created_at, attempts, next_attempt_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(m.id)
    .bind(m.org_id)
    .bind(&m.mail.to)
    .bind(&m.mail.subject)
    .bind(&m.mail.text)
    .bind(m.created_at)
    .bind(i32::try_from(m.attempts).unwrap_or(i32::MAX))
    .bind(m.next_attempt_at)
    .execute(exec)
    .await
    .map_err(map_err)?;
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
        let found = sqlx::query(CLAIM)
            .bind(owner)
            .bind(now)
            .bind(lease_until)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        let mut messages = rows::all(found, message)?;
        messages.sort_by_key(|m| (m.next_attempt_at, m.id));
        Ok(messages)
    }

    async fn mark_mail_sent(&self, id: MailId, owner: Uuid, at: DateTime<Utc>) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE outbox SET sent_at = $1, lease_owner = NULL, lease_until = NULL, last_error = NULL \
             WHERE id = $2 AND lease_owner = $3",
        )
        .bind(at)
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn mark_mail_failed(
        &self,
        id: MailId,
        owner: Uuid,
        error: &str,
        at: DateTime<Utc>,
        retry_at: Option<DateTime<Utc>>,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, last_error = $1, \
             next_attempt_at = COALESCE($2, next_attempt_at), failed_at = CASE WHEN $2 IS NULL THEN $3 END, \
             lease_owner = NULL, lease_until = NULL WHERE id = $4 AND lease_owner = $5",
        )
        .bind(error)
        .bind(retry_at)
        .bind(at)
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
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
        let marked: Vec<TokenId> = sqlx::query_scalar(concat!(
            "UPDATE api_tokens SET expiry_reminded_at = $1, expiry_reminded_for = expires_at WHERE id IN ( \
             SELECT t.id FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.revoked_at IS NULL AND t.expires_at > $1 AND t.expires_at <= $2 \
             AND (t.expiry_reminded_for IS NULL OR t.expiry_reminded_for <> t.expires_at) \
             AND u.status = 'active' ORDER BY t.expires_at LIMIT $3",
            skip_locked!("t"),
            ") AND (expiry_reminded_for IS NULL OR expiry_reminded_for <> expires_at) RETURNING id"
        ))
        .bind(now)
        .bind(horizon)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        if marked.is_empty() {
            return Ok(0);
        }
        let found = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            ", ",
            token_columns!(),
            " FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id ",
            in_ids!("$1")
        ))
        .bind(id_list(marked.iter().map(|id| id.uuid())))
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        for row in &found {
            let token = rows::token(row).map_err(map_err)?;
            let owner = rows::user(row).map_err(map_err)?;
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
            ReminderScope::NonAdministrators(org) => sqlx::query(concat!(
                "INSERT INTO password_reminders (user_id, password_changed_at, batch, reminded_at) \
                 SELECT u.id, u.password_changed_at, $1, $2 FROM users u \
                 WHERE u.org_id = $3 AND u.password_changed_at <= $4 AND ",
                reminder_due!(),
                " AND NOT EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role = 'administrator') \
                 ORDER BY u.password_changed_at LIMIT $5 ",
                reminder_upsert!()
            ))
            .bind(batch)
            .bind(at)
            .bind(org)
            .bind(changed_before)
            .bind(i64::from(limit)),
            ReminderScope::Administrators => sqlx::query(concat!(
                "INSERT INTO password_reminders (user_id, password_changed_at, batch, reminded_at) \
                 SELECT u.id, u.password_changed_at, $1, $2 FROM user_roles r JOIN users u ON u.id = r.user_id \
                 WHERE r.role = 'administrator' AND u.password_changed_at <= $3 AND ",
                reminder_due!(),
                " LIMIT $4 ",
                reminder_upsert!()
            ))
            .bind(batch)
            .bind(at)
            .bind(changed_before)
            .bind(i64::from(limit)),
        };
        claim.execute(&mut *tx).await.map_err(map_err)?;
        let found = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM password_reminders p JOIN users u ON u.id = p.user_id WHERE p.batch = $1"
        ))
        .bind(batch)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        rows::all(found, rows::user)
    }
}
