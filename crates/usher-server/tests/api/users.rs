//! Administration of individual users through the REST API, on both engines:
//! create (with invitations and under concurrency), details, edit, failed
//! sign-ins, sessions, password reset (temporary and link, and the forced
//! change that follows), disable/enable, delete.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use usher_core::{RequestContext, accounts::NewAccount, auth::Principal, store::OrganizationStore};
use usher_domain::{LoginName, OrgId, Role, ShortText, UserId};

use crate::helpers::{Client, Res, TestApp, USER_PASSWORD};

const NEW_PASSWORD: &str = "Quiet-Copper-Meadow-58";

/// A personal API token of the signed-in client's user.
async fn token_of(c: &mut Client, scopes: &[&str]) -> String {
    let res = c.post("/api/v1/me/tokens", json!({ "description": "script", "scopes": scopes })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    res.body["token"].as_str().unwrap().to_owned()
}

fn id_of(res: &Res) -> String {
    res.body["id"].as_str().unwrap_or_else(|| panic!("no id in {}", res.body)).to_owned()
}

async fn delete(c: &mut Client, path: &str) -> Res {
    c.send(Method::DELETE, path, None).await
}

/// Audit events with this action about this user, newest first.
async fn audit(admin: &mut Client, action: &str, target: &str) -> Vec<Value> {
    let res = admin.get(&format!("/api/v1/audit-events?action={action}&target_id={target}")).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    res.body["items"].as_array().cloned().unwrap_or_default()
}

/// Rows of a table that belong to a user, read straight from the database.
async fn rows_of(app: &TestApp, table: &str, user: UserId) -> i64 {
    let sql = format!("SELECT count(*) FROM {table} WHERE user_id = $1");
    if app.db_url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(&app.db_url).await.unwrap();
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(user).fetch_one(&pool).await.unwrap()
    } else {
        let pool = sqlx::SqlitePool::connect(&app.db_url).await.unwrap();
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.replace("$1", "?"))).bind(user).fetch_one(&pool).await.unwrap()
    }
}

/// A user in a second organization, created straight in the store.
async fn stranger(app: &TestApp) -> UserId {
    let org = usher_core::store::Organization {
        id: OrgId::generate(),
        slug: "other".into(),
        name: "Other".into(),
        created_at: chrono::Utc::now(),
    };
    if app.db_url.starts_with("postgres") {
        usher_store::postgres::PostgresStore::connect(&app.db_url)
            .await
            .unwrap()
            .insert_organization(&org)
            .await
            .unwrap();
    } else {
        usher_store::sqlite::SqliteStore::connect(&app.db_url).await.unwrap().insert_organization(&org).await.unwrap();
    }
    let account = NewAccount {
        user_id: LoginName::parse("zed").unwrap(),
        email: None,
        first_name: ShortText::parse("first_name", "Zed").unwrap(),
        last_name: None,
        roles: vec![Role::User],
        password: Some(USER_PASSWORD.into()),
    };
    app.usher.create_user(&RequestContext::default(), None, org.id, account).await.unwrap().id
}

async fn login_status(app: &TestApp, login: &str, password: &str) -> StatusCode {
    app.client().post("/api/v1/auth/login", json!({ "login": login, "password": password })).await.status
}

