//! Invitations: invite by email → the email → register through the link →
//! signed in, inviter notified; conflicts, listing, resend, withdraw, expiry,
//! "send my own invitation", the editable template, and invitations to set the
//! password of a user created beforehand.

use reqwest::StatusCode;
use serde_json::{Value, json};
use usher_core::{RequestContext, auth::Principal, invitations::INVITATION_LIFETIME};
use usher_domain::Role;

use crate::helpers::{ADMIN_PASSWORD, Client, TestApp, USER_PASSWORD};

/// A strong password that meets the default policy.
pub const NEW_PASSWORD: &str = "Quiet-Lantern-Harbor-57";

/// The administrator as the services see them (for core calls such as
/// `invite_user` that other helpers' endpoints make).
pub async fn principal(app: &TestApp, login: &str, password: &str) -> Principal {
    let outcome = match app.usher.login(&RequestContext::default(), None, login, password).await.unwrap() {
        usher_core::mfa::SignIn::Session(outcome) => outcome,
        other => panic!("{login} needs a second step: {other:?}"),
    };
    app.usher.authenticate_session(&outcome.session_secret).await.unwrap().unwrap()
}

fn token_of(link: &str) -> String {
    link.rsplit('/').next().unwrap().to_owned()
}

fn accept_body(user_id: &str) -> Value {
    json!({ "user_id": user_id, "first_name": "Bob", "last_name": "Builder", "password": NEW_PASSWORD })
}

#[tokio::test]
async fn invite_email_register_signed_in_and_inviter_told() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let res = admin.post("/api/v1/invitations", json!({ "email": "Bob@Example.org" })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.body["status"], "pending");
    assert_eq!(res.body["sent"], true);
    assert!(res.body.get("link").is_none(), "the link is only in the email: {}", res.body);
    assert_eq!(res.body["roles"], json!(["user"]));
    let expires = chrono::DateTime::parse_from_rfc3339(res.body["expires_at"].as_str().unwrap()).unwrap();
    let created = chrono::DateTime::parse_from_rfc3339(res.body["created_at"].as_str().unwrap()).unwrap();
    assert_eq!((expires - created).num_days(), 7);

    let mail = app.mail.next_to("Bob@Example.org").await;
    assert!(mail.subject.contains("invites you"), "{}", mail.subject);
    assert!(mail.text.contains("Bob@Example.org"), "{}", mail.text);
    let link = mail.link();
    assert!(link.starts_with(&format!("{}/register/", app.base)), "{link}");
    let token = token_of(&link);
    assert!(token.len() >= 43, "256-bit secret: {token}");

    let mut bob = Client::new(&app.base);
    let view = bob.get(&format!("/api/v1/invitations/{token}")).await;
    assert_eq!(view.status, StatusCode::OK, "{}", view.body);
    assert_eq!(view.body["status"], "pending");
    assert_eq!(view.body["email"], "Bob@Example.org");
    assert_eq!(view.body["user_id"], "Bob@Example.org", "user ID prefilled with the email");
    assert!(view.body["organization"].is_string());

    let res = bob.post(&format!("/api/v1/invitations/{token}/accept"), accept_body("bobby")).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.body["user_id"], "bobby");
    assert_eq!(res.body["email"], "Bob@Example.org");
    assert_eq!(res.body["status"], "active");
    assert!(bob.csrf.is_some());
    let me = bob.get("/api/v1/me").await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["user_id"], "bobby");
    assert_eq!(me.body["first_name"], "Bob");

    let told = app.mail.next_to("admin@example.org").await;
    assert!(told.subject.contains("Bob Builder") && told.subject.contains("registered"), "{}", told.subject);
    assert!(told.text.contains("bobby"), "{}", told.text);
    assert!(told.link().starts_with(&format!("{}/admin/users/", app.base)));

    // The link works once.
    let again = Client::new(&app.base).post(&format!("/api/v1/invitations/{token}/accept"), accept_body("bob2")).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert_eq!(again.body["code"], "invitation_link_closed");
    assert_eq!(Client::new(&app.base).get(&format!("/api/v1/invitations/{token}")).await.body["status"], "accepted");
    let list = admin.get("/api/v1/invitations").await;
    assert_eq!(list.body["items"][0]["status"], "accepted");
    assert_eq!(list.body["items"][0]["accepted_user"], res.body["id"]);
    // Only a digest of the secret is stored.
    use sha2::Digest;
    let digest = hex::encode(sha2::Sha256::digest(token.as_bytes()));
    assert_eq!(stored_digests(&app).await, [digest]);
}

