use chrono::Duration;
use reqwest::StatusCode;
use serde_json::json;
use usher_domain::{Role, UserId};

use crate::helpers::{TestApp, USER_PASSWORD};

#[tokio::test]
async fn sign_in_with_user_id_or_email_any_case_then_sign_out() {
    let app = TestApp::spawn().await;
    app.create_user("Ann.Lee", Some("Ann@Example.org"), USER_PASSWORD, &[Role::User]).await;

    for login in ["ann.lee", "ANN.LEE", "ann@example.org", "ANN@EXAMPLE.ORG"] {
        let mut c = app.client();
        let res = c.post("/api/v1/auth/login", json!({ "login": login, "password": USER_PASSWORD })).await;
        assert_eq!(res.status, StatusCode::OK, "{login}: {}", res.body);
        assert_eq!(res.body["user_id"], "Ann.Lee");
        assert_eq!(res.body["roles"], json!(["user"]));
        let cookie = res.headers.get("set-cookie").unwrap().to_str().unwrap().to_owned();
        assert!(cookie.starts_with("usher_session="), "{cookie}");
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"),
            "{cookie}"
        );
        assert!(c.csrf.is_some(), "the CSRF token comes back in a header");

        assert_eq!(c.get("/api/v1/me").await.body["email"], "Ann@Example.org");
        assert_eq!(c.post("/api/v1/auth/logout", json!({})).await.status, StatusCode::NO_CONTENT);
        assert_eq!(c.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn a_failed_sign_in_looks_the_same_whether_the_user_exists_or_not() {
    let app = TestApp::spawn().await;
    app.create_user("bob", Some("bob@example.org"), USER_PASSWORD, &[Role::User]).await;
    let mut c = app.client();
    let wrong = c.post("/api/v1/auth/login", json!({ "login": "bob", "password": "nope-nope-nope" })).await;
    let unknown = c.post("/api/v1/auth/login", json!({ "login": "nobody", "password": "nope-nope-nope" })).await;
    let bad_org = c
        .post("/api/v1/auth/login", json!({ "login": "bob", "password": USER_PASSWORD, "organization": "elsewhere" }))
        .await;
    for res in [&wrong, &unknown, &bad_org] {
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
        assert_eq!(res.content_type(), "application/problem+json");
        assert!(res.headers.get("set-cookie").is_none());
    }
    assert_eq!(wrong.body, unknown.body);
    assert_eq!(wrong.body, bad_org.body);
    // The named default organization works like no organization.
    let ok = c
        .post("/api/v1/auth/login", json!({ "login": "bob", "password": USER_PASSWORD, "organization": "Default" }))
        .await;
    assert_eq!(ok.status, StatusCode::OK);
}

#[tokio::test]
async fn cookie_authenticated_changes_need_the_csrf_token() {
    let app = TestApp::spawn().await;
    let (_, mut c) = app.user("carol").await;
    let token = c.csrf.take();
    let res = c.patch("/api/v1/me", json!({ "first_name": "Mallory" })).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(res.body["type"], "urn:usher:problem:csrf");
    c.csrf = Some("wrong".into());
    assert_eq!(c.patch("/api/v1/me", json!({ "first_name": "Mallory" })).await.status, StatusCode::FORBIDDEN);
    c.csrf = token;
    assert_eq!(c.patch("/api/v1/me", json!({ "first_name": "Carol" })).await.status, StatusCode::OK);
    // Reads need no token, and GET /me hands it out again (e.g. after a page reload).
    c.csrf = None;
    let me = c.get("/api/v1/me").await;
    assert_eq!(me.status, StatusCode::OK);
    assert!(c.csrf.is_some());
}

#[tokio::test]
async fn sessions_are_stored_as_digests_and_end_independently() {
    let app = TestApp::spawn().await;
    app.create_user("dave", Some("dave@example.org"), USER_PASSWORD, &[Role::User]).await;
    let laptop = login_secret(&app, "dave", USER_PASSWORD).await;
    let phone = login_secret(&app, "dave", USER_PASSWORD).await;

    // Only digests are in the database, never the cookie value.
    let digests = stored_session_digests(&app).await;
    assert_eq!(digests.len(), 2);
    for secret in [&laptop, &phone] {
        assert!(digests.iter().all(|d| d.len() == 32 && !String::from_utf8_lossy(d).contains(secret.as_str())));
    }

    let http = reqwest::Client::new();
    let me = |secret: &str| {
        http.get(format!("{}/api/v1/me", app.base)).header("cookie", format!("usher_session={secret}")).send()
    };
    let csrf = me(&laptop).await.unwrap().headers()["x-csrf-token"].to_str().unwrap().to_owned();
    let out = http
        .post(format!("{}/api/v1/auth/logout", app.base))
        .header("cookie", format!("usher_session={laptop}"))
        .header("x-csrf-token", csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert_eq!(me(&laptop).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(me(&phone).await.unwrap().status(), StatusCode::OK, "ending one session never ends another");
    assert_eq!(stored_session_digests(&app).await.len(), 1);
}

#[tokio::test]
async fn a_disabled_user_cannot_sign_in_and_loses_their_sessions() {
    let app = TestApp::spawn().await;
    let (user, mut c) = app.user("erin").await;
    set_status(&app, user.id, "disabled").await;
    assert_eq!(c.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
    let res = app.client().post("/api/v1/auth/login", json!({ "login": "erin", "password": USER_PASSWORD })).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn sessions_are_shared_by_every_node_on_one_database() {
    let app = TestApp::spawn().await;
    app.create_user("frank", Some("frank@example.org"), USER_PASSWORD, &[Role::User]).await;
    // A second server process on the same database accepts the session.
    let env = vec![
        ("USHER_DATABASE_URL".to_string(), app.db_url.clone()),
        ("USHER_LISTEN".to_string(), "127.0.0.1:0".to_string()),
    ];
    let (config, _) = usher_server::Config::load(None, env, usher_server::Overrides::default()).unwrap();
    let other = app.node(config).await;
    let other_base = format!("http://{}", other.addr);
    tokio::spawn(other.run_until(std::future::pending()));
    let secret = login_secret(&app, "frank", USER_PASSWORD).await;
    let res = reqwest::Client::new()
        .get(format!("{other_base}/api/v1/me"))
        .header("cookie", format!("usher_session={secret}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let csrf = res.headers()["x-csrf-token"].to_str().unwrap().to_owned();
    let out = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/logout", app.base))
        .header("cookie", format!("usher_session={secret}"))
        .header("x-csrf-token", csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    let res = reqwest::Client::new()
        .get(format!("{other_base}/api/v1/me"))
        .header("cookie", format!("usher_session={secret}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "sign-out on one node holds on the other");
}

#[tokio::test]
async fn idle_and_expired_sessions_end() {
    let app = TestApp::spawn().await;
    let (_, mut c) = app.user("gina").await;
    app.clock.advance(Duration::minutes(29));
    assert_eq!(c.get("/api/v1/me").await.status, StatusCode::OK, "idle for less than 30 minutes");
    app.clock.advance(Duration::minutes(31));
    assert_eq!(c.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED, "idle for longer than 30 minutes");

    // Used every 25 minutes, a session still ends 10 hours after sign-in.
    let (_, mut d) = app.user("hank").await;
    for _ in 0..23 {
        app.clock.advance(Duration::minutes(25));
        assert_eq!(d.get("/api/v1/me").await.status, StatusCode::OK);
    }
    app.clock.advance(Duration::minutes(26));
    assert_eq!(d.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED, "past the absolute lifetime");
}

/// Signs in with a plain client and returns the session cookie's value.
async fn login_secret(app: &TestApp, login: &str, password: &str) -> String {
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&json!({ "login": login, "password": password }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res.headers().get("set-cookie").unwrap().to_str().unwrap();
    cookie.split(';').next().unwrap().trim_start_matches("usher_session=").to_owned()
}

pub async fn stored_session_digests(app: &TestApp) -> Vec<Vec<u8>> {
    db_query_bytes(app, "SELECT secret_digest FROM sessions ORDER BY created_at").await
}

async fn db_query_bytes(app: &TestApp, sql: &'static str) -> Vec<Vec<u8>> {
    if app.db_url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(&app.db_url).await.unwrap();
        sqlx::query_scalar(sql).fetch_all(&pool).await.unwrap()
    } else {
        let pool = sqlx::SqlitePool::connect(&app.db_url).await.unwrap();
        sqlx::query_scalar(sql).fetch_all(&pool).await.unwrap()
    }
}

pub async fn set_status(app: &TestApp, id: UserId, status: &str) {
    if app.db_url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(&app.db_url).await.unwrap();
        sqlx::query("UPDATE users SET status = $1 WHERE id = $2").bind(status).bind(id).execute(&pool).await.unwrap();
    } else {
        let pool = sqlx::SqlitePool::connect(&app.db_url).await.unwrap();
        sqlx::query("UPDATE users SET status = ?1 WHERE id = ?2").bind(status).bind(id).execute(&pool).await.unwrap();
    }
}
