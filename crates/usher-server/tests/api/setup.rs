use reqwest::StatusCode;
use serde_json::json;
use usher_core::{RequestContext, accounts::NewAccount};
use usher_domain::{Email, LoginName, Role};

use crate::helpers::{ADMIN_PASSWORD, TestApp};

fn account(user_id: &str, email: &str, password: &str) -> NewAccount {
    NewAccount {
        user_id: LoginName::parse(user_id).unwrap(),
        email: Some(Email::parse(email).unwrap()),
        first_name: None,
        last_name: None,
        roles: vec![],
        password: Some(password.into()),
    }
}

#[tokio::test]
async fn the_setup_link_creates_the_first_administrator_once() {
    let app = TestApp::spawn().await;
    let link = app.setup_link.clone().expect("a fresh server prints a setup link");
    let token = link.rsplit('/').next().unwrap();
    assert!(link.starts_with(&app.base));
    assert!(app.usher.setup_token_valid(token).await.unwrap());

    // A password against the policy gives the link back for another try.
    let weak =
        app.usher.complete_setup(&RequestContext::default(), token, account("root", "root@example.org", "root")).await;
    assert!(matches!(weak, Err(usher_core::Error::Invalid(_))));
    assert!(app.usher.setup_token_valid(token).await.unwrap());

    let done = app
        .usher
        .complete_setup(&RequestContext::default(), token, account("root", "root@example.org", ADMIN_PASSWORD))
        .await
        .unwrap();
    assert_eq!(done.user.roles, vec![Role::Administrator]);
    assert!(!app.usher.setup_token_valid(token).await.unwrap(), "single use");
    let again = app
        .usher
        .complete_setup(&RequestContext::default(), token, account("root2", "r2@example.org", ADMIN_PASSWORD))
        .await;
    assert!(matches!(again, Err(usher_core::Error::NotFound)));

    let mut c = app.signed_in("root@example.org", ADMIN_PASSWORD).await;
    assert_eq!(c.get("/api/v1/me").await.body["roles"], json!(["administrator"]));
    // Once an administrator exists, a restart prints no link.
    assert!(app.usher.initialize().await.unwrap().setup_token.is_none());
}

#[tokio::test]
async fn administrators_need_an_email_and_user_ids_are_unique_without_case() {
    let app = TestApp::spawn().await;
    let ctx = RequestContext::default();
    let org = app.usher.organization(None).await.unwrap().unwrap();
    let mut no_email = account("nomail", "x@example.org", ADMIN_PASSWORD);
    no_email.email = None;
    no_email.roles = vec![Role::Administrator];
    let err = app.usher.create_user(&ctx, None, org.id, no_email).await.unwrap_err();
    assert!(matches!(err, usher_core::Error::Invalid(ref i) if i.0[0].field == "email"), "{err:?}");

    app.usher.create_admin(&ctx, account("Chief", "chief@example.org", ADMIN_PASSWORD)).await.unwrap();
    let dup = app.usher.create_admin(&ctx, account("CHIEF", "other@example.org", ADMIN_PASSWORD)).await.unwrap_err();
    assert!(
        matches!(dup, usher_core::Error::Invalid(ref i) if i.0[0].code == "taken" && i.0[0].field == "user_id"),
        "{dup:?}"
    );
    let dup = app.usher.create_admin(&ctx, account("boss", "CHIEF@example.org", ADMIN_PASSWORD)).await.unwrap_err();
    assert!(matches!(dup, usher_core::Error::Invalid(ref i) if i.0[0].field == "email"), "{dup:?}");
}

#[tokio::test]
async fn concurrent_creations_of_one_user_id_give_one_success() {
    let app = TestApp::spawn().await;
    let ctx = RequestContext::default();
    let a = app.usher.create_admin(&ctx, account("twin", "a@example.org", ADMIN_PASSWORD));
    let b = app.usher.create_admin(&ctx, account("TWIN", "b@example.org", ADMIN_PASSWORD));
    let (a, b) = tokio::join!(a, b);
    assert_eq!([a.is_ok(), b.is_ok()].iter().filter(|ok| **ok).count(), 1);
    let c = app.client().post("/api/v1/auth/login", json!({ "login": "twin", "password": ADMIN_PASSWORD })).await;
    assert_eq!(c.status, StatusCode::OK);
}

#[tokio::test]
async fn the_setup_sign_in_counts_as_a_sign_in() {
    let app = TestApp::spawn().await;
    let token = app.setup_link.clone().unwrap().rsplit('/').next().unwrap().to_owned();
    let done = app
        .usher
        .complete_setup(&RequestContext::default(), &token, account("first", "first@example.org", ADMIN_PASSWORD))
        .await
        .unwrap();
    assert!(done.user.last_login_at.is_some());
    let mut c = app.signed_in("first", ADMIN_PASSWORD).await;
    assert!(c.get("/api/v1/me").await.body["last_login_at"].is_string());
}