async fn stored_digests(app: &TestApp) -> Vec<String> {
    if app.db_url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(&app.db_url).await.unwrap();
        sqlx::query_scalar("SELECT encode(digest, 'hex') FROM invitations").fetch_all(&pool).await.unwrap()
    } else {
        let pool = sqlx::SqlitePool::connect(&app.db_url).await.unwrap();
        sqlx::query_scalar("SELECT lower(hex(digest)) FROM invitations").fetch_all(&pool).await.unwrap()
    }
}

#[tokio::test]
async fn bad_or_used_addresses_are_refused() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    app.user("carol").await;
    let res = admin.post("/api/v1/invitations", json!({ "email": "not-an-email" })).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert_eq!(res.body["errors"][0]["field"], "email");
    let res = admin.post("/api/v1/invitations", json!({ "email": "CAROL@example.org" })).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert_eq!(res.error_codes(), ["taken"]);
    let res = admin.post("/api/v1/invitations", json!({ "email": "x@example.org", "roles": ["wizard"] })).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);

    assert_eq!(
        admin.post("/api/v1/invitations", json!({ "email": "dan@example.org" })).await.status,
        StatusCode::CREATED
    );
    let res = admin.post("/api/v1/invitations", json!({ "email": "DAN@example.org" })).await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    assert_eq!(res.body["code"], "invitation_pending", "{}", res.body);
    assert!(res.body["detail"].as_str().unwrap().contains("resend"), "{}", res.body);
}

#[tokio::test]
async fn two_simultaneous_invitations_of_one_address_give_one_conflict() {
    let app = TestApp::spawn().await;
    let (_, admin) = app.admin().await;
    for round in 0..3 {
        let email = format!("twin{round}@example.org");
        let send = |email: String| {
            let http = admin.http.clone();
            let base = app.base.clone();
            let csrf = admin.csrf.clone().unwrap();
            async move {
                http.post(format!("{base}/api/v1/invitations"))
                    .header("x-csrf-token", csrf)
                    .json(&json!({ "email": email, "send": false }))
                    .send()
                    .await
                    .unwrap()
                    .status()
            }
        };
        let (a, b) = tokio::join!(send(email.clone()), send(email.clone()));
        let mut got = [a, b];
        got.sort();
        assert_eq!(got, [StatusCode::CREATED, StatusCode::CONFLICT], "round {round}");
    }
}

#[tokio::test]
async fn send_my_own_invitation_answers_the_link_and_emails_nothing() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let res = admin.post("/api/v1/invitations", json!({ "email": "own@example.org", "send": false })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.body["sent"], false);
    let link = res.body["link"].as_str().unwrap().to_owned();
    assert!(link.starts_with(&format!("{}/register/", app.base)));
    // Mail goes out in order: once a later one arrives, nothing was sent before it.
    admin.post("/api/v1/invitations", json!({ "email": "later@example.org" })).await;
    app.mail.next_to("later@example.org").await;
    assert_eq!(app.mail.count_to("own@example.org"), 0);
    let mut own = Client::new(&app.base);
    let res = own.post(&format!("/api/v1/invitations/{}/accept", token_of(&link)), accept_body("own")).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
}

#[tokio::test]
async fn registration_reports_every_bad_field_at_once() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    app.user("taken").await;
    let link =
        admin.post("/api/v1/invitations", json!({ "email": "eve@example.org", "send": false })).await.body["link"]
            .as_str()
            .unwrap()
            .to_owned();
    let token = token_of(&link);
    let mut eve = Client::new(&app.base);
    let res = eve
        .post(
            &format!("/api/v1/invitations/{token}/accept"),
            json!({ "user_id": "", "first_name": " ", "last_name": "", "password": "short", "phone": "12" }),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    let fields: Vec<&str> =
        res.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    for f in ["user_id", "first_name", "last_name", "password", "phone"] {
        assert!(fields.contains(&f), "{f} missing in {fields:?}");
    }
    // A user ID already taken.
    let res = eve.post(&format!("/api/v1/invitations/{token}/accept"), accept_body("TAKEN")).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert_eq!(res.error_codes(), ["taken"]);
    // The link still works after failed attempts; a phone is stored as E.164.
    let mut body = accept_body("eve");
    body["phone"] = json!("+33 6 12 34 56 78");
    let res = eve.post(&format!("/api/v1/invitations/{token}/accept"), body).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.body["phone"], "+33612345678");
}

