//! Sign-in protection: failures slow down and then lock an account (and,
//! separately, a client address) for a while, with the same answer for unknown
//! users; locks live in the database, so every node enforces them; an
//! administrator can lift one; the owner can still ask for a reset link.

use std::time::Instant;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use usher_domain::Role;
use usher_server::{Config, Overrides};

use crate::helpers::{Client, Res, TestApp, USER_PASSWORD};

async fn login(c: &mut Client, login: &str, password: &str) -> Res {
    c.post("/api/v1/auth/login", json!({ "login": login, "password": password })).await
}

/// A sign-in from a given client address (the server trusts `X-Forwarded-For`).
async fn login_from(app: &TestApp, address: &str, login: &str, password: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/api/v1/auth/login", app.base))
        .header("x-forwarded-for", address)
        .json(&json!({ "login": login, "password": password }))
        .send()
        .await
        .unwrap()
}

fn retry_after(res: &Res) -> u64 {
    res.headers.get("retry-after").expect("a Retry-After header").to_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn five_failures_lock_the_account_with_the_answer_an_unknown_user_gets() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let lee = app.create_user("lee", Some("lee@example.org"), USER_PASSWORD, &[Role::User]).await;
    let mut c = app.client();

    for _ in 0..5 {
        assert_eq!(login(&mut c, "lee", "wrong-password").await.status, StatusCode::UNAUTHORIZED);
    }
    // Locked: even the right password is refused, before any check.
    let locked = login(&mut c, "lee", USER_PASSWORD).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS, "{}", locked.body);
    assert_eq!(locked.content_type(), "application/problem+json");
    assert_eq!(locked.body["type"], "urn:usher:problem:sign-in-locked");
    let wait = retry_after(&locked);
    assert!((890..=900).contains(&wait), "{wait}");
    assert!(locked.headers.get("set-cookie").is_none());

    // A name nobody has locks the same way, with the same answer.
    for _ in 0..5 {
        assert_eq!(login(&mut c, "ghost", "wrong-password").await.status, StatusCode::UNAUTHORIZED);
    }
    let ghost = login(&mut c, "ghost", "wrong-password").await;
    assert_eq!(ghost.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(ghost.body, locked.body);
    assert!((890..=900).contains(&retry_after(&ghost)));

    // Audited: the lock, and each refused attempt.
    let events = admin.get(&format!("/api/v1/audit-events?target_id={}", lee.id)).await.body;
    let items = events["items"].as_array().unwrap();
    let lock = items.iter().find(|e| e["action"] == "auth.lockout.started").expect("the lock is audited");
    assert_eq!(lock["details"]["scope"], "account");
    assert!(items.iter().any(|e| e["action"] == "auth.login.failed" && e["details"]["reason"] == "locked"));

    // The administrator sees the lock and lifts it.
    let security = admin.get(&format!("/api/v1/users/{}/security", lee.id)).await.body;
    assert!(security["locked_until"].is_string(), "{security}");
    assert_eq!(security["recent_failures"], 5);
    let res = admin.post(&format!("/api/v1/users/{}/unlock", lee.id), json!({})).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    assert_eq!(admin.get(&format!("/api/v1/users/{}/security", lee.id)).await.body["locked_until"], Value::Null);
    assert_eq!(login(&mut c, "lee", USER_PASSWORD).await.status, StatusCode::OK);
    let events = admin.get("/api/v1/audit-events?action=auth.lockout.lifted").await.body;
    assert_eq!(events["items"][0]["details"]["was_locked"], true);

    // Only administrators and user managers may lift a lock.
    let (_, mut plain) = app.user("plain").await;
    assert_eq!(plain.post(&format!("/api/v1/users/{}/unlock", lee.id), json!({})).await.status, StatusCode::FORBIDDEN);
    assert_eq!(plain.get(&format!("/api/v1/users/{}/security", lee.id)).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_lock_ends_by_itself_after_15_minutes() {
    let app = TestApp::spawn().await;
    app.create_user("ray", Some("ray@example.org"), USER_PASSWORD, &[Role::User]).await;
    let mut c = app.client();
    for _ in 0..5 {
        login(&mut c, "ray", "wrong-password").await;
    }
    assert_eq!(login(&mut c, "ray", USER_PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);
    app.clock.advance(chrono::Duration::minutes(14));
    let still = login(&mut c, "ray", USER_PASSWORD).await;
    assert_eq!(still.status, StatusCode::TOO_MANY_REQUESTS);
    assert!((50..=60).contains(&retry_after(&still)), "{}", retry_after(&still));
    app.clock.advance(chrono::Duration::minutes(1) + chrono::Duration::seconds(1));
    assert_eq!(login(&mut c, "ray", USER_PASSWORD).await.status, StatusCode::OK);
}

#[tokio::test]
async fn failures_slow_down_and_a_success_forgets_them() {
    let app = TestApp::spawn().await;
    app.create_user("mo", Some("mo@example.org"), USER_PASSWORD, &[Role::User]).await;
    let mut c = app.client();
    for _ in 0..3 {
        login(&mut c, "mo", "wrong-password").await;
    }
    // After three failures the next attempt waits at least half a second.
    let started = Instant::now();
    assert_eq!(login(&mut c, "mo", USER_PASSWORD).await.status, StatusCode::OK);
    assert!(started.elapsed().as_millis() >= 450, "{:?}", started.elapsed());
    // The success forgot them: four more failures do not lock.
    for _ in 0..4 {
        assert_eq!(login(&mut c, "mo", "wrong-password").await.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(login(&mut c, "mo", USER_PASSWORD).await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_address_with_too_many_failures_is_locked_whoever_it_tries() {
    let app = TestApp::spawn_with(&[("USHER_TRUST_PROXY", "true"), ("USHER_LOCKOUT_ADDRESS_FAILURES", "6")]).await;
    app.create_user("nia", Some("nia@example.org"), USER_PASSWORD, &[Role::User]).await;
    for n in 0..6 {
        let res = login_from(&app, "203.0.113.7", &format!("guess-{n}"), "wrong-password").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = login_from(&app, "203.0.113.7", "nia", USER_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().get("retry-after").is_some());
    // Another address is not affected, nor is the account.
    assert_eq!(login_from(&app, "198.51.100.2", "nia", USER_PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_lock_holds_on_every_node_of_the_database() {
    let app = TestApp::spawn().await;
    app.create_user("oz", Some("oz@example.org"), USER_PASSWORD, &[Role::User]).await;
    // A second node on the same database.
    let env = vec![
        ("USHER_DATABASE_URL".to_string(), app.db_url.clone()),
        ("USHER_LISTEN".to_string(), "127.0.0.1:0".to_string()),
    ];
    let (config, _) = Config::load(None, env, Overrides::default()).unwrap();
    let node = app.node(config).await;
    let other = format!("http://{}", node.addr);
    let (_stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(node.run_until(async move {
        let _ = stopped.await;
    }));

    let mut a = app.client();
    let mut b = Client::new(&other);
    for n in 0..5 {
        let c = if n % 2 == 0 { &mut a } else { &mut b };
        assert_eq!(login(c, "oz", "wrong-password").await.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(login(&mut a, "oz", USER_PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(login(&mut b, "oz", USER_PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_locked_owner_can_still_get_a_reset_link() {
    let app = TestApp::spawn().await;
    app.create_user("pia", Some("pia@example.org"), USER_PASSWORD, &[Role::User]).await;
    let mut c = app.client();
    for _ in 0..5 {
        login(&mut c, "pia", "wrong-password").await;
    }
    assert_eq!(login(&mut c, "pia", USER_PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);
    let res = c.post("/api/v1/auth/password-reset", json!({ "login": "pia" })).await;
    assert_eq!(res.status, StatusCode::ACCEPTED);
    let mail = app.mail.next_to("pia@example.org").await;
    let link = mail.link();
    assert!(link.starts_with(&format!("{}/reset-password/", app.base)), "{link}");
    // Using the link proves control of the mailbox: the lock is lifted.
    let token = link.rsplit('/').next().unwrap().to_owned();
    let new_password = "Quartz-Lantern-Meadow-77";
    let res =
        c.post("/api/v1/auth/password-reset/complete", json!({ "token": token, "new_password": new_password })).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.body);
    assert_eq!(login(&mut c, "pia", new_password).await.status, StatusCode::OK);
}
