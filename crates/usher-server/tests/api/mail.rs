//! Email delivery: the durable outbox, the SMTP worker (real SMTP, to the test's
//! own server), retries, several nodes, logging without SMTP, and API token
//! expiry reminders.

use std::collections::HashMap;

use reqwest::StatusCode;
use serde_json::json;
use tokio::sync::oneshot;
use usher_core::{
    Clock,
    mail::{Mail, RetryPolicy},
};
use usher_domain::OrgId;
use usher_server::{Config, Overrides};

use crate::helpers::{MailBox, TestApp};

/// One outbox row: recipient, failed attempts, whether sent, last error.
#[derive(Debug)]
struct Row {
    to: String,
    attempts: i64,
    sent: bool,
    last_error: Option<String>,
}

async fn outbox(app_db: &str) -> Vec<Row> {
    type Raw = (String, i64, bool, Option<String>);
    let rows: Vec<Raw> = if app_db.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(app_db).await.unwrap();
        sqlx::query_as(
            "SELECT to_address, attempts::bigint, sent_at IS NOT NULL, last_error FROM outbox ORDER BY created_at, id",
        )
        .fetch_all(&pool)
        .await
        .unwrap()
    } else {
        let pool = sqlx::SqlitePool::connect(app_db).await.unwrap();
        sqlx::query_as(
            "SELECT to_address, attempts, sent_at IS NOT NULL, last_error FROM outbox ORDER BY created_at, id",
        )
        .fetch_all(&pool)
        .await
        .unwrap()
    };
    rows.into_iter().map(|(to, attempts, sent, last_error)| Row { to, attempts, sent, last_error }).collect()
}

fn mail(to: &str, subject: &str, text: &str) -> Mail {
    Mail { to: to.into(), subject: subject.into(), text: text.into() }
}

/// Waits until every message queued so far was handled (delivered and marked):
/// the worker takes them in order, one at a time, so once a message queued now
/// arrives, the earlier ones are marked.
async fn settled(app: &TestApp, mailbox: &MailBox) {
    let to = format!("barrier-{}@example.org", uuid::Uuid::now_v7().simple());
    app.usher.queue_mail(org_id(app).await, mail(&to, "barrier", ".")).await.unwrap();
    mailbox.next_to(&to).await;
}

async fn org_id(app: &TestApp) -> OrgId {
    app.usher.organization(None).await.unwrap().unwrap().id
}

#[tokio::test]
async fn queued_mail_is_delivered_over_smtp_once() {
    let app = TestApp::spawn().await;
    let org = org_id(&app).await;
    let text = "Bonjour Ünïcödé, Здравствуйте!\nOpen https://usher.example/x?y=1 now.\n";
    app.usher.queue_mail(org, mail("ann@example.org", "Привет — héllo", text)).await.unwrap();

    let got = app.mail.next_to("ann@example.org").await;
    assert_eq!(got.subject, "Привет — héllo");
    assert_eq!(got.text, text);
    assert_eq!(got.link(), "https://usher.example/x?y=1");
    // Default sender: usher@ the host of the base URL.
    assert_eq!(got.from, "usher@127.0.0.1");
    assert_eq!(app.mail.count_to("ann@example.org"), 1);

    settled(&app, &app.mail).await;
    let rows = outbox(&app.db_url).await;
    assert_eq!(rows.len(), 2);
    assert!(rows[0].sent && rows[0].attempts == 0 && rows[0].last_error.is_none(), "{rows:?}");
}

#[tokio::test]
async fn the_sender_address_is_configurable() {
    let app = TestApp::spawn_with(&[("USHER_SMTP_FROM", "Acme Accounts <accounts@acme.test>")]).await;
    let org = org_id(&app).await;
    app.usher.queue_mail(org, mail("bo@example.org", "Hi", "Hello")).await.unwrap();
    assert_eq!(app.mail.next_to("bo@example.org").await.from, "accounts@acme.test");
}