#[tokio::test]
async fn list_resend_and_withdraw() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    for i in 0..3 {
        let res =
            admin.post("/api/v1/invitations", json!({ "email": format!("p{i}@example.org"), "send": false })).await;
        assert_eq!(res.status, StatusCode::CREATED);
    }
    let first = admin.get("/api/v1/invitations?limit=2").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(first.body["items"][0]["email"], "p2@example.org", "newest first");
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = admin.get(&format!("/api/v1/invitations?limit=2&cursor={cursor}")).await;
    assert_eq!(second.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(second.body["items"][0]["email"], "p0@example.org");
    assert!(second.body["next_cursor"].is_null());

    // Resend: a new link by email; the old link stops working.
    let id = second.body["items"][0]["id"].as_str().unwrap().to_owned();
    let res = admin.post(&format!("/api/v1/invitations/{id}/resend"), Value::Null).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let mail = app.mail.next_to("p0@example.org").await;
    let res = admin.post(&format!("/api/v1/invitations/{id}/resend"), json!({ "send": false })).await;
    let newest = res.body["link"].as_str().unwrap().to_owned();
    let old = Client::new(&app.base).get(&format!("/api/v1/invitations/{}", token_of(&mail.link()))).await;
    assert_eq!(old.status, StatusCode::NOT_FOUND);
    assert_eq!(
        Client::new(&app.base).get(&format!("/api/v1/invitations/{}", token_of(&newest))).await.status,
        StatusCode::OK
    );

    // Withdraw: the link stops working; withdrawing again is a conflict.
    let res = admin.send(reqwest::Method::DELETE, &format!("/api/v1/invitations/{id}"), None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["status"], "withdrawn");
    let view = Client::new(&app.base).get(&format!("/api/v1/invitations/{}", token_of(&newest))).await;
    assert_eq!(view.body["status"], "withdrawn");
    assert_eq!(view.body["email"], "");
    let res = Client::new(&app.base)
        .post(&format!("/api/v1/invitations/{}/accept", token_of(&newest)), accept_body("p0"))
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    let res = admin.send(reqwest::Method::DELETE, &format!("/api/v1/invitations/{id}"), None).await;
    assert_eq!((res.status, res.body["code"].as_str()), (StatusCode::CONFLICT, Some("invitation_closed")));
    assert_eq!(admin.post(&format!("/api/v1/invitations/{id}/resend"), Value::Null).await.status, StatusCode::CONFLICT);
    // The address can be invited anew.
    assert_eq!(
        admin.post("/api/v1/invitations", json!({ "email": "p0@example.org", "send": false })).await.status,
        StatusCode::CREATED
    );
    let res = admin.send(reqwest::Method::DELETE, &format!("/api/v1/invitations/{}", uuid::Uuid::now_v7()), None).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = admin.send(reqwest::Method::DELETE, "/api/v1/invitations/not-a-uuid", None).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);

    let audit = admin.get("/api/v1/audit-events?action=invitation.withdrawn").await;
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 1, "{}", audit.body);
}

#[tokio::test]
async fn expired_invitations_cannot_be_used_but_can_be_renewed() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let res = admin.post("/api/v1/invitations", json!({ "email": "late@example.org", "send": false })).await;
    let token = token_of(res.body["link"].as_str().unwrap());
    let id = res.body["id"].as_str().unwrap().to_owned();
    app.clock.advance(INVITATION_LIFETIME - chrono::Duration::minutes(1));
    let view = Client::new(&app.base).get(&format!("/api/v1/invitations/{token}")).await;
    assert_eq!(view.body["status"], "pending", "valid for 7 days");
    app.clock.advance(chrono::Duration::minutes(2));
    let view = Client::new(&app.base).get(&format!("/api/v1/invitations/{token}")).await;
    assert_eq!(view.body["status"], "expired");
    let mut admin = app.signed_in("admin", ADMIN_PASSWORD).await;
    let res = Client::new(&app.base).post(&format!("/api/v1/invitations/{token}/accept"), accept_body("late")).await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    assert_eq!(admin.get("/api/v1/invitations").await.body["items"][0]["status"], "expired");
    // Resending an expired invitation renews it.
    let res = admin.post(&format!("/api/v1/invitations/{id}/resend"), json!({ "send": false })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["status"], "pending");
    let fresh = token_of(res.body["link"].as_str().unwrap());
    let res = Client::new(&app.base).post(&format!("/api/v1/invitations/{fresh}/accept"), accept_body("late")).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
}

#[tokio::test]
async fn an_expired_invitation_does_not_block_a_new_one() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    admin.post("/api/v1/invitations", json!({ "email": "again@example.org", "send": false })).await;
    app.clock.advance(INVITATION_LIFETIME + chrono::Duration::minutes(1));
    let mut admin = app.signed_in("admin", ADMIN_PASSWORD).await;
    let res = admin.post("/api/v1/invitations", json!({ "email": "again@example.org", "send": false })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
}

