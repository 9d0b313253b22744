//! Objects that carry roles or reach someone else's account are checked the same
//! way on every operation: invitations (create, resend, withdraw, accept), API
//! tokens made for others, and group membership of Administrators.

use reqwest::{Method, StatusCode};
use serde_json::json;
use usher_domain::Role;

use crate::helpers::{Client, TestApp, USER_PASSWORD};

const NEW_PASSWORD: &str = "Quiet-Lantern-Harbor-57";

/// A User Manager, signed in.
async fn user_manager(app: &TestApp) -> Client {
    app.create_user("manager", Some("manager@example.org"), USER_PASSWORD, &[Role::UserManager]).await;
    app.signed_in("manager", USER_PASSWORD).await
}

fn token_of(link: &str) -> String {
    link.rsplit('/').next().unwrap().to_owned()
}

#[tokio::test]
async fn a_user_manager_cannot_resend_or_withdraw_an_administrators_invitation() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let mut manager = user_manager(&app).await;

    // An invitation by email that makes an Administrator.
    let res = admin
        .post("/api/v1/invitations", json!({ "email": "boss@example.org", "roles": ["administrator"], "send": false }))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let boss_invitation = res.body["id"].as_str().unwrap().to_owned();
    let boss_link = res.body["link"].as_str().unwrap().to_owned();
    // An Administrator created beforehand and invited to set a password.
    let res = admin
        .post(
            "/api/v1/users",
            json!({ "user_id": "chief", "email": "chief@example.org", "first_name": "C", "last_name": "Hief",
                    "roles": ["administrator"], "invite": true }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    // A plain user's invitation, which the User Manager may handle.
    let res = admin.post("/api/v1/invitations", json!({ "email": "plain@example.org", "send": false })).await;
    let plain_invitation = res.body["id"].as_str().unwrap().to_owned();

    let list = manager.get("/api/v1/invitations").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let chief_invitation = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["email"] == "chief@example.org")
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .expect("the invitation of the administrator created beforehand");

    for id in [&boss_invitation, &chief_invitation] {
        let res = manager.post(&format!("/api/v1/invitations/{id}/resend"), json!({ "send": false })).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "resend {id}: {}", res.body);
        assert!(res.body.get("link").is_none(), "no link for the User Manager: {}", res.body);
        let res = manager.send(Method::DELETE, &format!("/api/v1/invitations/{id}"), None).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "withdraw {id}: {}", res.body);
    }
    // Nothing changed: the administrator's link still works.
    let view = Client::new(&app.base).get(&format!("/api/v1/invitations/{}", token_of(&boss_link))).await;
    assert_eq!(view.body["status"], "pending", "{}", view.body);

    // The same User Manager may resend and withdraw a plain user's invitation.
    let res = manager.post(&format!("/api/v1/invitations/{plain_invitation}/resend"), json!({ "send": false })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(res.body["link"].is_string());
    let res = manager.send(Method::DELETE, &format!("/api/v1/invitations/{plain_invitation}"), None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);

    // The web list offers them no button on the administrators' invitations.
    let mut web = manager;
    let page = web.get("/admin/invitations").await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.body.as_str().unwrap();
    assert!(!html.contains(&format!("/admin/invitations/{boss_invitation}/resend")), "no resend for boss");
    assert!(!html.contains(&format!("/admin/invitations/{chief_invitation}/withdraw")), "no withdraw for chief");
}

