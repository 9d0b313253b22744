use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, USER_PASSWORD};

#[tokio::test]
async fn sign_ins_failures_and_changes_are_in_the_audit_log() {
    let app = TestApp::spawn().await;
    let (admin_user, mut admin) = app.admin().await;
    let (user, mut c) = app.user("rosa").await;
    app.client().post("/api/v1/auth/login", json!({ "login": "rosa", "password": "wrong-password" })).await;
    app.client().post("/api/v1/auth/login", json!({ "login": "ghost", "password": "wrong-password" })).await;
    c.put(
        "/api/v1/me/password",
        json!({ "current_password": USER_PASSWORD, "new_password": "Saffron-Glacier-Tunnel-93" }),
    )
    .await;
    let mut policy = admin.get("/api/v1/settings/password-policy").await.body;
    policy["min_length"] = json!(10);
    admin.put("/api/v1/settings/password-policy", policy).await;

    let log = admin.get("/api/v1/audit-events?limit=100").await;
    assert_eq!(log.status, StatusCode::OK);
    let items = log.body["items"].as_array().unwrap();
    let actions: Vec<&str> = items.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions[..5],
        [
            "settings.password_policy.updated",
            "user.password.changed",
            "auth.login.failed",
            "auth.login.failed",
            "auth.login.succeeded"
        ]
    );
    let ghost = &items[2];
    assert_eq!(ghost["details"]["reason"], "unknown_user");
    assert_eq!(ghost["details"]["login"], "ghost");
    assert!(ghost["target_id"].is_null());
    let wrong = &items[3];
    assert_eq!(wrong["details"]["reason"], "bad_password");
    assert_eq!(wrong["target_id"], user.id.to_string());
    assert_eq!(wrong["target_name"], "Test rosa");
    assert_eq!(wrong["address"], "127.0.0.1");
    let policy_event = &items[0];
    assert_eq!(policy_event["actor_id"], admin_user.id.to_string());
    assert_eq!(policy_event["details"]["after"]["min_length"], 10);
    for e in items {
        assert!(e["at"].as_str().unwrap().ends_with('Z'), "RFC 3339 UTC");
    }
}

#[tokio::test]
async fn the_audit_log_pages_filters_and_is_for_administrators_only() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let (user, mut c) = app.user("sam").await;
    assert_eq!(c.get("/api/v1/audit-events").await.status, StatusCode::FORBIDDEN);
    for i in 0..5 {
        c.patch("/api/v1/me", json!({ "company": format!("Company {i}") })).await;
    }
    let mut seen = Vec::new();
    let mut path = format!("/api/v1/audit-events?action=user.profile.updated&target_id={}&limit=2", user.id);
    loop {
        let page = admin.get(&path).await.body;
        for item in page["items"].as_array().unwrap() {
            seen.push(item["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/audit-events?action=user.profile.updated&limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.reverse();
    assert_eq!(seen, sorted, "newest first, no duplicates across pages");
    let bad = admin.get("/api/v1/audit-events?cursor=nope").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let bad = admin.get("/api/v1/audit-events?limit=many").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.content_type(), "application/problem+json");
}

#[tokio::test]
async fn entries_outlive_the_people_they_name_and_cannot_be_rewritten() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let (user, _) = app.user("tina").await;
    let sql_delete_user = "DELETE FROM users WHERE user_id = 'tina'";
    if app.db_url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(&app.db_url).await.unwrap();
        sqlx::query(sql_delete_user).execute(&pool).await.unwrap();
        assert!(sqlx::query("UPDATE audit_events SET action = 'x'").execute(&pool).await.is_err());
        assert!(sqlx::query("DELETE FROM audit_events").execute(&pool).await.is_err());
    } else {
        let pool = sqlx::SqlitePool::connect(&app.db_url).await.unwrap();
        sqlx::query(sql_delete_user).execute(&pool).await.unwrap();
        assert!(sqlx::query("UPDATE audit_events SET action = 'x'").execute(&pool).await.is_err());
        assert!(sqlx::query("DELETE FROM audit_events").execute(&pool).await.is_err());
    }
    let log = admin.get(&format!("/api/v1/audit-events?target_id={}", user.id)).await.body;
    let names: Vec<&str> =
        log["items"].as_array().unwrap().iter().map(|e| e["target_name"].as_str().unwrap()).collect();
    assert!(names.len() >= 2, "user.created and auth.login.succeeded stay");
    assert!(names.iter().all(|n| *n == "Test tina"));
}

/// The items of one page of `path`, as (action, actor_id, target_id).
async fn actions(admin: &mut crate::helpers::Client, path: &str) -> Vec<(String, String, String)> {
    let res = admin.get(path).await;
    assert_eq!(res.status, StatusCode::OK, "{path}: {}", res.body);
    let text = |v: &serde_json::Value| v.as_str().unwrap_or("").to_owned();
    res.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (text(&e["action"]), text(&e["actor_id"]), text(&e["target_id"])))
        .collect()
}

