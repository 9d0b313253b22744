//! Password-reset links: self-service "forgot password" (never revealing whether
//! an account exists) and links sent by an administrator.

use reqwest::StatusCode;
use serde_json::json;
use usher_core::RequestContext;

use crate::{
    helpers::{ADMIN_PASSWORD, Client, TestApp, USER_PASSWORD},
    invitations::{NEW_PASSWORD, principal},
};

fn token_of(link: &str) -> String {
    link.rsplit('/').next().unwrap().to_owned()
}

async fn login_status(app: &TestApp, login: &str, password: &str) -> StatusCode {
    Client::new(&app.base).post("/api/v1/auth/login", json!({ "login": login, "password": password })).await.status
}

#[tokio::test]
async fn forgot_password_link_sets_a_new_password_once() {
    let app = TestApp::spawn().await;
    let (_, mut session) = app.user("gil").await;
    let mut anon = Client::new(&app.base);
    let res = anon.post("/api/v1/auth/password-reset", json!({ "login": "GIL@example.org" })).await;
    assert_eq!(res.status, StatusCode::ACCEPTED);

    let mail = app.mail.next_to("gil@example.org").await;
    assert_eq!(mail.subject, "Reset your password");
    let link = mail.link();
    assert!(link.starts_with(&format!("{}/reset-password/", app.base)), "{link}");
    let token = token_of(&link);
    // The old password keeps working until the link is used.
    assert_eq!(login_status(&app, "gil", USER_PASSWORD).await, StatusCode::OK);

    let res =
        anon.post("/api/v1/auth/password-reset/complete", json!({ "token": token, "new_password": "short" })).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert!(res.error_codes().contains(&"min_length".to_owned()), "{}", res.body);
    // The current password is in the history: refused.
    let res = anon
        .post("/api/v1/auth/password-reset/complete", json!({ "token": token, "new_password": USER_PASSWORD }))
        .await;
    assert_eq!(res.error_codes(), ["history"], "{}", res.body);

    let res = anon
        .post("/api/v1/auth/password-reset/complete", json!({ "token": token, "new_password": NEW_PASSWORD }))
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.body);
    assert_eq!(login_status(&app, "gil", NEW_PASSWORD).await, StatusCode::OK);
    assert_eq!(login_status(&app, "gil", USER_PASSWORD).await, StatusCode::UNAUTHORIZED);
    // The sessions opened before end.
    assert_eq!(session.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
    // Single use.
    let res = anon
        .post("/api/v1/auth/password-reset/complete", json!({ "token": token, "new_password": "Another-Fine-Pass-99" }))
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);

    let (_, mut admin) = app.admin().await;
    for action in ["user.password.reset_requested", "user.password.reset_completed"] {
        let audit = admin.get(&format!("/api/v1/audit-events?action={action}")).await;
        assert_eq!(audit.body["items"].as_array().unwrap().len(), 1, "{action}: {}", audit.body);
    }
}

#[tokio::test]
async fn unknown_accounts_get_the_same_answer_and_no_email() {
    let app = TestApp::spawn().await;
    app.user("hal").await;
    let mut anon = Client::new(&app.base);
    for login in ["nobody", "nobody@example.org", ""] {
        let res = anon.post("/api/v1/auth/password-reset", json!({ "login": login })).await;
        assert_eq!(res.status, StatusCode::ACCEPTED, "{login}");
        assert_eq!(res.body, serde_json::Value::Null);
    }
    let res = anon.post("/api/v1/auth/password-reset", json!({ "login": "hal", "organization": "no-such-org" })).await;
    assert_eq!(res.status, StatusCode::ACCEPTED);
    // Requests are handled in order of arrival: once hal's arrives, the others were ignored.
    anon.post("/api/v1/auth/password-reset", json!({ "login": "hal" })).await;
    app.mail.next_to("hal@example.org").await;
    assert_eq!(app.mail.all().len(), 1, "{:?}", app.mail.all());
    // Bad bodies are still problems.
    let res = anon.post("/api/v1/auth/password-reset", json!({ "email": "hal" })).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn requests_are_limited_per_account() {
    let app = TestApp::spawn().await;
    app.user("ian").await;
    let ctx = RequestContext::default();
    for _ in 0..5 {
        app.usher.request_password_reset(&ctx, None, "ian").await.unwrap();
    }
    for _ in 0..3 {
        app.mail.next_to("ian@example.org").await;
    }
    let n: i64 = if app.db_url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(&app.db_url).await.unwrap();
        sqlx::query_scalar("SELECT count(*) FROM outbox").fetch_one(&pool).await.unwrap()
    } else {
        let pool = sqlx::SqlitePool::connect(&app.db_url).await.unwrap();
        sqlx::query_scalar("SELECT count(*) FROM outbox").fetch_one(&pool).await.unwrap()
    };
    assert_eq!(n, 3);
}

#[tokio::test]
async fn an_administrator_sends_a_reset_link_in_the_users_language() {
    let app = TestApp::spawn().await;
    app.admin().await;
    let (_, mut jo_client) = app.user("jo").await;
    assert_eq!(jo_client.patch("/api/v1/me", json!({ "language": "fr" })).await.status, StatusCode::OK);
    let admin = principal(&app, "admin", ADMIN_PASSWORD).await;
    let jo = principal(&app, "jo", USER_PASSWORD).await.user;
    let link = usher_core::users::ResetMode::Link;
    app.usher.reset_password(&RequestContext::default(), &admin, jo.id, link).await.unwrap();
    let mail = app.mail.next_to("jo@example.org").await;
    assert_eq!(mail.subject, "Réinitialisez votre mot de passe");
    assert!(mail.text.contains("Bonjour"), "{}", mail.text);
    let token = token_of(&mail.link());
    let res = Client::new(&app.base)
        .post("/api/v1/auth/password-reset/complete", json!({ "token": token, "new_password": NEW_PASSWORD }))
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.body);
    assert_eq!(login_status(&app, "jo", NEW_PASSWORD).await, StatusCode::OK);

    // An administrator cannot be sent a link by a plain user manager.
    app.create_user("um", Some("um@example.org"), USER_PASSWORD, &[usher_domain::Role::UserManager]).await;
    let um = principal(&app, "um", USER_PASSWORD).await;
    let link = usher_core::users::ResetMode::Link;
    let err = app.usher.reset_password(&RequestContext::default(), &um, admin.user.id, link).await;
    assert!(matches!(err, Err(usher_core::Error::Forbidden(_))), "{err:?}");
}

#[tokio::test]
async fn an_expired_link_does_not_work() {
    let app = TestApp::spawn().await;
    app.user("kim").await;
    app.usher.request_password_reset(&RequestContext::default(), None, "kim").await.unwrap();
    let token = token_of(&app.mail.next_to("kim@example.org").await.link());
    app.clock.advance(usher_core::invitations::RESET_LIFETIME + chrono::Duration::minutes(1));
    let res = Client::new(&app.base)
        .post("/api/v1/auth/password-reset/complete", json!({ "token": token, "new_password": NEW_PASSWORD }))
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
}
