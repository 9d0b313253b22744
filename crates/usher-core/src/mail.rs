//! Email: a durable outbox in the database, delivered over SMTP by the server's
//! delivery worker (issue 4). Services queue mail with [`Usher::queue_mail`]; the
//! worker claims due messages with a row lease ([`Usher::claim_mail`]), so with
//! several server nodes on one database each message is sent once.

pub mod texts;

use std::time::Duration;

use chrono::{DateTime, Utc};
use usher_domain::{MailId, OrgId};
use uuid::Uuid;

use crate::{
    Result, Usher,
    store::{ApiToken, User},
};

/// A plain-text email to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
}

/// A message in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub id: MailId,
    pub org_id: OrgId,
    pub mail: Mail,
    pub created_at: DateTime<Utc>,
    /// Delivery attempts that failed so far.
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

impl OutboxMessage {
    /// A message to deliver from `now` on.
    pub fn new(org_id: OrgId, mail: Mail, now: DateTime<Utc>) -> Self {
        Self {
            id: MailId::generate(),
            org_id,
            mail,
            created_at: now,
            attempts: 0,
            next_attempt_at: now,
            sent_at: None,
            last_error: None,
        }
    }
}

/// How the delivery worker retries.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// The wait after the first failure; doubled after each further one.
    pub base: Duration,
    /// The longest wait between two attempts.
    pub max: Duration,
    /// After this many failed attempts the message is given up (and logged).
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { base: Duration::from_secs(30), max: Duration::from_secs(3600), max_attempts: 10 }
    }
}

impl RetryPolicy {
    /// When to try again after `attempts` failures, or `None` to give up.
    pub fn next_attempt(&self, attempts: u32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if attempts >= self.max_attempts {
            return None;
        }
        let factor = 2u32.saturating_pow(attempts.saturating_sub(1).min(20));
        let wait = self.base.saturating_mul(factor).min(self.max);
        Some(now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1)))
    }
}

impl Usher {
    /// Queues an email durably; this node's delivery worker is woken at once, and
    /// other nodes' workers find it when they next poll.
    pub async fn queue_mail(&self, org_id: OrgId, mail: Mail) -> Result<()> {
        self.store.insert_mail(&OutboxMessage::new(org_id, mail, self.now())).await?;
        self.mail_wake.notify_one();
        Ok(())
    }

    /// Wakes this node's delivery worker after mail was written with other changes.
    pub(crate) fn mail_written(&self) {
        self.mail_wake.notify_one();
    }

    /// Resolves when mail was queued on this node since the last wait (for the
    /// delivery worker).
    pub async fn mail_queued(&self) {
        self.mail_wake.notified().await;
    }

    /// Queues one reminder for each API token expiring within 7 days that was not
    /// reminded of this expiry yet, to its owner, in their language. Marking and
    /// queueing happen in one transaction, so two nodes never both send one.
    /// Returns how many tokens were handled.
    pub async fn queue_token_reminders(&self) -> Result<u64> {
        let now = self.now();
        let horizon = now + chrono::Duration::days(7);
        let base = self.config.base_url.clone();
        let render = move |token: &ApiToken, owner: &User| -> Option<OutboxMessage> {
            let to = owner.email.clone()?;
            let expires = texts::when(token.expires_at?, owner.profile.timezone);
            let (subject, text) = texts::token_reminder(
                owner.profile.language,
                &owner.display_name(),
                &token.description,
                &expires,
                &format!("{base}/profile/tokens"),
            );
            Some(OutboxMessage {
                id: MailId::generate(),
                org_id: owner.org_id,
                mail: Mail { to, subject, text },
                created_at: now,
                attempts: 0,
                next_attempt_at: now,
                sent_at: None,
                last_error: None,
            })
        };
        let mut total = 0;
        loop {
            let n = self.store.queue_token_reminders(now, horizon, 100, &render).await?;
            total += n;
            if n < 100 {
                break;
            }
        }
        if total > 0 {
            self.mail_wake.notify_one();
        }
        Ok(total)
    }

    /// Leases up to `limit` due messages to `owner` for `lease` (delivery worker).
    pub async fn claim_mail(&self, owner: Uuid, lease: Duration, limit: u32) -> Result<Vec<OutboxMessage>> {
        let now = self.now();
        let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::minutes(5));
        Ok(self.store.claim_mail(owner, now, until, limit).await?)
    }

    /// Records that a leased message was delivered.
    pub async fn mail_sent(&self, message: &OutboxMessage, owner: Uuid) -> Result<()> {
        if !self.store.mark_mail_sent(message.id, owner, self.now()).await? {
            tracing::warn!(id = %message.id, "an email was delivered after its lease ran out");
        }
        Ok(())
    }

    /// Records a failed delivery: retried with backoff (`retry`), or given up after
    /// too many attempts or at once when `retry` is `None` (a permanent failure).
    /// Returns when it will be tried again.
    pub async fn mail_failed(
        &self,
        message: &OutboxMessage,
        owner: Uuid,
        retry: Option<&RetryPolicy>,
        error: &str,
    ) -> Result<Option<DateTime<Utc>>> {
        let now = self.now();
        let attempts = message.attempts + 1;
        let retry_at = retry.and_then(|r| r.next_attempt(attempts, now));
        let error: String = error.chars().take(1000).collect();
        match retry_at {
            Some(at) => {
                tracing::warn!(id = %message.id, to = %message.mail.to, attempts, retry_at = %at, error, "email not delivered; will retry")
            }
            None => {
                tracing::error!(id = %message.id, to = %message.mail.to, attempts, error, "email not delivered; giving up")
            }
        }
        self.store.mark_mail_failed(message.id, owner, &error, now, retry_at).await?;
        Ok(retry_at)
    }
}
