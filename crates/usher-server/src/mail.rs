//! The email delivery worker: takes due messages from the database outbox under a
//! row lease, delivers them over SMTP (lettre), and marks them sent or reschedules
//! them with exponential backoff. Without SMTP configured, messages are logged
//! (links included, so a first-time operator still sees invitation and reset
//! links) and marked sent. Several nodes may run it on one database: the lease
//! makes each message go out once.

use std::time::Duration;

use anyhow::{Context, bail};
use chrono::Utc;
use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, header::ContentType},
    transport::smtp::{
        authentication::Credentials,
        client::{Tls, TlsParameters},
    },
};
use tokio::sync::watch;
use usher_core::{
    Usher,
    mail::{OutboxMessage, RetryPolicy},
};
use uuid::Uuid;

use crate::config::Config;

/// How many messages one claim takes.
const BATCH: u32 = 20;
/// How long a claimed message stays reserved for this node (far longer than a delivery).
const LEASE: Duration = Duration::from_secs(300);
/// How often the worker looks for work queued by other nodes or due for a retry.
const POLL: Duration = Duration::from_secs(10);
/// How often the worker looks for API tokens that need an expiry reminder.
const REMINDERS: Duration = Duration::from_secs(15 * 60);
/// The longest one SMTP exchange may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Where mail goes: an SMTP server, or the log.
enum Sink {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Log,
}

/// Delivers outbox messages.
pub struct Mailer {
    sink: Sink,
    from: Mailbox,
}

impl Mailer {
    /// Builds the mailer from the configuration (`smtp_url`, `smtp_from`, `base_url`).
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        use secrecy::ExposeSecret;
        let sink = match &config.smtp_url {
            Some(url) => Sink::Smtp(transport(url.expose_secret())?),
            None => Sink::Log,
        };
        Ok(Self { sink, from: from_address(config)? })
    }

    /// Sends one message; `Err((permanent, text))` when it was not delivered.
    async fn deliver(&self, message: &OutboxMessage) -> Result<(), (bool, String)> {
        let Sink::Smtp(transport) = &self.sink else {
            tracing::info!(
                to = %message.mail.to,
                subject = %message.mail.subject,
                "email (no SMTP server configured, so it is logged instead of sent):\n{}",
                message.mail.text
            );
            return Ok(());
        };
        let to: Mailbox =
            message.mail.to.parse().map_err(|e| (true, format!("invalid recipient {:?}: {e}", message.mail.to)))?;
        let email = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(message.mail.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(message.mail.text.clone())
            .map_err(|e| (true, format!("cannot build the message: {e}")))?;
        transport.send(email).await.map(|_| ()).map_err(|e| (e.is_permanent(), e.to_string()))
    }
}

/// Parses the SMTP URL:
/// - `smtp://[user:pass@]host[:port]`: STARTTLS when the server offers it (port 25);
///   `?tls=required` insists on STARTTLS (port 587), `?tls=none` never uses it;
/// - `submission://[user:pass@]host[:port]`: STARTTLS required (port 587);
/// - `smtps://[user:pass@]host[:port]`: TLS from the first byte (port 465).
///
/// User name and password are percent-decoded.
pub fn transport(url: &str) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
    let parsed = url::Url::parse(url).context("smtp_url is not a URL like smtp://user:pass@host:port")?;
    let host = parsed.host_str().filter(|h| !h.is_empty()).context("smtp_url has no host")?.to_owned();
    let tls_param = parsed.query_pairs().find(|(k, _)| k == "tls").map(|(_, v)| v.into_owned());
    let params = || TlsParameters::new(host.clone()).context("smtp_url: TLS set-up");
    let (tls, port) = match (parsed.scheme(), tls_param.as_deref()) {
        ("smtp", None | Some("opportunistic")) => (Tls::Opportunistic(params()?), 25),
        ("smtp", Some("required")) | ("submission", None | Some("required")) => (Tls::Required(params()?), 587),
        ("smtp", Some("none")) => (Tls::None, 25),
        ("smtps", None | Some("wrapper")) => (Tls::Wrapper(params()?), 465),
        (scheme, tls) => bail!(
            "smtp_url: unsupported scheme {scheme:?} or tls={tls:?} (use smtp://, submission:// or smtps://, \
             and tls=none|opportunistic|required)"
        ),
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(parsed.port().unwrap_or(port))
        .tls(tls)
        .timeout(Some(SMTP_TIMEOUT));
    if !parsed.username().is_empty() {
        let user = percent_decode(parsed.username());
        let password = percent_decode(parsed.password().unwrap_or_default());
        builder = builder.credentials(Credentials::new(user, password));
    }
    Ok(builder.build())
}