#[tokio::test]
async fn the_audit_log_filters_by_family_actor_target_and_time() {
    use chrono::{Duration, SecondsFormat};

    let app = TestApp::spawn().await;
    let (admin_user, _) = app.admin().await;
    let (rosa, mut c) = app.user("rosa").await;
    let day0 = app.usher.now();
    c.patch("/api/v1/me", json!({ "company": "ACME" })).await;
    app.clock.advance(Duration::days(2));
    app.client().post("/api/v1/auth/login", json!({ "login": "rosa", "password": "wrong-password" })).await;
    app.clock.advance(Duration::days(2));
    // Sessions last hours: the administrator signs in again.
    let mut admin = app.signed_in("admin", crate::helpers::ADMIN_PASSWORD).await;
    let group = admin.post("/api/v1/groups", json!({ "name": "Auditors" })).await;
    assert_eq!(group.status, StatusCode::CREATED, "{}", group.body);
    let (admin_id, rosa_id) = (admin_user.id.to_string(), rosa.id.to_string());

    let auth = actions(&mut admin, "/api/v1/audit-events?family=auth").await;
    assert!(auth.iter().all(|(a, _, _)| a.starts_with("auth.")), "{auth:?}");
    assert_eq!(auth.iter().filter(|(a, _, _)| a == "auth.login.succeeded").count(), 3, "{auth:?}");
    assert!(auth.iter().any(|(a, _, t)| a == "auth.login.failed" && *t == rosa_id), "{auth:?}");
    let user = actions(&mut admin, "/api/v1/audit-events?family=user").await;
    let codes: Vec<&str> = user.iter().map(|(a, _, _)| a.as_str()).collect();
    assert_eq!(codes, ["user.profile.updated", "user.created", "user.created"], "no `users.imported` in `user`");

    let by_rosa = actions(&mut admin, &format!("/api/v1/audit-events?actor_id={rosa_id}")).await;
    assert!(!by_rosa.is_empty() && by_rosa.iter().all(|(_, actor, _)| *actor == rosa_id), "{by_rosa:?}");
    let by_admin = actions(&mut admin, &format!("/api/v1/audit-events?actor_id={admin_id}&family=group")).await;
    assert_eq!(by_admin.iter().map(|(a, _, _)| a.as_str()).collect::<Vec<_>>(), ["group.created"]);
    let about_rosa = actions(&mut admin, &format!("/api/v1/audit-events?target_id={rosa_id}&family=auth")).await;
    let codes: Vec<&str> = about_rosa.iter().map(|(a, _, _)| a.as_str()).collect();
    assert_eq!(codes, ["auth.login.failed", "auth.login.succeeded"]);

    let at = |d: Duration| (day0 + d).to_rfc3339_opts(SecondsFormat::Secs, true);
    let middle = actions(
        &mut admin,
        &format!("/api/v1/audit-events?since={}&until={}", at(Duration::days(1)), at(Duration::days(3))),
    )
    .await;
    assert_eq!(middle.iter().map(|(a, _, _)| a.as_str()).collect::<Vec<_>>(), ["auth.login.failed"]);
    let later = actions(&mut admin, &format!("/api/v1/audit-events?since={}", at(Duration::days(1)))).await;
    let codes: Vec<&str> = later.iter().map(|(a, _, _)| a.as_str()).collect();
    assert_eq!(codes, ["group.created", "auth.login.succeeded", "auth.login.failed"]);
    let earlier =
        actions(&mut admin, &format!("/api/v1/audit-events?until={}&actor_id={rosa_id}", at(Duration::days(1)))).await;
    assert_eq!(
        earlier.iter().map(|(a, _, _)| a.as_str()).collect::<Vec<_>>(),
        ["user.profile.updated", "auth.login.succeeded"]
    );
    let none = actions(&mut admin, "/api/v1/audit-events?action=auth.login.failed&family=user").await;
    assert!(none.is_empty(), "an action outside the family: nothing");
    let exact = actions(&mut admin, "/api/v1/audit-events?action=auth.login.failed&family=auth").await;
    assert_eq!(exact.len(), 1);

    let unknown = admin.get("/api/v1/audit-events?family=login").await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", unknown.body);
    assert_eq!(unknown.error_codes(), ["unknown_family"]);
    let backwards = format!("/api/v1/audit-events?since={}&until={}", at(Duration::days(3)), at(Duration::days(1)));
    let backwards = admin.get(&backwards).await;
    assert_eq!(backwards.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", backwards.body);
    assert_eq!(backwards.error_codes(), ["before_since"]);
    let garbled = admin.get("/api/v1/audit-events?since=yesterday").await;
    assert_eq!(garbled.status, StatusCode::BAD_REQUEST);
    let mut c = app.signed_in("rosa", USER_PASSWORD).await;
    assert_eq!(c.get("/api/v1/audit-events?family=auth").await.status, StatusCode::FORBIDDEN);
}
