//! Hostile input: control characters in every public text field, forged list
//! cursors, and identifiers that only look like another one. None may answer 5xx,
//! on either engine.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_PASSWORD, Client, Res, TestApp, USER_PASSWORD};

/// Characters that must never reach the database: NUL, other C0 and C1 controls, DEL.
const CONTROLS: [&str; 5] = ["\u{0}", "\u{1}", "\u{1b}", "\u{7f}", "\u{85}"];

/// The same, and a bidi override (taken out of names, refused in identifiers).
const NASTY: [&str; 6] = ["\u{0}", "\u{1}", "\u{1b}", "\u{7f}", "\u{85}", "\u{202e}"];

fn no_5xx(what: &str, res: &Res) {
    assert!(!res.status.is_server_error(), "{what}: {} {}", res.status, res.body);
}

#[tokio::test]
async fn control_characters_in_sign_in_answer_like_an_unknown_user() {
    let app = TestApp::spawn().await;
    let (_, _admin) = app.admin().await;
    app.user("bob").await;
    let unknown = app.client().post("/api/v1/auth/login", json!({ "login": "nobody", "password": "x" })).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    // Three failures an attempt, spread over accounts so none is locked (5) and
    // the address stays under its limit (20).
    for (i, c) in NASTY.iter().enumerate() {
        let mut anon = app.client();
        let login = format!("ad{c}min");
        let res = anon.post("/api/v1/auth/login", json!({ "login": login, "password": ADMIN_PASSWORD })).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "login {c:?}: {}", res.body);
        assert_eq!(res.body, unknown.body, "the same answer as for an unknown user");
        let organization = format!("de{c}fault");
        let res = anon
            .post(
                "/api/v1/auth/login",
                json!({ "login": format!("nobody{i}"), "password": ADMIN_PASSWORD, "organization": organization }),
            )
            .await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "organization {c:?}: {}", res.body);
        let who = if i % 2 == 0 { "admin" } else { "bob" };
        let res = anon.post("/api/v1/auth/login", json!({ "login": who, "password": format!("x{c}y") })).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "password {c:?}: {}", res.body);
        let res = anon.post("/api/v1/auth/password-reset", json!({ "login": login })).await;
        no_5xx("password-reset login", &res);
        assert!(res.status.is_success(), "password-reset answers as for anyone: {} {}", res.status, res.body);
        let res = anon
            .post("/api/v1/auth/password-reset", json!({ "login": "admin", "organization": format!("a{c}b") }))
            .await;
        assert!(res.status.is_success(), "password-reset organization: {} {}", res.status, res.body);
    }
    // The failures were audited like any other (the text made safe), and the
    // real account still signs in.
    let mut admin = app.signed_in("admin", ADMIN_PASSWORD).await;
    let res = admin.get("/api/v1/audit-events?action=auth.login.failed&limit=100").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let logins: Vec<String> = res.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["details"]["login"].as_str().map(str::to_owned))
        .collect();
    assert!(logins.iter().any(|l| l.starts_with("ad") && l.ends_with("min") && l != "admin"), "{logins:?}");
    assert!(logins.iter().all(|l| !l.chars().any(char::is_control)), "{logins:?}");
}