#[tokio::test]
async fn a_server_that_is_down_at_first_gets_the_mail_once_it_is_up() {
    // Something listens on the SMTP port but hangs up at once: the first
    // attempts fail, and we can count them without sleeping.
    let broken = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = broken.local_addr().unwrap().port();
    let url = format!("smtp://127.0.0.1:{port}");
    let app = TestApp::spawn_with(&[("USHER_SMTP_URL", &url), ("USHER_SMTP_RETRY_BASE_MS", "50")]).await;
    let org = org_id(&app).await;
    app.usher.queue_mail(org, mail("cy@example.org", "Retry", "Eventually https://x.test/ok")).await.unwrap();
    for i in 0..2 {
        let Ok(accepted) = tokio::time::timeout(std::time::Duration::from_secs(10), broken.accept()).await else {
            panic!("attempt {i} never came; outbox: {:?}", outbox(&app.db_url).await);
        };
        drop(accepted.unwrap());
    }
    drop(broken);
    let smtp = MailBox::start_on(port);
    let got = smtp.next_to("cy@example.org").await;
    assert_eq!(got.subject, "Retry");
    assert_eq!(got.link(), "https://x.test/ok");
    assert_eq!(smtp.count_to("cy@example.org"), 1);
    settled(&app, &smtp).await;
    let rows = outbox(&app.db_url).await;
    assert!(rows[0].sent, "{rows:?}");
    assert!(rows[0].attempts >= 2, "{rows:?}");
}

#[test]
fn backoff_doubles_up_to_an_hour_then_gives_up() {
    let p = RetryPolicy::default();
    let now = chrono::Utc::now();
    let wait = |attempts| p.next_attempt(attempts, now).map(|at| (at - now).num_seconds());
    assert_eq!(wait(1), Some(30));
    assert_eq!(wait(2), Some(60));
    assert_eq!(wait(3), Some(120));
    assert_eq!(wait(8), Some(3600));
    assert_eq!(wait(9), Some(3600));
    assert_eq!(wait(10), None);
}

/// A second server node on the same database, delivering to the same SMTP server.
async fn second_node(app: &TestApp) -> (usher_core::Usher, oneshot::Sender<()>) {
    let env = vec![
        ("USHER_DATABASE_URL".to_string(), app.db_url.clone()),
        ("USHER_LISTEN".to_string(), "127.0.0.1:0".to_string()),
        ("USHER_SMTP_URL".to_string(), app.mail.url()),
    ];
    let (config, _) = Config::load(None, env, Overrides::default()).unwrap();
    let server = app.node(config).await;
    let usher = server.state.usher.clone();
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(server.run_until(async move {
        let _ = rx.await;
    }));
    (usher, tx)
}

#[tokio::test]
async fn two_nodes_on_one_database_send_each_message_once() {
    let app = TestApp::spawn().await;
    let (node_b, _stop_b) = second_node(&app).await;
    let org = org_id(&app).await;
    const N: usize = 60;
    // Both nodes queue (so both wake at once) and compete for the same rows.
    let queued = (0..N).map(|i| {
        let node = if i % 2 == 0 { app.usher.clone() } else { node_b.clone() };
        async move { node.queue_mail(org, mail(&format!("n{i}@example.org"), &format!("#{i}"), "x")).await.unwrap() }
    });
    futures_join_all(queued).await;
    app.mail.wait_for_total(N).await;
    let mut per_address: HashMap<String, usize> = HashMap::new();
    for m in app.mail.all() {
        *per_address.entry(m.to).or_default() += 1;
    }
    assert_eq!(per_address.len(), N);
    assert!(per_address.values().all(|&n| n == 1), "{per_address:?}");
    // Nothing is left to deliver, and nothing arrives twice.
    assert!(
        app.usher.claim_mail(uuid::Uuid::now_v7(), std::time::Duration::from_secs(1), 100).await.unwrap().is_empty()
    );
    assert_eq!(app.mail.all().len(), N);
}

async fn futures_join_all<F: std::future::Future<Output = ()> + Send + 'static>(futs: impl Iterator<Item = F>) {
    let handles: Vec<_> = futs.map(tokio::spawn).collect();
    for h in handles {
        h.await.unwrap();
    }
}