#[tokio::test]
async fn an_administrator_creates_a_user_without_a_password() {
    let app = TestApp::spawn().await;
    let (admin_user, mut admin) = app.admin().await;
    let body = json!({
        "user_id": "Ada.L", "first_name": "Ada", "last_name": "Lovelace",
        "phone": "+33 6 12 34 56 78", "roles": ["developer"],
    });
    let res = admin.post("/api/v1/users", body).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.body["user_id"], "Ada.L");
    assert_eq!(res.body["status"], "invited");
    assert_eq!(res.body["roles"], json!(["developer"]));
    assert_eq!(res.body["phone"], "+33612345678");
    assert_eq!(res.body["email"], Value::Null);
    assert!(res.body.get("invitation_link").is_none());
    let ada = id_of(&res);

    // No password: nobody can sign in as Ada yet.
    assert_eq!(login_status(&app, "ada.l", "").await, StatusCode::UNAUTHORIZED);
    let got = admin.get(&format!("/api/v1/users/{ada}")).await;
    assert_eq!((got.status, got.body["last_name"].clone()), (StatusCode::OK, json!("Lovelace")));
    let events = audit(&mut admin, "user.created", &ada).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["actor_id"], admin_user.id.to_string());

    // The user ID is unique whatever its case; the email too. Both are 409 problems naming the field.
    let res = admin.post("/api/v1/users", json!({ "user_id": "ADA.l", "first_name": "A", "last_name": "B" })).await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    assert_eq!(res.content_type(), "application/problem+json");
    assert_eq!(res.body["type"], "urn:usher:problem:conflict");
    assert_eq!(
        (res.body["errors"][0]["field"].clone(), res.error_codes()),
        (json!("user_id"), vec!["taken".to_owned()])
    );
    let res = admin
        .post(
            "/api/v1/users",
            json!({ "user_id": "ann", "email": "ADMIN@example.org", "first_name": "A", "last_name": "B" }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    assert_eq!(res.body["errors"][0]["field"], "email");

    // Every bad field at once.
    let bad = json!({
        "user_id": "two words", "email": "nope", "first_name": "", "last_name": " ",
        "phone": "12", "roles": ["king"],
    });
    let res = admin.post("/api/v1/users", bad).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert_eq!(res.error_codes(), ["invalid", "invalid", "required", "required", "invalid", "unknown_role"]);
    let res = admin
        .post(
            "/api/v1/users",
            json!({ "user_id": "root2", "first_name": "R", "last_name": "T", "roles": ["administrator"] }),
        )
        .await;
    assert_eq!(
        (res.status, res.body["errors"][0]["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("email"))
    );
    let res =
        admin.post("/api/v1/users", json!({ "user_id": "x", "first_name": "R", "last_name": "T", "bogus": 1 })).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "unknown fields are refused");

    // Default role: user. An email is not required for a user.
    let res = admin.post("/api/v1/users", json!({ "user_id": "bo", "first_name": "Bo", "last_name": "B" })).await;
    assert_eq!((res.status, res.body["roles"].clone()), (StatusCode::CREATED, json!(["user"])));
}

#[tokio::test]
async fn user_managers_create_users_but_not_administrators() {
    let app = TestApp::spawn().await;
    app.create_user("manny", Some("manny@example.org"), USER_PASSWORD, &[Role::UserManager]).await;
    let mut manny = app.signed_in("manny", USER_PASSWORD).await;
    let admin = json!({ "user_id": "root", "email": "root@example.org", "first_name": "R", "last_name": "T",
        "roles": ["administrator"] });
    let res = manny.post("/api/v1/users", admin).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
    let res = manny
        .post(
            "/api/v1/users",
            json!({ "user_id": "dev", "first_name": "D", "last_name": "V", "roles": ["developer", "user_manager"] }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);

    // A plain user cannot, nor a read-only token of a manager.
    let (_, mut eve) = app.user("eve").await;
    let res = eve.post("/api/v1/users", json!({ "user_id": "x", "first_name": "X", "last_name": "Y" })).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let read = token_of(&mut manny, &["read"]).await;
    let res = app
        .bearer(
            Method::POST,
            "/api/v1/users",
            &read,
            Some(json!({ "user_id": "y", "first_name": "X", "last_name": "Y" })),
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let write = token_of(&mut manny, &["users:write"]).await;
    let res = app
        .bearer(
            Method::POST,
            "/api/v1/users",
            &write,
            Some(json!({ "user_id": "y", "first_name": "X", "last_name": "Y" })),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
}

#[tokio::test]
async fn simultaneous_creations_of_one_user_id_or_email_give_one_success_and_one_conflict() {
    let app = TestApp::spawn().await;
    let (_, _) = app.admin().await;
    let mut a = app.signed_in("admin", crate::helpers::ADMIN_PASSWORD).await;
    let mut b = app.signed_in("admin", crate::helpers::ADMIN_PASSWORD).await;
    for round in 0..5 {
        // Same user ID (different case), different emails.
        let one = json!({ "user_id": format!("twin{round}"), "email": format!("a{round}@example.org"), "first_name": "A", "last_name": "A" });
        let two = json!({ "user_id": format!("TWIN{round}"), "email": format!("b{round}@example.org"), "first_name": "B", "last_name": "B" });
        let (r1, r2) = tokio::join!(a.post("/api/v1/users", one), b.post("/api/v1/users", two));
        let mut statuses = [r1.status, r2.status];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT], "{} / {}", r1.body, r2.body);
        let conflict = if r1.status == StatusCode::CONFLICT { &r1 } else { &r2 };
        assert_eq!(conflict.body["errors"][0]["field"], "user_id");

        // Same email (different case), different user IDs.
        let one = json!({ "user_id": format!("left{round}"), "email": format!("same{round}@example.org"), "first_name": "A", "last_name": "A" });
        let two = json!({ "user_id": format!("right{round}"), "email": format!("SAME{round}@example.org"), "first_name": "B", "last_name": "B" });
        let (r1, r2) = tokio::join!(a.post("/api/v1/users", one), b.post("/api/v1/users", two));
        let mut statuses = [r1.status, r2.status];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT], "{} / {}", r1.body, r2.body);
        let conflict = if r1.status == StatusCode::CONFLICT { &r1 } else { &r2 };
        assert_eq!(conflict.body["errors"][0]["field"], "email");
    }
    // Exactly the winners exist.
    let list = a.get("/api/v1/users?limit=200").await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1 + 5 * 2);
}