#[tokio::test]
async fn control_characters_in_any_text_field_are_refused_not_5xx() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let (ann, mut ann_client) = app.user("ann").await;
    let res = admin
        .put(
            "/api/v1/settings/metadata-fields",
            json!({ "fields": [{ "name": "departments", "label": "Departments", "type": "text" }] }),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let group = admin.post("/api/v1/groups", json!({ "name": "Staff" })).await;
    let group_id = group.body["id"].as_str().unwrap().to_owned();
    let token = ann_client
        .post("/api/v1/me/tokens", json!({ "description": "ci", "client": "ci", "scopes": ["users:read"] }))
        .await;
    let token_id = token.body["id"].as_str().unwrap_or_default().to_owned();
    let invitation = admin.post("/api/v1/invitations", json!({ "email": "zoe@example.org", "send": false })).await;
    let link = invitation.body["link"].as_str().unwrap_or_default().to_owned();
    let invitation_id = link.rsplit('/').next().unwrap_or_default().to_owned();
    for (i, c) in CONTROLS.iter().enumerate() {
        let t = |s: &str| format!("{s}{c}x");
        let mut anon = app.client();
        let checks: Vec<(&str, Res)> = vec![
            (
                "create user",
                admin
                    .post(
                        "/api/v1/users",
                        json!({ "user_id": t("bob"), "email": format!("bob{i}@example.org"),
                                "first_name": "Bob", "last_name": "B" }),
                    )
                    .await,
            ),
            (
                "create user names",
                admin
                    .post(
                        "/api/v1/users",
                        json!({ "user_id": format!("bob{i}"), "email": t("bob@example.org"),
                                "first_name": t("Bob"), "last_name": t("B"), "phone": t("+33 6 12 34 56 78"),
                                "metadata": { "departments": t("Sales") } }),
                    )
                    .await,
            ),
            (
                "profile",
                ann_client
                    .patch(
                        "/api/v1/me",
                        json!({ "first_name": t("Ann"), "last_name": t("A"), "company": t("Acme"),
                                "contact_person": t("Zed"), "phone": t("+33612345678"),
                                "timezone": t("Europe/Paris") }),
                    )
                    .await,
            ),
            ("metadata", admin.patch(&format!("/api/v1/users/{}", ann.id), json!({ "metadata": { "departments": t("Sales") } })).await),
            ("user id", admin.patch(&format!("/api/v1/users/{}", ann.id), json!({ "user_id": t("ann") })).await),
            ("group create", admin.post("/api/v1/groups", json!({ "name": t("Ops"), "description": t("d") })).await),
            (
                "template subject",
                admin
                    .put("/api/v1/settings/invitation-template", json!({ "subject": t("Hi"), "body": "{{link}}" }))
                    .await,
            ),
            ("group patch", admin.patch(&format!("/api/v1/groups/{group_id}"), json!({ "description": t("d") })).await),
            ("app create", admin.post("/api/v1/apps", json!({ "name": t("App"), "description": t("d"), "url": t("https://a.example") })).await),
            (
                "token create",
                ann_client
                    .post("/api/v1/me/tokens", json!({ "description": t("ci"), "client": t("ci"), "scopes": ["users:read"] }))
                    .await,
            ),
            ("token patch", ann_client.patch(&format!("/api/v1/me/tokens/{token_id}"), json!({ "description": t("ci") })).await),
            ("invite", admin.post("/api/v1/invitations", json!({ "email": t("x@example.org"), "send": false })).await),
            (
                "template",
                admin
                    .put("/api/v1/settings/invitation-template", json!({ "subject": "Hi", "body": t("Join {{link}}\n") }))
                    .await,
            ),
            (
                "accept invitation",
                anon.post(
                    &format!("/api/v1/invitations/{invitation_id}/accept"),
                    json!({ "user_id": t("zoe"), "first_name": t("Zoe"), "last_name": t("Z"), "password": t(USER_PASSWORD) }),
                )
                .await,
            ),
            ("new password", ann_client.put("/api/v1/me/password", json!({ "current_password": USER_PASSWORD, "new_password": t(USER_PASSWORD) })).await),
        ];
        for (what, res) in checks {
            no_5xx(&format!("{what} with {c:?}"), &res);
            assert!(!res.status.is_success(), "{what} with {c:?} was accepted: {}", res.body);
        }
        // Searches drop control characters or refuse them; either way no 5xx.
        let reads: Vec<(&str, Res)> = vec![
            ("search", admin.get(&format!("/api/v1/users?q={}", urlencode(&t("ann")))).await),
            ("search field", admin.get(&format!("/api/v1/users?q={}", urlencode(&t("departments:sa")))).await),
            ("groups search", admin.get(&format!("/api/v1/groups?q={}", urlencode(&t("st")))).await),
            ("audit action", admin.get(&format!("/api/v1/audit-events?action={}", urlencode(&t("auth")))).await),
        ];
        for (what, res) in reads {
            no_5xx(&format!("{what} with {c:?}"), &res);
        }
    }
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

/// Pages of users sorted by `sort`: the first cursor.
async fn first_cursor(admin: &mut Client, sort: &str) -> String {
    let res = admin.get(&format!("/api/v1/users?sort={sort}&limit=1")).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    res.body["next_cursor"].as_str().expect("a next page").to_owned()
}

#[tokio::test]
async fn forged_and_foreign_cursors_answer_422() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    app.user("ann").await;
    app.user("bob").await;
    let id = uuid::Uuid::now_v7();
    let forge = |body: Value| URL_SAFE_NO_PAD.encode(body.to_string());
    let forged = [
        ("created_at", forge(json!({ "s": "created_at", "d": false, "k": { "t": "yesterday" }, "i": id }))),
        ("role", forge(json!({ "s": "role", "d": false, "k": { "i": 99999 }, "i": id }))),
        ("last_name", forge(json!({ "s": "last_name", "d": false, "k": { "t": "a\u{0}b" }, "i": id }))),
        ("last_name", forge(json!({ "s": "last_name", "d": false, "k": { "d": "2024-01-01T00:00:00Z" }, "i": id }))),
        ("last_login_at", forge(json!({ "s": "last_login_at", "d": false, "k": { "i": 1 }, "i": id }))),
    ];
    for (sort, cursor) in forged {
        let res = admin.get(&format!("/api/v1/users?sort={sort}&cursor={cursor}")).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{sort} {cursor}: {}", res.body);
        assert_eq!(res.error_codes(), ["invalid"], "{}", res.body);
    }
    // A cursor the server made answers for its own list and order only.
    let by_role = first_cursor(&mut admin, "role").await;
    assert_eq!(admin.get(&format!("/api/v1/users?sort=role&cursor={by_role}")).await.status, StatusCode::OK);
    for other in ["sort=created_at", "sort=role&order=desc", "sort=last_name"] {
        let res = admin.get(&format!("/api/v1/users?{other}&cursor={by_role}")).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{other}: {}", res.body);
    }
    // Tampering with a signed cursor is noticed.
    let mut bytes = URL_SAFE_NO_PAD.decode(&by_role).unwrap();
    bytes[2] ^= 1;
    let res = admin.get(&format!("/api/v1/users?sort=role&cursor={}", URL_SAFE_NO_PAD.encode(bytes))).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    // Group and app cursors: a forged name key with a NUL answers 422.
    admin.post("/api/v1/groups", json!({ "name": "Ops" })).await;
    admin.post("/api/v1/groups", json!({ "name": "Staff" })).await;
    for list in ["groups", "apps", "me/apps"] {
        let res = admin.get(&format!("/api/v1/{list}?cursor={}", URL_SAFE_NO_PAD.encode("a\u{0}b"))).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{list}: {}", res.body);
    }
    let res = admin.get("/api/v1/groups?limit=1").await;
    let cursor = res.body["next_cursor"].as_str().expect("a next page").to_owned();
    assert_eq!(admin.get(&format!("/api/v1/groups?limit=1&cursor={cursor}")).await.status, StatusCode::OK);
    // Id cursors are ids.
    for path in ["/api/v1/me/tokens", "/api/v1/me/sessions", "/api/v1/invitations", "/api/v1/audit-events"] {
        let res = admin.get(&format!("{path}?cursor=%00")).await;
        assert!(res.status.is_client_error(), "{path}: {} {}", res.status, res.body);
    }
}