#[tokio::test]
async fn without_smtp_messages_are_logged_and_marked_sent() {
    let db = crate::helpers::TestDb::new().await;
    let env = vec![
        ("USHER_DATABASE_URL".to_string(), db.url.clone()),
        ("USHER_LISTEN".to_string(), "127.0.0.1:0".to_string()),
    ];
    let (config, _) = Config::load(None, env, Overrides::default()).unwrap();
    assert!(config.smtp_url.is_none());
    let mailer = usher_server::mail::Mailer::from_config(&config).unwrap();
    // Built but not run: this test drives delivery itself.
    let server = usher_server::build(config).await.unwrap();
    let usher = server.state.usher.clone();
    let org = usher.organization(None).await.unwrap().unwrap().id;
    usher.queue_mail(org, mail("dee@example.org", "Invite", "Register at https://x.test/register/abc")).await.unwrap();
    usher_server::mail::deliver_pending(&usher, &mailer, &RetryPolicy::default()).await.unwrap();
    let rows = outbox(&db.url).await;
    assert_eq!(rows.len(), 1);
    assert!(rows[0].sent && rows[0].to == "dee@example.org", "{rows:?}");
}

#[tokio::test]
async fn an_unparseable_recipient_is_given_up_not_retried() {
    let app = TestApp::spawn().await;
    let org = org_id(&app).await;
    app.usher.queue_mail(org, mail("not an address", "x", "y")).await.unwrap();
    app.usher.queue_mail(org, mail("ok@example.org", "after", "z")).await.unwrap();
    // Messages go in order, so once the second arrives the first was handled.
    app.mail.next_to("ok@example.org").await;
    let rows = outbox(&app.db_url).await;
    let bad = rows.iter().find(|r| r.to == "not an address").unwrap();
    assert!(!bad.sent && bad.attempts == 1 && bad.last_error.as_deref().unwrap_or("").contains("invalid recipient"));
}

#[tokio::test]
async fn a_token_expiring_soon_gets_one_reminder() {
    let app = TestApp::spawn().await;
    let (_, mut c) = app.user("tia").await;
    let soon = (app.clock.now() + chrono::Duration::days(3)).to_rfc3339();
    let later = (app.clock.now() + chrono::Duration::days(30)).to_rfc3339();
    for (description, expires_at) in [("Nightly backup", &soon), ("Dashboard", &later)] {
        let res = c
            .post(
                "/api/v1/me/tokens",
                json!({ "description": description, "scopes": ["read"], "expires_at": expires_at }),
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    }
    // The worker also runs this pass on its own; whoever runs it, one reminder goes out.
    app.usher.queue_token_reminders().await.unwrap();
    let got = app.mail.next_to("tia@example.org").await;
    assert!(got.subject.contains("Nightly backup"), "{}", got.subject);
    assert!(got.text.contains("Nightly backup") && !got.text.contains("Dashboard"), "{}", got.text);
    assert_eq!(got.link(), format!("{}/profile/tokens", app.base));

    // A second pass finds nothing more to say.
    assert_eq!(app.usher.queue_token_reminders().await.unwrap(), 0);
    let to_tia = outbox(&app.db_url).await.into_iter().filter(|r| r.to == "tia@example.org").count();
    assert_eq!(to_tia, 1);
    assert_eq!(app.mail.count_to("tia@example.org"), 1);
}

#[tokio::test]
async fn reminders_come_in_the_owners_language() {
    let app = TestApp::spawn().await;
    let (_, mut c) = app.user("ivan").await;
    assert_eq!(c.patch("/api/v1/me", json!({ "language": "ru" })).await.status, StatusCode::OK);
    let soon = (app.clock.now() + chrono::Duration::days(2)).to_rfc3339();
    let res =
        c.post("/api/v1/me/tokens", json!({ "description": "Сборка", "scopes": ["read"], "expires_at": soon })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    app.usher.queue_token_reminders().await.unwrap();
    let got = app.mail.next_to("ivan@example.org").await;
    assert!(got.subject.contains("истекает") && got.subject.contains("Сборка"), "{}", got.subject);
}
