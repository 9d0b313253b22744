//! Password expiry: the organization's maximum age for non-administrators, the
//! operator's for administrators; an expired password must be changed at the next
//! sign-in before anything else; owners are emailed a week before, once.

use chrono::Duration;
use reqwest::{Method, StatusCode};
use serde_json::json;
use usher_domain::Role;

use crate::helpers::{ADMIN_PASSWORD, Client, TestApp, USER_PASSWORD};

async fn set_max_age(admin: &mut Client, days: Option<u32>) {
    let mut policy = admin.get("/api/v1/settings/password-policy").await.body;
    policy["max_age_days"] = json!(days);
    let res = admin.put("/api/v1/settings/password-policy", policy).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
}

#[tokio::test]
async fn an_expired_password_must_be_changed_at_the_next_sign_in() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let (quinn, _) = app.user("quinn").await;
    set_max_age(&mut admin, Some(30)).await;
    app.clock.advance(Duration::days(30) - Duration::minutes(1));
    let res = app.client().post("/api/v1/auth/login", json!({ "login": "quinn", "password": USER_PASSWORD })).await;
    assert_eq!(res.body["must_change_password"], false, "not 30 days old yet");
    app.clock.advance(Duration::minutes(2));

    let mut c = app.client();
    let res = c.post("/api/v1/auth/login", json!({ "login": "quinn", "password": USER_PASSWORD })).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.body["must_change_password"], true);
    let res = c.get("/api/v1/me/tokens").await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(res.body["type"], "urn:usher:problem:password-change-required");
    let new = "Granite-Pelican-Orbit-77";
    let res = c.put("/api/v1/me/password", json!({ "current_password": USER_PASSWORD, "new_password": new })).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.body);
    assert_eq!(c.get("/api/v1/me/tokens").await.status, StatusCode::OK);
    assert_eq!(c.get("/api/v1/me").await.body["must_change_password"], false);

    // The organization's maximum age is not the administrators' (only the operator sets theirs).
    let mut admin = app.client();
    let res = admin.post("/api/v1/auth/login", json!({ "login": "admin", "password": ADMIN_PASSWORD })).await;
    assert_eq!(res.body["must_change_password"], false);

    let events = admin.get("/api/v1/audit-events?action=user.password.expired").await.body;
    assert_eq!(events["items"].as_array().unwrap().len(), 1);
    assert_eq!(events["items"][0]["target_id"], json!(quinn.id));
    assert_eq!(events["items"][0]["details"]["max_age_days"], 30);
}

#[tokio::test]
async fn the_expiry_also_applies_after_the_second_step() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let (_, mut c) = app.user("rae").await;
    let (mut phone, _) = crate::mfa::enrol(&app, &mut c).await;
    set_max_age(&mut admin, Some(30)).await;
    app.clock.advance(Duration::days(45));

    let mut d = app.client();
    let ticket = crate::mfa::ticket(&mut d, "rae", USER_PASSWORD).await;
    let code = phone.next_code();
    let res = d.post("/api/v1/auth/login/mfa", json!({ "ticket": ticket, "code": code })).await;
    assert_eq!((res.status, res.body["must_change_password"].clone()), (StatusCode::OK, json!(true)));
    assert_eq!(d.send(Method::GET, "/api/v1/me/sessions", None).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn administrators_follow_the_operators_maximum_age_only() {
    let app = TestApp::spawn_with(&[("USHER_ADMIN_PASSWORD_MAX_AGE_DAYS", "10")]).await;
    let (admin_user, mut admin) = app.admin().await;
    app.user("sam").await;

    // The operator's setting is not in the API: the policy has no such field.
    let mut policy = admin.get("/api/v1/settings/password-policy").await.body;
    policy["admin_max_age_days"] = json!(1);
    assert_eq!(admin.put("/api/v1/settings/password-policy", policy).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let security = admin.get(&format!("/api/v1/users/{}/security", admin_user.id)).await.body;
    assert!(security["password_expires_at"].is_string(), "{security}");

    // A session opened a minute before the password is 10 days old...
    app.clock.advance(Duration::days(10) - Duration::minutes(1));
    let mut admin = app.signed_in("admin", ADMIN_PASSWORD).await;
    assert_eq!(admin.get("/api/v1/me").await.body["must_change_password"], false);
    app.clock.advance(Duration::minutes(2));
    let res = app.client().post("/api/v1/auth/login", json!({ "login": "admin", "password": ADMIN_PASSWORD })).await;
    assert_eq!(res.body["must_change_password"], true, "{}", res.body);
    let res = app.client().post("/api/v1/auth/login", json!({ "login": "sam", "password": USER_PASSWORD })).await;
    assert_eq!(res.body["must_change_password"], false, "no organization maximum age is set");
    // The flag is the account's: the administrator's older session must change it too.
    assert_eq!(admin.get("/api/v1/audit-events").await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn owners_are_emailed_once_a_week_before_their_password_expires() {
    let app = TestApp::spawn_with(&[("USHER_ADMIN_PASSWORD_MAX_AGE_DAYS", "90")]).await;
    let (_, mut admin) = app.admin().await;
    app.create_user("wes", None, USER_PASSWORD, &[Role::User]).await;
    set_max_age(&mut admin, Some(30)).await;
    // Passwords set on different days: 85 days before the first pass the
    // administrator's (the operator's 90 days: expires in 5 days), 25 days
    // before Tia's (the organization's 30: in 5 days), 21 days before Vic's (in
    // 9 days: not yet), 10 days before Uma's (in 20 days: not yet).
    app.clock.advance(Duration::days(60));
    app.create_user("tia", Some("tia@example.org"), USER_PASSWORD, &[Role::User]).await;
    app.clock.advance(Duration::days(4));
    app.create_user("vic", Some("vic@example.org"), USER_PASSWORD, &[Role::User]).await;
    app.clock.advance(Duration::days(11));
    app.create_user("uma", Some("uma@example.org"), USER_PASSWORD, &[Role::User]).await;
    app.clock.advance(Duration::days(10));

    app.usher.queue_password_reminders().await.unwrap();
    let mail = app.mail.next_to("tia@example.org").await;
    assert_eq!(mail.subject.split(" on ").next(), Some("Your password expires"), "{}", mail.subject);
    assert!(mail.text.contains(&format!("{}/profile/security", app.base)), "{}", mail.text);
    let mail = app.mail.next_to("admin@example.org").await;
    assert!(mail.subject.starts_with("Your password expires on "));

    // Once per password: another pass sends nothing more.
    assert_eq!(app.usher.queue_password_reminders().await.unwrap(), 0);
    // Ten days later Vic's has expired: told so; Uma's expires in 10 days: not yet.
    app.clock.advance(Duration::days(10));
    assert_eq!(app.usher.queue_password_reminders().await.unwrap(), 1);
    let mail = app.mail.next_to("vic@example.org").await;
    assert_eq!(mail.subject, "Your password has expired");
    assert_eq!(app.mail.count_to("tia@example.org"), 1);
    assert_eq!(app.mail.count_to("uma@example.org"), 0);
    assert_eq!(app.mail.count_to("admin@example.org"), 1);
}