#[tokio::test]
async fn look_alike_user_ids_are_the_same_id() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    for (i, look_alike) in ["ａｄｍｉｎ", "admın", "ADMİN", "аdmin"].iter().enumerate() {
        let res = admin
            .post(
                "/api/v1/users",
                json!({ "user_id": look_alike, "email": format!("l{i}@example.org"), "first_name": "L", "last_name": "L" }),
            )
            .await;
        assert!(
            res.status == StatusCode::CONFLICT || res.status == StatusCode::UNPROCESSABLE_ENTITY,
            "{look_alike}: {} {}",
            res.status,
            res.body
        );
    }
    for invisible in ["admin\u{200b}", "\u{202e}admin", "ad\u{ad}min"] {
        let res =
            admin.post("/api/v1/users", json!({ "user_id": invisible, "first_name": "L", "last_name": "L" })).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{invisible:?}: {}", res.body);
    }
    // The fullwidth form signs in to the ASCII account.
    let mut fullwidth = app.client();
    let res = fullwidth.post("/api/v1/auth/login", json!({ "login": "ａｄｍｉｎ", "password": ADMIN_PASSWORD })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    // A fullwidth email is written in plain characters, so it is the same address.
    let res = admin
        .post(
            "/api/v1/users",
            json!({ "user_id": "eve", "email": "ｅｖｅ＠ｅｘａｍｐｌｅ．ｏｒｇ", "first_name": "E", "last_name": "E" }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.body["email"], "eve@example.org");
    let res = admin
        .post(
            "/api/v1/users",
            json!({ "user_id": "eve2", "email": "eve@example.org", "first_name": "E", "last_name": "E" }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    // Bidi controls are taken out of names; genuine scripts are kept.
    let res = admin
        .post(
            "/api/v1/users",
            json!({ "user_id": "иван", "first_name": "Иван", "last_name": "\u{202e}Петров\u{202c}" }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.body["last_name"], "Петров");
    let mut ivan = app.client();
    let res = ivan.post("/api/v1/auth/login", json!({ "login": "ИВАН", "password": "x" })).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
}
