use reqwest::StatusCode;
use serde_json::{Value, json};
use usher_core::Clock;
use usher_domain::{Role, UserId};

use crate::helpers::{Res, TestApp, USER_PASSWORD};

async fn get(app: &TestApp, path: &str, token: &str) -> Res {
    app.bearer(reqwest::Method::GET, path, token, None).await
}

#[tokio::test]
async fn create_a_token_see_it_once_and_call_the_api_with_it() {
    let app = TestApp::spawn().await;
    let (_, mut c) = app.user("ada").await;
    let res = c
        .post(
            "/api/v1/me/tokens",
            json!({ "description": "CI upload", "client": "Jenkins", "scopes": ["profile:read"] }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let secret = res.body["token"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("ush_") && secret.len() == 40, "{secret}");
    assert!(usher_core::tokens::well_formed(&secret));
    assert_eq!(res.body["status"], "active");
    assert_eq!(res.body["client"], "Jenkins");
    assert_eq!(res.body["first_chars"], &secret[..8]);
    assert_eq!(res.body["last_chars"], &secret[36..]);
    // Default expiry: one year.
    let created = chrono::DateTime::parse_from_rfc3339(res.body["created_at"].as_str().unwrap()).unwrap();
    let expires = chrono::DateTime::parse_from_rfc3339(res.body["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!((expires - created).num_days(), 365);

    let me = get(&app, "/api/v1/me", &secret).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(me.body["user_id"], "ada");

    // Later reads never include the secret; last use is recorded.
    let id = res.body["id"].as_str().unwrap();
    let one = c.get(&format!("/api/v1/me/tokens/{id}")).await.body;
    assert!(one.get("token").is_none());
    assert!(one["last_used_at"].is_string());
    let list = c.get("/api/v1/me/tokens").await.body;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert!(list["items"][0].get("token").is_none());
    assert!(!list.to_string().contains(&secret));
}

#[tokio::test]
async fn only_a_digest_is_stored() {
    let app = TestApp::spawn().await;
    let (_, mut c) = app.user("bea").await;
    let secret = c.post("/api/v1/me/tokens", json!({ "description": "x", "scopes": ["read"] })).await.body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let dump: Vec<String> = if app.db_url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(&app.db_url).await.unwrap();
        sqlx::query_scalar("SELECT concat_ws('|', description, client, scopes, encode(digest, 'hex'), first_chars, last_chars) FROM api_tokens")
            .fetch_all(&pool)
            .await
            .unwrap()
    } else {
        let pool = sqlx::SqlitePool::connect(&app.db_url).await.unwrap();
        sqlx::query_scalar("SELECT description || '|' || client || '|' || scopes || '|' || hex(digest) || '|' || first_chars || '|' || last_chars FROM api_tokens")
            .fetch_all(&pool)
            .await
            .unwrap()
    };
    assert_eq!(dump.len(), 1);
    assert!(!dump[0].contains(&secret[8..36]), "the secret's middle is nowhere: {}", dump[0]);
    let digest = hex_sha256(&secret);
    assert!(dump[0].to_lowercase().contains(&digest));
}

fn hex_sha256(s: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(s.as_bytes()))
}

#[tokio::test]
async fn malformed_and_mistyped_tokens_are_rejected() {
    let app = TestApp::spawn().await;
    let (_, mut c) = app.user("cai").await;
    let secret = c.post("/api/v1/me/tokens", json!({ "description": "x", "scopes": ["read"] })).await.body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut typo = secret.clone().into_bytes();
    typo[10] = if typo[10] == b'x' { b'y' } else { b'x' };
    let typo = String::from_utf8(typo).unwrap();
    for bad in [typo.as_str(), "ush_", "nonsense", &secret[..39]] {
        let res = get(&app, "/api/v1/me", bad).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{bad}");
        assert_eq!(res.body["type"], "urn:usher:problem:invalid-token");
        assert!(res.headers["www-authenticate"].to_str().unwrap().contains("invalid_token"));
    }
    let res = reqwest::Client::new()
        .get(format!("{}/api/v1/me", app.base))
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn scopes_are_required_checked_and_enforced() {
    let app = TestApp::spawn().await;
    let (_, mut c) = app.user("dan").await;
    let none = c.post("/api/v1/me/tokens", json!({ "description": "x", "scopes": [] })).await;
    assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(none.error_codes(), ["required"]);
    let bad = c.post("/api/v1/me/tokens", json!({ "description": "", "scopes": ["admin", "users:delete"] })).await;
    let mut codes = bad.error_codes();
    codes.sort();
    assert_eq!(codes, ["required", "unknown_scope", "unknown_scope"]);

    let read = c.post("/api/v1/me/tokens", json!({ "description": "ro", "scopes": ["read"] })).await.body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app.bearer(reqwest::Method::PATCH, "/api/v1/me", &read, Some(json!({ "first_name": "X" }))).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "a read-only token cannot change anything");
    assert!(res.body["detail"].as_str().unwrap().contains("read-only"));
    assert_eq!(get(&app, "/api/v1/me/tokens", &read).await.status, StatusCode::OK);

    let profile =
        c.post("/api/v1/me/tokens", json!({ "description": "pw", "scopes": ["profile:write"] })).await.body["token"]
            .as_str()
            .unwrap()
            .to_owned();
    let res = app.bearer(reqwest::Method::PATCH, "/api/v1/me", &profile, Some(json!({ "first_name": "Dan" }))).await;
    assert_eq!(res.status, StatusCode::OK, "no CSRF token needed with a bearer token");
    assert_eq!(get(&app, "/api/v1/me/tokens", &profile).await.status, StatusCode::FORBIDDEN, "no tokens scope");

    // A token cannot mint a stronger token.
    let tokens_write =
        c.post("/api/v1/me/tokens", json!({ "description": "t", "scopes": ["tokens:write"] })).await.body["token"]
            .as_str()
            .unwrap()
            .to_owned();
    let res = app
        .bearer(
            reqwest::Method::POST,
            "/api/v1/me/tokens",
            &tokens_write,
            Some(json!({ "description": "esc", "scopes": ["write"] })),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.error_codes(), ["exceeds_caller"]);
    let res = app
        .bearer(
            reqwest::Method::POST,
            "/api/v1/me/tokens",
            &tokens_write,
            Some(json!({ "description": "ok", "scopes": ["tokens:read"] })),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED);
}

#[tokio::test]
async fn a_token_never_grants_more_than_its_owners_current_roles() {
    let app = TestApp::spawn().await;
    let (admin, mut admin_c) = app.admin().await;
    let all =
        admin_c.post("/api/v1/me/tokens", json!({ "description": "all", "scopes": ["write"] })).await.body["token"]
            .as_str()
            .unwrap()
            .to_owned();
    assert_eq!(get(&app, "/api/v1/audit-events", &all).await.status, StatusCode::OK);
    let narrow = admin_c
        .post("/api/v1/me/tokens", json!({ "description": "n", "scopes": ["profile:read"] }))
        .await
        .body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(get(&app, "/api/v1/audit-events", &narrow).await.status, StatusCode::FORBIDDEN, "scope missing");
    assert_eq!(get(&app, "/api/v1/settings/password-policy", &narrow).await.status, StatusCode::FORBIDDEN);

    // The owner loses the Administrator role: the same token loses admin access at once.
    set_roles(&app, admin.id, &["user"]).await;
    assert_eq!(get(&app, "/api/v1/audit-events", &all).await.status, StatusCode::FORBIDDEN);
    assert_eq!(get(&app, "/api/v1/me", &all).await.status, StatusCode::OK);

    // A user's umbrella token reaches no admin endpoint.
    let (_, mut user) = app.user("eve").await;
    let t = user.post("/api/v1/me/tokens", json!({ "description": "w", "scopes": ["write"] })).await.body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    for path in ["/api/v1/audit-events", "/api/v1/settings/token-policy", "/api/v1/settings/password-policy"] {
        assert_eq!(get(&app, path, &t).await.status, StatusCode::FORBIDDEN, "{path}");
    }
}

#[tokio::test]
async fn revoke_expire_disable_and_delete_stop_a_token_at_once() {
    let app = TestApp::spawn().await;
    let (user, mut c) = app.user("fay").await;
    let mk = |d: &'static str| json!({ "description": d, "scopes": ["read"] });
    let revoked = c.post("/api/v1/me/tokens", mk("r")).await.body;
    let rsecret = revoked["token"].as_str().unwrap().to_owned();
    assert_eq!(get(&app, "/api/v1/me", &rsecret).await.status, StatusCode::OK);
    let res = c.post(&format!("/api/v1/me/tokens/{}/revoke", revoked["id"].as_str().unwrap()), json!({})).await;
    assert_eq!(res.body["status"], "revoked");
    assert_eq!(get(&app, "/api/v1/me", &rsecret).await.status, StatusCode::UNAUTHORIZED);
    // A revoked token cannot be edited or regenerated, only deleted.
    let rid = revoked["id"].as_str().unwrap();
    let res = c.patch(&format!("/api/v1/me/tokens/{rid}"), json!({ "description": "x" })).await;
    assert_eq!((res.status, res.body["code"].as_str()), (StatusCode::CONFLICT, Some("token_revoked")));
    assert_eq!(c.post(&format!("/api/v1/me/tokens/{rid}/regenerate"), json!({})).await.status, StatusCode::CONFLICT);

    // Expiry: it works until its time, not after.
    let in_a_minute = (app.clock.now() + chrono::Duration::minutes(1)).to_rfc3339();
    let soon = json!({ "description": "e", "scopes": ["read"], "expires_at": in_a_minute });
    let esecret = c.post("/api/v1/me/tokens", soon).await.body["token"].as_str().unwrap().to_owned();
    assert_eq!(get(&app, "/api/v1/me", &esecret).await.status, StatusCode::OK);
    app.clock.advance(chrono::Duration::minutes(2));
    assert_eq!(get(&app, "/api/v1/me", &esecret).await.status, StatusCode::UNAUTHORIZED);

    let active = c.post("/api/v1/me/tokens", mk("a")).await.body;
    let lists =
        (c.get("/api/v1/me/tokens?status=active").await.body, c.get("/api/v1/me/tokens?status=inactive").await.body);
    let statuses = |v: &Value| {
        v["items"].as_array().unwrap().iter().map(|i| i["status"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(statuses(&lists.0), ["active"]);
    assert_eq!(statuses(&lists.1), ["expired", "revoked"]);
    assert_eq!(c.get("/api/v1/me/tokens?status=bogus").await.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Disabling the owner stops the token.
    let asecret = active["token"].as_str().unwrap().to_owned();
    crate::auth::set_status(&app, user.id, "disabled").await;
    assert_eq!(get(&app, "/api/v1/me", &asecret).await.status, StatusCode::UNAUTHORIZED);
    crate::auth::set_status(&app, user.id, "active").await;
    assert_eq!(get(&app, "/api/v1/me", &asecret).await.status, StatusCode::OK);

    // Deleting the revoked one removes it from the lists.
    let mut c = app.signed_in("fay", USER_PASSWORD).await;
    assert_eq!(
        c.send(reqwest::Method::DELETE, &format!("/api/v1/me/tokens/{rid}"), None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(c.get(&format!("/api/v1/me/tokens/{rid}")).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn edit_and_regenerate() {
    let app = TestApp::spawn().await;
    let (_, mut c) = app.user("gus").await;
    let t = c
        .post(
            "/api/v1/me/tokens",
            json!({ "description": "old", "client": "cli", "scopes": ["profile:read", "tokens:read"] }),
        )
        .await
        .body;
    let id = t["id"].as_str().unwrap();
    let old = t["token"].as_str().unwrap().to_owned();
    let when = (app.clock.now() + chrono::Duration::days(30)).to_rfc3339();
    let res = c.patch(&format!("/api/v1/me/tokens/{id}"), json!({ "description": "new", "expires_at": when })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["description"], "new");
    let past = c.patch(&format!("/api/v1/me/tokens/{id}"), json!({ "expires_at": "2001-01-01T00:00:00Z" })).await;
    assert_eq!(past.error_codes(), ["in_past"]);

    let regen = c.post(&format!("/api/v1/me/tokens/{id}/regenerate"), json!({})).await;
    assert_eq!(regen.status, StatusCode::OK);
    let new = regen.body["token"].as_str().unwrap();
    assert_ne!(new, old);
    assert_eq!(regen.body["id"], id);
    assert_eq!(regen.body["scopes"], json!(["profile:read", "tokens:read"]));
    assert_eq!(regen.body["client"], "cli");
    assert_eq!(regen.body["description"], "new");
    assert_eq!(get(&app, "/api/v1/me", &old).await.status, StatusCode::UNAUTHORIZED, "the old secret is dead at once");
    assert_eq!(get(&app, "/api/v1/me", new).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_token_policy_caps_lifetime_and_never_expiring_tokens() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let (_, mut c) = app.user("hal").await;
    let never =
        c.post("/api/v1/me/tokens", json!({ "description": "n", "scopes": ["read"], "expires_at": null })).await;
    assert_eq!(never.error_codes(), ["never_not_allowed"]);

    let policy = json!({ "default_lifetime_days": 30, "max_lifetime_days": null, "allow_never_expiring": true, "scopes": ["read", "profile:write"] });
    assert_eq!(admin.put("/api/v1/settings/token-policy", policy.clone()).await.status, StatusCode::OK);
    let never =
        c.post("/api/v1/me/tokens", json!({ "description": "n", "scopes": ["read"], "expires_at": null })).await;
    assert_eq!(never.status, StatusCode::CREATED);
    assert!(never.body["expires_at"].is_null());
    let not_allowed = c.post("/api/v1/me/tokens", json!({ "description": "w", "scopes": ["write"] })).await;
    assert_eq!(not_allowed.error_codes(), ["not_allowed"]);

    let capped = json!({ "default_lifetime_days": 30, "max_lifetime_days": 90, "allow_never_expiring": false, "scopes": ["read"] });
    assert_eq!(admin.put("/api/v1/settings/token-policy", capped).await.status, StatusCode::OK);
    let far = (app.clock.now() + chrono::Duration::days(200)).to_rfc3339();
    let res = c.post("/api/v1/me/tokens", json!({ "description": "far", "scopes": ["read"], "expires_at": far })).await;
    assert_eq!(res.error_codes(), ["above_max"]);
    let res = c.post("/api/v1/me/tokens", json!({ "description": "dflt", "scopes": ["read"] })).await;
    let created = chrono::DateTime::parse_from_rfc3339(res.body["created_at"].as_str().unwrap()).unwrap();
    let expires = chrono::DateTime::parse_from_rfc3339(res.body["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!((expires - created).num_days(), 30);

    let invalid = json!({ "default_lifetime_days": 100, "max_lifetime_days": 90, "allow_never_expiring": true, "scopes": ["nope"] });
    let res = admin.put("/api/v1/settings/token-policy", invalid).await;
    let mut codes = res.error_codes();
    codes.sort();
    assert_eq!(codes, ["above_max", "conflicts_with_max", "unknown_scope"]);
    assert_eq!(c.get("/api/v1/settings/token-policy").await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn administrators_and_user_managers_manage_other_users_tokens() {
    let app = TestApp::spawn().await;
    let (admin, mut admin_c) = app.admin().await;
    let (ivy, _) = app.user("ivy").await;
    let manager = app.create_user("max", Some("max@example.org"), USER_PASSWORD, &[Role::UserManager]).await;
    let mut manager_c = app.signed_in("max", USER_PASSWORD).await;
    let (_, mut plain) = app.user("ned").await;

    let path = format!("/api/v1/users/{}/tokens", ivy.id);
    let res = admin_c.post(&path, json!({ "description": "for ivy", "scopes": ["read"] })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let secret = res.body["token"].as_str().unwrap().to_owned();
    assert_eq!(res.body["created_by"], admin.id.to_string());
    assert_eq!(get(&app, "/api/v1/me", &secret).await.body["user_id"], "ivy", "the token acts as its owner");

    let list = manager_c.get(&path).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    let id = list.body["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(plain.get(&path).await.status, StatusCode::FORBIDDEN, "a plain user cannot");
    assert_eq!(
        plain.post(&path, json!({ "description": "x", "scopes": ["read"] })).await.status,
        StatusCode::FORBIDDEN
    );

    // A User Manager cannot act on an Administrator's tokens.
    let admin_path = format!("/api/v1/users/{}/tokens", admin.id);
    assert_eq!(
        manager_c.post(&admin_path, json!({ "description": "x", "scopes": ["write"] })).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(manager_c.get(&admin_path).await.status, StatusCode::FORBIDDEN);

    let res = manager_c.send(reqwest::Method::DELETE, &format!("{path}/{id}"), None).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    assert_eq!(get(&app, "/api/v1/me", &secret).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(manager_c.get(&format!("/api/v1/users/{}/tokens", manager.id)).await.status, StatusCode::OK);
    assert_eq!(
        admin_c.get(&format!("/api/v1/users/{}/tokens", uuid::Uuid::now_v7())).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(admin_c.get("/api/v1/users/not-a-uuid/tokens").await.status, StatusCode::NOT_FOUND);

    // Every token event is audited, naming who did it to whom.
    let log = admin_c.get(&format!("/api/v1/audit-events?target_id={}&limit=10", ivy.id)).await.body;
    let actions: Vec<&str> = log["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions[..2], ["token.deleted", "token.created"]);
    assert_eq!(log["items"][0]["actor_id"], manager.id.to_string());
}

#[tokio::test]
async fn last_use_is_written_at_most_once_a_minute() {
    let app = TestApp::spawn().await;
    let (_, mut c) = app.user("ola").await;
    let t = c.post("/api/v1/me/tokens", json!({ "description": "x", "scopes": ["read"] })).await.body;
    let secret = t["token"].as_str().unwrap().to_owned();
    let id = t["id"].as_str().unwrap().to_owned();
    get(&app, "/api/v1/me", &secret).await;
    let first = c.get(&format!("/api/v1/me/tokens/{id}")).await.body["last_used_at"].clone();
    assert!(first.is_string());
    for _ in 0..5 {
        get(&app, "/api/v1/me", &secret).await;
    }
    assert_eq!(
        c.get(&format!("/api/v1/me/tokens/{id}")).await.body["last_used_at"],
        first,
        "no write within the minute"
    );
}

async fn set_roles(app: &TestApp, id: UserId, roles: &[&str]) {
    if app.db_url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(&app.db_url).await.unwrap();
        sqlx::query("DELETE FROM user_roles WHERE user_id = $1").bind(id).execute(&pool).await.unwrap();
        for r in roles {
            sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)")
                .bind(id)
                .bind(*r)
                .execute(&pool)
                .await
                .unwrap();
        }
    } else {
        let pool = sqlx::SqlitePool::connect(&app.db_url).await.unwrap();
        sqlx::query("DELETE FROM user_roles WHERE user_id = ?1").bind(id).execute(&pool).await.unwrap();
        for r in roles {
            sqlx::query("INSERT INTO user_roles (user_id, role) VALUES (?1, ?2)")
                .bind(id)
                .bind(*r)
                .execute(&pool)
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn managers_page_through_the_users_of_their_organization() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    for name in ["zoe", "Yan", "xia", "will"] {
        app.create_user(name, None, USER_PASSWORD, &[Role::User]).await;
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/users?limit=2".to_string();
    loop {
        let page = admin.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        seen.extend(page.body["items"].as_array().unwrap().iter().map(|u| u["user_id"].as_str().unwrap().to_owned()));
        match page.body["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/users?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, ["admin", "will", "xia", "Yan", "zoe"]);
    let (_, mut plain) = app.user("plain").await;
    assert_eq!(plain.get("/api/v1/users").await.status, StatusCode::FORBIDDEN);
    assert_eq!(admin.get("/api/v1/users?cursor=%%%").await.status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// Bearer lookups that arrive together share database queries: each request
/// must still get its own owner, or 401 for an unknown or revoked token, even
/// when several requests in one batch carry the same token.
#[tokio::test]
async fn concurrent_requests_with_many_tokens_each_get_their_owner() {
    let app = TestApp::spawn().await;
    let mut owners = Vec::new();
    for i in 0..6 {
        let name = format!("batch{i}");
        let (_, mut c) = app.user(&name).await;
        let t = c.post("/api/v1/me/tokens", json!({ "description": "load", "scopes": ["read"] })).await.body;
        owners.push((name, t["token"].as_str().unwrap().to_owned(), t["id"].as_str().unwrap().to_owned(), c));
    }
    // The last user's token is revoked; a well-formed token nobody has is unknown.
    let (_, _, revoked_id, c) = owners.last_mut().unwrap();
    let res = c.post(&format!("/api/v1/me/tokens/{revoked_id}/revoke"), json!({})).await;
    assert_eq!(res.body["status"], "revoked");
    let unknown = usher_core::tokens::generate();

    let http = reqwest::Client::new();
    let mut calls = Vec::new();
    for round in 0..20 {
        for (i, (name, secret, _, _)) in owners.iter().enumerate() {
            let expected = if i == owners.len() - 1 { None } else { Some(name.clone()) };
            calls.push((secret.clone(), expected));
        }
        if round % 2 == 0 {
            calls.push((unknown.clone(), None));
        }
    }
    let mut requests = tokio::task::JoinSet::new();
    for (secret, expected) in calls {
        let req = http.get(format!("{}/api/v1/me", app.base)).bearer_auth(secret).send();
        requests.spawn(async move {
            let res = req.await.unwrap();
            let status = res.status();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            match expected {
                Some(name) => {
                    assert_eq!(status, StatusCode::OK, "{body}");
                    assert_eq!(body["user_id"], name.as_str());
                }
                None => assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}"),
            }
        });
    }
    while let Some(done) = requests.join_next().await {
        done.unwrap();
    }
}
