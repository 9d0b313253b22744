//! The forced password change does not ask again for the password just typed:
//! only the session that signed in with the password to change, only for
//! `FORCED_CHANGE_WINDOW`, and never a bearer token or an older session. The
//! API and the web page answer alike, on both engines.

use chrono::Duration;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use usher_core::auth::FORCED_CHANGE_WINDOW;

use crate::helpers::{Client, Res, TestApp, USER_PASSWORD, hidden};

const NEW_PASSWORD: &str = "Quiet-Copper-Meadow-58";

/// Resets `user`'s password to a temporary one; answers it.
async fn temporary_password(admin: &mut Client, user: &str) -> String {
    let res = admin.post(&format!("/api/v1/users/{user}/password-reset"), json!({ "mode": "temporary" })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    res.body["temporary_password"].as_str().unwrap().to_owned()
}

async fn change(c: &mut Client, body: Value) -> Res {
    c.put("/api/v1/me/password", body).await
}

async fn password_events(admin: &mut Client, target: &str) -> Vec<Value> {
    let path = format!("/api/v1/audit-events?action=user.password.changed&target_id={target}");
    admin.get(&path).await.body["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn the_session_that_signed_in_with_the_temporary_password_need_not_repeat_it() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let (bob, _) = app.user("bob").await;
    let bob_id = bob.id.to_string();
    let temporary = temporary_password(&mut admin, &bob_id).await;
    let mut c = app.signed_in("bob", &temporary).await;
    c.get("/api/v1/me").await;

    // The password to change cannot be chosen again, typed or not.
    let res = change(&mut c, json!({ "new_password": temporary })).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert_eq!(res.error_codes(), ["same_as_current"]);
    // A current password given is still checked.
    let res = change(&mut c, json!({ "current_password": "wrong", "new_password": NEW_PASSWORD })).await;
    assert_eq!(res.error_codes(), ["incorrect"]);
    // Left out (or null): the sign-in moments ago is the proof.
    let res = change(&mut c, json!({ "current_password": null, "new_password": NEW_PASSWORD })).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.body);
    assert_eq!(c.get("/api/v1/me").await.body["must_change_password"], false);
    let events = password_events(&mut admin, &bob_id).await;
    assert_eq!(events[0]["details"]["proof"], "sign_in");

    // Once changed, the current password is asked for again.
    let res = change(&mut c, json!({ "new_password": "Other-Copper-Meadow-59" })).await;
    assert_eq!((res.status, res.error_codes()), (StatusCode::UNPROCESSABLE_ENTITY, vec!["required".to_owned()]));
    let res =
        change(&mut c, json!({ "current_password": NEW_PASSWORD, "new_password": "Other-Copper-Meadow-59" })).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.body);
    assert_eq!(password_events(&mut admin, &bob_id).await[0]["details"]["proof"], "current_password");
}

#[tokio::test]
async fn the_shortcut_ends_with_its_window_and_is_not_for_tokens_or_other_sessions() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let (carl, mut carl_api) = app.user("carl").await;
    let token = {
        let res =
            carl_api.post("/api/v1/me/tokens", json!({ "description": "script", "scopes": ["profile:write"] })).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
        res.body["token"].as_str().unwrap().to_owned()
    };
    let temporary = temporary_password(&mut admin, &carl.id.to_string()).await;

    // A bearer token never skips the current password.
    let body = json!({ "new_password": NEW_PASSWORD });
    let res = app.bearer(Method::PUT, "/api/v1/me/password", &token, Some(body.clone())).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert_eq!(res.error_codes(), ["required"]);

    // The session that signed in with it, past the window: the password again.
    let mut c = app.signed_in("carl", &temporary).await;
    c.get("/api/v1/me").await;
    app.clock.advance(FORCED_CHANGE_WINDOW + Duration::seconds(1));
    let res = change(&mut c, body.clone()).await;
    assert_eq!((res.status, res.error_codes()), (StatusCode::UNPROCESSABLE_ENTITY, vec!["required".to_owned()]));
    let res = change(&mut c, json!({ "current_password": temporary, "new_password": NEW_PASSWORD })).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.body);
}