#[tokio::test]
async fn who_may_invite() {
    let app = TestApp::spawn().await;
    app.admin().await;
    let (_, mut plain) = app.user("plain").await;
    let res = plain.post("/api/v1/invitations", json!({ "email": "x@example.org" })).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(plain.get("/api/v1/invitations").await.status, StatusCode::FORBIDDEN);
    assert_eq!(Client::new(&app.base).get("/api/v1/invitations").await.status, StatusCode::UNAUTHORIZED);

    app.create_user("um", Some("um@example.org"), USER_PASSWORD, &[Role::UserManager]).await;
    let mut um = app.signed_in("um", USER_PASSWORD).await;
    let res = um.post("/api/v1/invitations", json!({ "email": "y@example.org", "roles": ["developer"] })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.body["roles"], json!(["developer"]));
    let res = um.post("/api/v1/invitations", json!({ "email": "z@example.org", "roles": ["administrator"] })).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);

    // The registered user gets the invitation's roles.
    let mail = app.mail.next_to("y@example.org").await;
    let res = Client::new(&app.base)
        .post(&format!("/api/v1/invitations/{}/accept", token_of(&mail.link())), accept_body("yves"))
        .await;
    assert_eq!(res.body["roles"], json!(["developer"]));
    // Unknown tokens: 404.
    assert_eq!(Client::new(&app.base).get("/api/v1/invitations/nope").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_invitation_template_is_editable_with_a_preview() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let res = admin.get("/api/v1/settings/invitation-template").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["custom"], false);
    assert!(res.body["body"].as_str().unwrap().contains("{{link}}"));

    let res = admin
        .put("/api/v1/settings/invitation-template", json!({ "subject": "Join us", "body": "No link here" }))
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert_eq!(res.error_codes(), ["missing_link"]);

    let template = json!({
        "subject": "{{inviter}} wants you at {{organization}}",
        "body": "Hi {{email}}!\nRegister: {{link}}\nBefore {{expires_at}}.\n",
    });
    let res = admin.post("/api/v1/settings/invitation-template/preview", template.clone()).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(res.body["subject"].as_str().unwrap().starts_with("Test admin wants you at "), "{}", res.body);
    assert!(res.body["text"].as_str().unwrap().contains(&format!("Register: {}/register/", app.base)), "{}", res.body);

    let res = admin.put("/api/v1/settings/invitation-template", template).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["custom"], true);
    admin.post("/api/v1/invitations", json!({ "email": "tpl@example.org" })).await;
    let mail = app.mail.next_to("tpl@example.org").await;
    assert!(mail.subject.starts_with("Test admin wants you at "), "{}", mail.subject);
    assert!(mail.text.starts_with("Hi tpl@example.org!\nRegister: "), "{}", mail.text);
    assert!(mail.link().contains("/register/"));

    // User Managers read it but do not change it.
    app.create_user("um", Some("um@example.org"), USER_PASSWORD, &[Role::UserManager]).await;
    let mut um = app.signed_in("um", USER_PASSWORD).await;
    assert_eq!(um.get("/api/v1/settings/invitation-template").await.status, StatusCode::OK);
    let res = um.put("/api/v1/settings/invitation-template", json!({ "subject": "x", "body": "{{link}}" })).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_user_created_beforehand_is_invited_to_set_a_password() {
    let app = TestApp::spawn().await;
    app.admin().await;
    let admin = principal(&app, "admin", ADMIN_PASSWORD).await;
    let org = app.usher.organization(None).await.unwrap().unwrap().id;
    let account = usher_core::accounts::NewAccount {
        user_id: usher_domain::LoginName::parse("f.smith").unwrap(),
        email: Some(usher_domain::Email::parse("fay@example.org").unwrap()),
        first_name: None,
        last_name: None,
        roles: vec![Role::Developer],
        password: None,
    };
    let user = app.usher.create_user(&RequestContext::default(), None, org, account).await.unwrap();
    assert_eq!(user.status.as_str(), "invited");
    let done = app.usher.invite_user(&RequestContext::default(), &admin, &user, true).await.unwrap();
    assert!(done.sent);
    let mail = app.mail.next_to("fay@example.org").await;
    let token = token_of(&mail.link());
    let mut fay = Client::new(&app.base);
    let view = fay.get(&format!("/api/v1/invitations/{token}")).await;
    assert_eq!(view.body["existing_user"], true);
    assert_eq!(view.body["user_id"], "f.smith");
    // The user ID sent is ignored: the account exists.
    let res = fay.post(&format!("/api/v1/invitations/{token}/accept"), accept_body("other")).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.body["id"], user.id.to_string());
    assert_eq!(res.body["user_id"], "f.smith");
    assert_eq!(res.body["status"], "active");
    assert_eq!(res.body["roles"], json!(["developer"]));
    assert_eq!(app.signed_in("f.smith", NEW_PASSWORD).await.get("/api/v1/me").await.body["first_name"], "Bob");
    // Inviting an active user again is refused.
    let active = principal(&app, "f.smith", NEW_PASSWORD).await.user;
    let again = app.usher.invite_user(&RequestContext::default(), &admin, &active, false).await;
    assert!(again.is_err());
}