#[tokio::test]
async fn an_account_promoted_after_its_invitation_cannot_register_through_the_old_link() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let mut manager = user_manager(&app).await;
    // A User Manager creates a plain user and keeps the invitation link.
    let res = manager
        .post(
            "/api/v1/users",
            json!({ "user_id": "carol", "email": "carol@example.org", "first_name": "Carol", "last_name": "C",
                    "invite": true, "send_invitation": false }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let carol = res.body["id"].as_str().unwrap().to_owned();
    let link = res.body["invitation_link"].as_str().unwrap().to_owned();
    // An Administrator then makes carol an Administrator.
    let res =
        admin.put(&format!("/api/v1/users/{carol}/roles"), json!({ "roles": [{ "role": "administrator" }] })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    // The manager's link no longer registers anyone...
    let body = json!({ "user_id": "carol", "first_name": "Carol", "last_name": "C", "password": NEW_PASSWORD });
    let res = Client::new(&app.base).post(&format!("/api/v1/invitations/{}/accept", token_of(&link)), body).await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    // ...and the manager cannot get a fresh one.
    let list = manager.get("/api/v1/invitations").await;
    let id = list.body["items"].as_array().unwrap().iter().find(|i| i["email"] == "carol@example.org").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = manager.post(&format!("/api/v1/invitations/{id}/resend"), json!({ "send": false })).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
    // An Administrator's new invitation works.
    let res = admin.post(&format!("/api/v1/invitations/{id}/resend"), json!({ "send": false })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let link = res.body["link"].as_str().unwrap();
    let body = json!({ "user_id": "carol", "first_name": "Carol", "last_name": "C", "password": NEW_PASSWORD });
    let res = Client::new(&app.base).post(&format!("/api/v1/invitations/{}/accept", token_of(link)), body).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
}

#[tokio::test]
async fn a_token_made_for_someone_else_keeps_the_roles_its_owner_had() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let (pat, mut pat_client) = app.user("pat").await;
    let mut manager = user_manager(&app).await;
    let made = manager
        .post(&format!("/api/v1/users/{}/tokens", pat.id), json!({ "description": "for pat", "scopes": ["write"] }))
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let held_by_manager = made.body["token"].as_str().unwrap().to_owned();
    let own = pat_client.post("/api/v1/me/tokens", json!({ "description": "mine", "scopes": ["write"] })).await;
    let owned_by_pat = own.body["token"].as_str().unwrap().to_owned();

    let res =
        admin.put(&format!("/api/v1/users/{}/roles", pat.id), json!({ "roles": [{ "role": "administrator" }] })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);

    // The token the User Manager holds does no more than a plain User's.
    for (method, path, body) in [
        (Method::GET, "/api/v1/audit-events", None),
        (Method::GET, "/api/v1/settings/password-policy", None),
        (Method::PUT, "/api/v1/settings/mfa", Some(json!({ "required": true }))),
        (Method::GET, "/api/v1/users", None),
    ] {
        let res = app.bearer(method.clone(), path, &held_by_manager, body.clone()).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{method} {path}: {}", res.body);
        // Pat's own token has Pat's new powers.
        let res = app.bearer(method.clone(), path, &owned_by_pat, body).await;
        assert!(res.status.is_success(), "{method} {path} with pat's own token: {} {}", res.status, res.body);
    }
    // It still does what it was made for.
    let res = app.bearer(Method::GET, "/api/v1/me", &held_by_manager, None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);

    // Regenerated by its owner, the token is the owner's alone and follows their roles.
    let list = pat_client.get("/api/v1/me/tokens").await;
    let id = list.body["items"].as_array().unwrap().iter().find(|t| t["description"] == "for pat").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = pat_client.post(&format!("/api/v1/me/tokens/{id}/regenerate"), json!({})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let renewed = res.body["token"].as_str().unwrap().to_owned();
    let res = app.bearer(Method::GET, "/api/v1/audit-events", &renewed, None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let res = app.bearer(Method::GET, "/api/v1/me", &held_by_manager, None).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "the old secret is dead: {}", res.body);
}

#[tokio::test]
async fn a_token_made_for_someone_else_gains_no_app_ownership_later() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let (dev, _) = app.user("dev").await;
    let mut manager = user_manager(&app).await;
    let made = manager
        .post(&format!("/api/v1/users/{}/tokens", dev.id), json!({ "description": "for dev", "scopes": ["write"] }))
        .await;
    let held_by_manager = made.body["token"].as_str().unwrap().to_owned();
    let res = admin.post("/api/v1/apps", json!({ "name": "Wiki", "owners": [dev.id] })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let app_id = res.body["id"].as_str().unwrap().to_owned();
    let res = app
        .bearer(
            Method::PATCH,
            &format!("/api/v1/apps/{app_id}"),
            &held_by_manager,
            Some(json!({ "name": "Not the wiki" })),
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
}

#[tokio::test]
async fn user_managers_may_put_administrators_in_groups_but_not_change_them() {
    let app = TestApp::spawn().await;
    let (admin_user, _) = app.admin().await;
    let mut manager = user_manager(&app).await;
    // Group membership gives access to apps, never a role: managing groups is not
    // managing their members' accounts.
    let group = manager.post("/api/v1/groups", json!({ "name": "Everyone" })).await;
    assert_eq!(group.status, StatusCode::CREATED, "{}", group.body);
    let g = group.body["id"].as_str().unwrap().to_owned();
    let res = manager.put(&format!("/api/v1/groups/{g}/members"), json!({ "user_ids": [admin_user.id] })).await;
    assert!(res.status.is_success(), "{} {}", res.status, res.body);
    let res = manager.send(Method::DELETE, &format!("/api/v1/groups/{g}/members/{}", admin_user.id), None).await;
    assert!(res.status.is_success(), "{} {}", res.status, res.body);
    // The Administrator's account itself stays out of reach.
    let res = manager.patch(&format!("/api/v1/users/{}", admin_user.id), json!({ "first_name": "Mallory" })).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
    let res = manager
        .post(&format!("/api/v1/users/{}/tokens", admin_user.id), json!({ "description": "x", "scopes": ["read"] }))
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
}

#[tokio::test]
async fn an_invitation_link_accepts_a_few_forms_then_waits() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    app.user("taken").await;
    let res = admin.post("/api/v1/invitations", json!({ "email": "new@example.org", "send": false })).await;
    let token = token_of(res.body["link"].as_str().unwrap());
    let path = format!("/api/v1/invitations/{token}/accept");
    let probe = json!({ "user_id": "taken", "first_name": "N", "last_name": "Ew", "password": NEW_PASSWORD });
    let mut visitor = Client::new(&app.base);
    for i in 0..usher_core::invitations::ACCEPT_TRIES {
        let res = visitor.post(&path, probe.clone()).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "try {i}: {}", res.body);
    }
    let res = visitor.post(&path, probe).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS, "{}", res.body);
    assert!(res.headers.get("retry-after").is_some());
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let app = TestApp::spawn().await;
    let (_, mut c) = app.user("ada").await;
    let secret = c.post("/api/v1/me/tokens", json!({ "description": "x", "scopes": ["read"] })).await.body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let res = reqwest::Client::new()
            .get(format!("{}/api/v1/me", app.base))
            .header("Authorization", format!("{scheme} {secret}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{scheme}");
    }
    let res = reqwest::Client::new()
        .get(format!("{}/api/v1/me", app.base))
        .header("Authorization", format!("Basic {secret}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}