#[tokio::test]
async fn creating_with_an_invitation_emails_it_or_answers_the_link() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let res = admin
        .post(
            "/api/v1/users",
            json!({ "user_id": "grace", "email": "grace@example.org", "first_name": "Grace", "last_name": "Hopper", "invite": true }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert!(res.body.get("invitation_link").is_none());
    let mail = app.mail.next_to("grace@example.org").await;
    assert!(mail.link_path().starts_with("/register/"), "{}", mail.text);

    let res = admin
        .post(
            "/api/v1/users",
            json!({ "user_id": "alan", "email": "alan@example.org", "first_name": "Alan", "last_name": "Turing",
                "invite": true, "send_invitation": false }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let link = res.body["invitation_link"].as_str().unwrap();
    assert!(link.starts_with(&format!("{}/register/", app.usher.config().base_url)), "{link}");
    assert_eq!(app.mail.count_to("alan@example.org"), 0);

    // An invitation needs an address; nothing is created without one.
    let res = admin
        .post("/api/v1/users", json!({ "user_id": "nomail", "first_name": "N", "last_name": "M", "invite": true }))
        .await;
    assert_eq!(
        (res.status, res.body["errors"][0]["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("email"))
    );
    let list = admin.get("/api/v1/users").await;
    assert!(!list.body.to_string().contains("nomail"));
}

#[tokio::test]
async fn unknown_and_other_organizations_users_are_not_found() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let zed = stranger(&app).await;
    for id in [zed, UserId::generate()] {
        let path = format!("/api/v1/users/{id}");
        assert_eq!(admin.get(&path).await.status, StatusCode::NOT_FOUND);
        assert_eq!(admin.patch(&path, json!({ "first_name": "X" })).await.status, StatusCode::NOT_FOUND);
        assert_eq!(admin.post(&format!("{path}/disable"), json!({})).await.status, StatusCode::NOT_FOUND);
        assert_eq!(
            admin.post(&format!("{path}/password-reset"), json!({ "mode": "temporary" })).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(admin.get(&format!("{path}/failed-logins")).await.status, StatusCode::NOT_FOUND);
        assert_eq!(admin.get(&format!("{path}/sessions")).await.status, StatusCode::NOT_FOUND);
        assert_eq!(delete(&mut admin, &path).await.status, StatusCode::NOT_FOUND);
    }
    let res = admin.get("/api/v1/users/not-a-uuid").await;
    assert_eq!((res.status, res.content_type()), (StatusCode::NOT_FOUND, "application/problem+json"));
    assert_eq!(login_status(&app, "zed", USER_PASSWORD).await, StatusCode::UNAUTHORIZED, "another organization");
}

#[tokio::test]
async fn administrators_edit_profiles_but_never_the_email() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let (bob, _) = app.user("bob").await;
    let path = format!("/api/v1/users/{}", bob.id);
    admin.patch(&path, json!({ "company": "ACME", "phone": "+44 20 7946 0958" })).await;
    let res = admin.patch(&path, json!({ "first_name": "Robert", "phone": null, "timezone": "Europe/London" })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["first_name"], "Robert");
    assert_eq!(res.body["phone"], Value::Null);
    assert_eq!(res.body["company"], "ACME", "absent fields stay");
    assert_eq!(res.body["timezone"], "Europe/London");
    assert_eq!(res.body["email"], "bob@example.org");

    let res = admin.patch(&path, json!({ "phone": "12", "language": "de", "timezone": "Nowhere/City" })).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<_> = res.body["errors"].as_array().unwrap().iter().map(|e| e["field"].clone()).collect();
    assert_eq!(fields, [json!("phone"), json!("language"), json!("timezone")]);
    let res = admin.patch(&path, json!({ "email": "new@example.org" })).await;
    assert_eq!((res.status, res.error_codes()), (StatusCode::UNPROCESSABLE_ENTITY, vec!["immutable".to_owned()]));
    assert_eq!(admin.get(&path).await.body["first_name"], "Robert", "nothing changed by refused patches");

    let events = audit(&mut admin, "user.updated", &bob.id.to_string()).await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["details"]["fields"], json!(["first_name", "phone", "timezone"]));

    // A User Manager edits users, reads Administrators but cannot change them.
    app.create_user("manny", Some("manny@example.org"), USER_PASSWORD, &[Role::UserManager]).await;
    let mut manny = app.signed_in("manny", USER_PASSWORD).await;
    assert_eq!(manny.patch(&path, json!({ "company": "Initech" })).await.status, StatusCode::OK);
    let admin_id = admin.get("/api/v1/me").await.body["id"].as_str().unwrap().to_owned();
    let admin_path = format!("/api/v1/users/{admin_id}");
    assert_eq!(manny.get(&admin_path).await.status, StatusCode::OK);
    assert_eq!(manny.patch(&admin_path, json!({ "company": "X" })).await.status, StatusCode::FORBIDDEN);
    let (_, mut eve) = app.user("eve").await;
    assert_eq!(eve.get(&path).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_last_five_failed_sign_ins_are_shown_newest_first() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let (bob, _) = app.user("bob").await;
    let path = format!("/api/v1/users/{}/failed-logins", bob.id);
    assert_eq!(admin.get(&path).await.body["items"], json!([]));
    let attempt = |n: u32, login: &'static str, password: &'static str| {
        let url = format!("{}/api/v1/auth/login", app.base);
        async move {
            let client = reqwest::Client::builder().user_agent(format!("attempt-{n}")).build().unwrap();
            client.post(url).json(&json!({ "login": login, "password": password })).send().await.unwrap().status()
        }
    };
    for n in 1..=4 {
        let login = if n % 2 == 0 { "BOB" } else { "bob@example.org" };
        assert_eq!(attempt(n, login, "wrong").await, StatusCode::UNAUTHORIZED);
    }
    // A disabled user's right password is a failure too, with its reason; the
    // fifth failure locks the account, and the locked attempt is recorded as well.
    admin.post(&format!("/api/v1/users/{}/disable", bob.id), json!({})).await;
    assert_eq!(attempt(5, "bob", USER_PASSWORD).await, StatusCode::UNAUTHORIZED);
    assert_eq!(attempt(6, "bob", USER_PASSWORD).await, StatusCode::TOO_MANY_REQUESTS);

    let res = admin.get(&path).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let items = res.body["items"].as_array().unwrap();
    let seen: Vec<_> = items.iter().map(|i| (i["client"].as_str().unwrap(), i["reason"].as_str().unwrap())).collect();
    assert_eq!(
        seen,
        [
            ("attempt-6", "locked"),
            ("attempt-5", "account_disabled"),
            ("attempt-4", "bad_password"),
            ("attempt-3", "bad_password"),
            ("attempt-2", "bad_password"),
        ]
    );
    assert!(items.iter().all(|i| i["address"] == "127.0.0.1" && i["at"].is_string()));
}

#[tokio::test]
async fn administrators_list_and_end_a_users_sessions() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let (bob, mut laptop) = app.user("bob").await;
    let mut phone = app.signed_in("bob", USER_PASSWORD).await;
    let path = format!("/api/v1/users/{}/sessions", bob.id);
    let res = admin.get(&path).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let items = res.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(
        items.iter().all(|s| s["client"] == "usher-tests"
            && s["user_agent"] == "usher-tests/1.0"
            && s["address"] == "127.0.0.1"),
        "{}",
        res.body
    );
    assert!(
        items.iter().all(|s| s["id"].is_string() && s["created_at"].is_string() && s["last_active_at"].is_string())
    );
    assert!(items[0].get("secret_digest").is_none());

    let res = delete(&mut admin, &path).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.body);
    assert_eq!(laptop.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(phone.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(admin.get(&path).await.body["items"], json!([]));
    let events = audit(&mut admin, "user.sessions_ended", &bob.id.to_string()).await;
    assert_eq!(events[0]["details"]["sessions_ended"], 2);
    assert_eq!(admin.get("/api/v1/me").await.status, StatusCode::OK, "the administrator's own session stays");
}

#[tokio::test]
async fn a_temporary_password_must_be_changed_before_anything_else() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let (bob, mut old_session) = app.user("bob").await;
    let token = token_of(&mut old_session, &["read"]).await;

    let res = admin.post(&format!("/api/v1/users/{}/password-reset", bob.id), json!({ "mode": "temporary" })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let temporary = res.body["temporary_password"].as_str().unwrap().to_owned();
    assert!(temporary.len() >= 16, "{temporary}");
    let policy = app.usher.password_policy(bob.org_id).await.unwrap();
    let owner =
        usher_core::passwords::PasswordOwner { user_id: "bob", email: Some("bob@example.org"), names: [None, None] };
    assert!(usher_core::passwords::check_policy(&policy, &temporary, &owner, "p").is_empty());

    // The old password and the old sessions are gone; the API token is untouched.
    assert_eq!(old_session.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(login_status(&app, "bob", USER_PASSWORD).await, StatusCode::UNAUTHORIZED);
    assert_eq!(app.bearer(Method::GET, "/api/v1/me/tokens", &token, None).await.status, StatusCode::OK);

    // Signed in with it, Bob may read who he is, change the password, sign out: nothing else.
    let mut c = app.client();
    let res = c.post("/api/v1/auth/login", json!({ "login": "bob", "password": temporary })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["must_change_password"], true);
    let me = c.get("/api/v1/me").await;
    assert_eq!((me.status, me.body["must_change_password"].clone()), (StatusCode::OK, json!(true)));
    for (method, path, body) in [
        (Method::GET, "/api/v1/me/tokens", None),
        (Method::POST, "/api/v1/me/tokens", Some(json!({ "description": "x", "scopes": ["read"] }))),
        (Method::PATCH, "/api/v1/me", Some(json!({ "first_name": "B" }))),
        (Method::GET, "/api/v1/users", None),
    ] {
        let res = c.send(method.clone(), path, body).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{method} {path}: {}", res.body);
        assert_eq!(res.body["type"], "urn:usher:problem:password-change-required");
        assert!(res.body["detail"].as_str().unwrap().contains("PUT /api/v1/me/password"));
    }
    let res = c.put("/api/v1/me/password", json!({ "current_password": "wrong", "new_password": NEW_PASSWORD })).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let res =
        c.put("/api/v1/me/password", json!({ "current_password": temporary, "new_password": NEW_PASSWORD })).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.body);
    assert_eq!(c.get("/api/v1/me").await.body["must_change_password"], false);
    assert_eq!(c.get("/api/v1/me/tokens").await.status, StatusCode::OK);
    assert_eq!(login_status(&app, "bob", NEW_PASSWORD).await, StatusCode::OK);

    let events = audit(&mut admin, "user.password_reset", &bob.id.to_string()).await;
    assert_eq!(events[0]["details"]["mode"], "temporary");
    assert_eq!(events[0]["details"]["sessions_ended"], 1);
    assert!(!events[0].to_string().contains(&temporary), "the password is never logged");
    assert_eq!(audit(&mut admin, "user.password.changed", &bob.id.to_string()).await.len(), 1);

    // Signing out is allowed while the change is pending.
    let res = admin.post(&format!("/api/v1/users/{}/password-reset", bob.id), json!({ "mode": "temporary" })).await;
    let temporary = res.body["temporary_password"].as_str().unwrap().to_owned();
    let mut c = app.signed_in("bob", &temporary).await;
    c.get("/api/v1/me").await;
    assert_eq!(c.post("/api/v1/auth/logout", json!({})).await.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_temporary_password_lets_an_invited_user_in_and_resets_have_limits() {
    let app = TestApp::spawn().await;
    let (admin_user, mut admin) = app.admin().await;
    let created =
        admin.post("/api/v1/users", json!({ "user_id": "newbie", "first_name": "N", "last_name": "B" })).await;
    let newbie = id_of(&created);
    let res = admin.post(&format!("/api/v1/users/{newbie}/password-reset"), json!({ "mode": "temporary" })).await;
    let temporary = res.body["temporary_password"].as_str().unwrap().to_owned();
    assert_eq!(admin.get(&format!("/api/v1/users/{newbie}")).await.body["status"], "active");
    assert_eq!(login_status(&app, "newbie", &temporary).await, StatusCode::OK);

    // Not your own password, not with a mode nobody knows, not an Administrator's as a User Manager.
    let own = format!("/api/v1/users/{}/password-reset", admin_user.id);
    assert_eq!(admin.post(&own, json!({ "mode": "temporary" })).await.status, StatusCode::FORBIDDEN);
    let res = admin.post(&format!("/api/v1/users/{newbie}/password-reset"), json!({ "mode": "magic" })).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    app.create_user("manny", Some("manny@example.org"), USER_PASSWORD, &[Role::UserManager]).await;
    let mut manny = app.signed_in("manny", USER_PASSWORD).await;
    assert_eq!(manny.post(&own, json!({ "mode": "temporary" })).await.status, StatusCode::FORBIDDEN);
    let res = manny.post(&format!("/api/v1/users/{newbie}/password-reset"), json!({ "mode": "temporary" })).await;
    assert_eq!(res.status, StatusCode::OK);
}

#[tokio::test]
async fn a_reset_link_is_emailed_and_the_old_password_keeps_working() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let (bob, _) = app.user("bob").await;
    let res = admin.post(&format!("/api/v1/users/{}/password-reset", bob.id), json!({ "mode": "link" })).await;
    assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.body);
    let mail = app.mail.next_to("bob@example.org").await;
    assert!(mail.link_path().starts_with("/reset-password/"), "{}", mail.text);
    assert_eq!(login_status(&app, "bob", USER_PASSWORD).await, StatusCode::OK);
    let events = audit(&mut admin, "user.password_reset", &bob.id.to_string()).await;
    assert_eq!(events[0]["details"]["mode"], "link");

    let created =
        admin.post("/api/v1/users", json!({ "user_id": "nomail", "first_name": "N", "last_name": "M" })).await;
    let res = admin.post(&format!("/api/v1/users/{}/password-reset", id_of(&created)), json!({ "mode": "link" })).await;
    assert_eq!((res.status, res.error_codes()), (StatusCode::UNPROCESSABLE_ENTITY, vec!["no_email".to_owned()]));
}

#[tokio::test]
async fn disabling_stops_sessions_and_tokens_at_once_and_enabling_restores_access() {
    let app = TestApp::spawn().await;
    let (admin_user, mut admin) = app.admin().await;
    let (bob, mut session) = app.user("bob").await;
    let token = token_of(&mut session, &["read"]).await;
    let res = admin.post(&format!("/api/v1/users/{}/disable", bob.id), json!({})).await;
    assert_eq!((res.status, res.body["status"].clone()), (StatusCode::OK, json!("disabled")), "{}", res.body);
    assert_eq!(session.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.bearer(Method::GET, "/api/v1/me", &token, None).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(login_status(&app, "bob", USER_PASSWORD).await, StatusCode::UNAUTHORIZED);
    assert_eq!(rows_of(&app, "sessions", bob.id).await, 0, "sessions are deleted, not only refused");
    let again = admin.post(&format!("/api/v1/users/{}/disable", bob.id), json!({})).await;
    assert_eq!(again.status, StatusCode::OK, "disabling twice is harmless");

    let res = admin.post(&format!("/api/v1/users/{}/enable", bob.id), json!({})).await;
    assert_eq!((res.status, res.body["status"].clone()), (StatusCode::OK, json!("active")));
    assert_eq!(login_status(&app, "bob", USER_PASSWORD).await, StatusCode::OK);
    assert_eq!(app.bearer(Method::GET, "/api/v1/me", &token, None).await.status, StatusCode::OK);
    let id = bob.id.to_string();
    assert_eq!(audit(&mut admin, "user.disabled", &id).await.len(), 1);
    assert_eq!(audit(&mut admin, "user.enabled", &id).await.len(), 1);

    // A user who never set a password goes back to "invited".
    let created =
        admin.post("/api/v1/users", json!({ "user_id": "newbie", "first_name": "N", "last_name": "B" })).await;
    let newbie = id_of(&created);
    admin.post(&format!("/api/v1/users/{newbie}/disable"), json!({})).await;
    let res = admin.post(&format!("/api/v1/users/{newbie}/enable"), json!({})).await;
    assert_eq!(res.body["status"], "invited");

    // Not yourself; a User Manager not an Administrator.
    let own = format!("/api/v1/users/{}/disable", admin_user.id);
    assert_eq!(admin.post(&own, json!({})).await.status, StatusCode::FORBIDDEN);
    app.create_user("manny", Some("manny@example.org"), USER_PASSWORD, &[Role::UserManager]).await;
    let mut manny = app.signed_in("manny", USER_PASSWORD).await;
    assert_eq!(manny.post(&own, json!({})).await.status, StatusCode::FORBIDDEN);
    assert_eq!(manny.post(&format!("/api/v1/users/{}/disable", bob.id), json!({})).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_last_active_administrator_is_never_disabled_or_deleted() {
    let app = TestApp::spawn().await;
    let (ann, _) = app.admin().await;
    let bea = app.create_user("bea", Some("bea@example.org"), USER_PASSWORD, &[Role::Administrator]).await;
    let mut ann_c = app.signed_in("admin", crate::helpers::ADMIN_PASSWORD).await;
    let mut bea_c = app.signed_in("bea", USER_PASSWORD).await;

    // Ann and Bea disable each other at the same instant: exactly one wins.
    let ann_path = format!("/api/v1/users/{}/disable", ann.id);
    let bea_path = format!("/api/v1/users/{}/disable", bea.id);
    let (r1, r2) = tokio::join!(ann_c.post(&bea_path, json!({})), bea_c.post(&ann_path, json!({})));
    let wins = [&r1, &r2].iter().filter(|r| r.status == StatusCode::OK).count();
    assert_eq!(wins, 1, "{} {} / {} {}", r1.status, r1.body, r2.status, r2.body);
    for r in [&r1, &r2] {
        assert!([StatusCode::OK, StatusCode::CONFLICT, StatusCode::UNAUTHORIZED].contains(&r.status), "{}", r.body);
    }
    let ctx = RequestContext::default();
    let (winner, loser) = if r1.status == StatusCode::OK { (&ann, &bea) } else { (&bea, &ann) };

    // The loser, acting on what it saw before (an active Administrator), is refused by the store.
    let stale = Principal {
        user: loser.clone(),
        session_id: None,
        csrf_token: None,
        token_id: None,
        scopes: None,
        authority: None,
        forced_change_proof: None,
    };
    let err = app.usher.disable_user(&ctx, &stale, winner.id).await.unwrap_err();
    assert!(matches!(err, usher_core::Error::Conflict(_)), "{err:?}");
    assert!(err.to_string().contains("at least one active Administrator"), "{err}");
    let err = app.usher.delete_user(&ctx, &stale, winner.id).await.unwrap_err();
    assert!(matches!(err, usher_core::Error::Conflict(_)), "{err:?}");
    let (login, password) =
        if winner.id == ann.id { ("admin", crate::helpers::ADMIN_PASSWORD) } else { ("bea", USER_PASSWORD) };
    let mut w = app.signed_in(login, password).await;
    assert_eq!(w.get("/api/v1/me").await.body["status"], "active");
    assert_eq!(w.get(&format!("/api/v1/users/{}", loser.id)).await.body["status"], "disabled");
}

#[tokio::test]
async fn deleting_a_user_removes_their_data_and_keeps_the_audit_log() {
    let app = TestApp::spawn().await;
    let (admin_user, mut admin) = app.admin().await;
    let (bob, mut session) = app.user("bob").await;
    let token = token_of(&mut session, &["read"]).await;
    app.client().post("/api/v1/auth/login", json!({ "login": "bob", "password": "wrong" })).await;
    let group = id_of(&admin.post("/api/v1/groups", json!({ "name": "Pilots" })).await);
    let members = format!("/api/v1/groups/{group}/members");
    assert_eq!(admin.put(&members, json!({ "user_ids": [bob.id] })).await.status, StatusCode::OK);
    let app_id = id_of(&admin.post("/api/v1/apps", json!({ "name": "CRM", "owners": [bob.id, admin_user.id] })).await);
    for table in ["sessions", "api_tokens", "user_roles"] {
        assert!(rows_of(&app, table, bob.id).await > 0, "{table}");
    }

    let path = format!("/api/v1/users/{}", bob.id);
    assert_eq!(delete(&mut admin, &path).await.status, StatusCode::NO_CONTENT);
    assert_eq!(session.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.bearer(Method::GET, "/api/v1/me", &token, None).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(login_status(&app, "bob", USER_PASSWORD).await, StatusCode::UNAUTHORIZED);
    assert_eq!(admin.get(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(delete(&mut admin, &path).await.status, StatusCode::NOT_FOUND);
    for table in ["sessions", "api_tokens", "user_roles", "password_history"] {
        assert_eq!(rows_of(&app, table, bob.id).await, 0, "{table}");
    }
    assert_eq!(admin.get(&members).await.body["items"], json!([]));
    assert_eq!(admin.get(&format!("/api/v1/apps/{app_id}")).await.status, StatusCode::OK, "apps stay");

    // The audit log still names Bob as he was.
    let id = bob.id.to_string();
    let failed = audit(&mut admin, "auth.login.failed", &id).await;
    assert_eq!(failed[0]["target_name"], "Test bob");
    let deleted = audit(&mut admin, "user.deleted", &id).await;
    assert_eq!(deleted[0]["target_name"], "Test bob");
    assert_eq!(deleted[0]["details"]["user_id"], "bob");
    assert_eq!(deleted[0]["details"]["email"], "bob@example.org");
    assert_eq!(audit(&mut admin, "token.created", &id).await.len(), 1);
    assert!(!admin.get("/api/v1/users").await.body.to_string().contains("bob@example.org"));
    assert_eq!(app.mail.all().len(), 0, "the app keeps an owner: no email");

    // Not yourself; a User Manager not an Administrator.
    let own = format!("/api/v1/users/{}", admin_user.id);
    assert_eq!(delete(&mut admin, &own).await.status, StatusCode::FORBIDDEN);
    app.create_user("manny", Some("manny@example.org"), USER_PASSWORD, &[Role::UserManager]).await;
    let mut manny = app.signed_in("manny", USER_PASSWORD).await;
    assert_eq!(delete(&mut manny, &own).await.status, StatusCode::FORBIDDEN);
    let (eve, _) = app.user("eve").await;
    assert_eq!(delete(&mut manny, &format!("/api/v1/users/{}", eve.id)).await.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn every_user_manager_hears_of_apps_left_without_an_owner() {
    let app = TestApp::spawn().await;
    let (admin_user, mut admin) = app.admin().await;
    let (bob, _) = app.user("bob").await;
    let carol = app.create_user("carol", Some("carol@example.org"), USER_PASSWORD, &[Role::User]).await;
    app.create_user("m1", Some("m1@example.org"), USER_PASSWORD, &[Role::UserManager]).await;
    app.create_user("m2", Some("m2@example.org"), USER_PASSWORD, &[Role::UserManager]).await;
    let crm = id_of(&admin.post("/api/v1/apps", json!({ "name": "CRM", "owners": [bob.id] })).await);
    admin.post("/api/v1/apps", json!({ "name": "Wiki", "owners": [bob.id, carol.id] })).await;

    assert_eq!(delete(&mut admin, &format!("/api/v1/users/{}", bob.id)).await.status, StatusCode::NO_CONTENT);
    for manager in ["m1@example.org", "m2@example.org"] {
        let mail = app.mail.next_to(manager).await;
        assert!(mail.subject.contains("CRM"), "{}", mail.subject);
        assert!(mail.text.contains("CRM") && !mail.text.contains("Wiki"), "{}", mail.text);
        assert!(mail.text.contains("Test bob") && mail.text.contains("(bob)"), "{}", mail.text);
    }
    assert_eq!(app.mail.count_to("admin@example.org"), 0);
    assert_eq!(app.mail.count_to("carol@example.org"), 0);
    let res = admin.get(&format!("/api/v1/apps/{crm}")).await;
    assert_eq!((res.status, res.body["owners"].clone()), (StatusCode::OK, json!([])));
    let deleted = audit(&mut admin, "user.deleted", &bob.id.to_string()).await;
    assert_eq!(deleted[0]["details"]["apps_without_owner"], json!(["CRM"]));
    let _ = admin_user;
}

#[tokio::test]
async fn the_openapi_document_describes_user_administration() {
    let app = TestApp::spawn().await;
    let doc = app.client().get("/api/openapi.json").await.body;
    for (path, methods) in [
        ("/api/v1/users", &["get", "post"][..]),
        ("/api/v1/users/{id}", &["get", "patch", "delete"]),
        ("/api/v1/users/{id}/failed-logins", &["get"]),
        ("/api/v1/users/{id}/sessions", &["get", "delete"]),
        ("/api/v1/users/{id}/password-reset", &["post"]),
        ("/api/v1/users/{id}/disable", &["post"]),
        ("/api/v1/users/{id}/enable", &["post"]),
    ] {
        for m in methods {
            assert!(doc["paths"][path][m].is_object(), "{m} {path}");
        }
    }
    assert!(doc["components"]["schemas"]["UserCreate"].is_object());
    assert!(doc["components"]["schemas"]["TemporaryPassword"].is_object());
}