#[tokio::test]
async fn an_expired_password_is_skipped_only_in_the_session_that_proved_it() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    app.create_user("dina", Some("dina@example.org"), USER_PASSWORD, &[usher_domain::Role::User]).await;
    let mut policy = admin.get("/api/v1/settings/password-policy").await.body;
    policy["max_age_days"] = json!(30);
    assert_eq!(admin.put("/api/v1/settings/password-policy", policy).await.status, StatusCode::OK);
    // A session opened just before the password expires, another just after.
    app.clock.advance(Duration::days(30) - Duration::minutes(1));
    let mut older = app.signed_in("dina", USER_PASSWORD).await;
    app.clock.advance(Duration::minutes(2));
    let mut fresh = app.signed_in("dina", USER_PASSWORD).await;
    assert_eq!(fresh.get("/api/v1/me").await.body["must_change_password"], true);
    assert_eq!(older.get("/api/v1/me").await.body["must_change_password"], true, "both must change it");

    let body = json!({ "new_password": NEW_PASSWORD });
    let res = change(&mut older, body.clone()).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert_eq!(res.error_codes(), ["required"]);
    let res = change(&mut fresh, body).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.body);
}

#[tokio::test]
async fn the_web_page_asks_for_the_current_password_only_when_needed() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let (erin, _) = app.user("erin").await;
    let temporary = temporary_password(&mut admin, &erin.id.to_string()).await;
    let mut c = app.sign_in(Client::not_following(&app.base), "erin", &temporary).await;

    let page = c.get("/password-change").await;
    let html = page.body.as_str().unwrap().to_owned();
    assert_eq!(page.status, StatusCode::OK);
    assert!(!html.contains("id=\"current_password\""), "not asked again: {html}");
    assert!(html.contains("id=\"new_password\"") && html.contains("id=\"repeat_password\""));
    let csrf = hidden(&html, "csrf_token");
    let form = |new: &str| {
        vec![
            ("csrf_token".to_owned(), csrf.clone()),
            ("new_password".to_owned(), new.to_owned()),
            ("repeat_password".to_owned(), new.to_owned()),
        ]
    };

    // The temporary password again: refused in the page's words.
    let res = c.form("/password-change", &form(&temporary)).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.body.as_str().unwrap();
    assert!(html.contains("id=\"new_password-error\"") && html.contains("different from the current one"), "{html}");

    // Past the window, the page asks for it, and says why when it was not given.
    app.clock.advance(FORCED_CHANGE_WINDOW + Duration::seconds(1));
    let page = c.get("/password-change").await;
    assert!(page.body.as_str().unwrap().contains("id=\"current_password\""));
    let res = c.form("/password-change", &form(NEW_PASSWORD)).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.body.as_str().unwrap();
    assert!(html.contains("id=\"current_password-error\"") && html.contains("enter your current password again"));
    let mut with_current = form(NEW_PASSWORD);
    with_current.push(("current_password".to_owned(), temporary.clone()));
    let res = c.form("/password-change", &with_current).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(res.headers["location"], "/profile/security?changed=1");
}

#[tokio::test]
async fn the_web_page_skips_it_right_after_signing_in() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let (fay, _) = app.user("fay").await;
    let temporary = temporary_password(&mut admin, &fay.id.to_string()).await;
    let mut c = app.sign_in(Client::not_following(&app.base), "fay", &temporary).await;
    let html = c.get("/password-change").await.body.as_str().unwrap().to_owned();
    let form = [
        ("csrf_token".to_owned(), hidden(&html, "csrf_token")),
        ("new_password".to_owned(), NEW_PASSWORD.to_owned()),
        ("repeat_password".to_owned(), NEW_PASSWORD.to_owned()),
    ];
    let res = c.form("/password-change", &form).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(c.get("/profile").await.status, StatusCode::OK, "the obligation is gone");
    let res = app.client().post("/api/v1/auth/login", json!({ "login": "fay", "password": NEW_PASSWORD })).await;
    assert_eq!(res.status, StatusCode::OK);
}