/// Decodes `%XX` escapes of a URL's user name or password (`+` stays a plus).
fn percent_decode(s: &str) -> String {
    let escaped = s.replace('+', "%2B");
    url::form_urlencoded::parse(format!("x={escaped}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The sender: `smtp_from`, or `Usher <usher@HOST>` with the host of `base_url`.
fn from_address(config: &Config) -> anyhow::Result<Mailbox> {
    match &config.smtp_from {
        Some(from) => from.parse().with_context(|| format!("smtp_from: {from:?} is not an email address")),
        None => {
            let host = url::Url::parse(&config.base_url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_else(|| "localhost".into());
            let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
            Ok(format!("Usher <usher@{host}>")
                .parse()
                .or_else(|_| "Usher <usher@localhost>".parse())
                .context("default sender address")?)
        }
    }
}

/// Runs the worker until `stop` turns true: delivers what is due, then sleeps until
/// mail is queued on this node, a retry falls due, or the poll interval passes.
pub async fn run(usher: Usher, mailer: Mailer, retry: RetryPolicy, mut stop: watch::Receiver<bool>) {
    let owner = Uuid::now_v7();
    let mut last_reminders: Option<tokio::time::Instant> = None;
    // The earliest retry this worker scheduled and has not attempted yet.
    let mut pending: Option<chrono::DateTime<Utc>> = None;
    loop {
        if *stop.borrow() {
            break;
        }
        if last_reminders.is_none_or(|t| t.elapsed() >= REMINDERS) {
            last_reminders = Some(tokio::time::Instant::now());
            if let Err(e) = usher.queue_token_reminders().await {
                tracing::error!(error = %usher_core::Chain(&e), "token expiry reminders");
            }
        }
        // A retry due by now is claimed by this pass; one still ahead (the timer
        // can fire a hair early by the clock) is kept for the next. Retry times
        // are the services' clock's, so they are compared with it.
        let started = usher.now();
        if pending.is_some_and(|at| at <= started) {
            pending = None;
        }
        match deliver_due(&usher, &mailer, owner, &retry).await {
            Ok(scheduled) => pending = pending.into_iter().chain(scheduled).min(),
            Err(e) => tracing::error!(error = %usher_core::Chain(&e), "email outbox"),
        }
        let wait = pending
            .map_or(POLL, |at| (at - usher.now()).to_std().unwrap_or_default().min(POLL))
            .max(Duration::from_millis(5));
        tokio::select! {
            _ = stop.changed() => {}
            () = usher.mail_queued() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// Delivers every message due now, once, as a worker of its own would (for tests
/// and tools; the server runs [`run`]).
pub async fn deliver_pending(usher: &Usher, mailer: &Mailer, retry: &RetryPolicy) -> usher_core::Result<()> {
    deliver_due(usher, mailer, Uuid::now_v7(), retry).await.map(|_| ())
}

/// Delivers every due message, batch after batch. Returns the earliest retry it
/// scheduled, so the worker wakes for it.
async fn deliver_due(
    usher: &Usher,
    mailer: &Mailer,
    owner: Uuid,
    retry: &RetryPolicy,
) -> usher_core::Result<Option<chrono::DateTime<Utc>>> {
    let mut next_retry = None;
    loop {
        let batch = usher.claim_mail(owner, LEASE, BATCH).await?;
        if batch.is_empty() {
            return Ok(next_retry);
        }
        for message in &batch {
            match mailer.deliver(message).await {
                Ok(()) => usher.mail_sent(message, owner).await?,
                Err((permanent, error)) => {
                    let policy = (!permanent).then_some(retry);
                    if let Some(at) = usher.mail_failed(message, owner, policy, &error).await? {
                        next_retry = Some(next_retry.map_or(at, |n: chrono::DateTime<Utc>| n.min(at)));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_percent_decoded() {
        assert_eq!(percent_decode("p%40ss+word%2F"), "p@ss+word/");
    }

    #[test]
    fn smtp_urls() {
        assert!(transport("smtp://localhost:2525").is_ok());
        assert!(transport("smtp://user:p%40ss@localhost").is_ok());
        assert!(transport("smtp://localhost?tls=required").is_ok());
        assert!(transport("submission://mail.example.org").is_ok());
        assert!(transport("smtps://user:pass@mail.example.org").is_ok());
        assert!(transport("http://mail.example.org").is_err());
        assert!(transport("smtp://localhost?tls=maybe").is_err());
        assert!(transport("not a url").is_err());
    }
}
