use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, USER_PASSWORD};

const NEW: &str = "Quiet-Harbor-Lantern-77";

#[tokio::test]
async fn change_password_with_the_current_one() {
    let app = TestApp::spawn().await;
    let (_, mut c) = app.user("liam").await;
    let wrong = c.put("/api/v1/me/password", json!({ "current_password": "not-it", "new_password": NEW })).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong.error_codes(), ["incorrect"]);
    let ok = c.put("/api/v1/me/password", json!({ "current_password": USER_PASSWORD, "new_password": NEW })).await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT, "{}", ok.body);
    let old = app.client().post("/api/v1/auth/login", json!({ "login": "liam", "password": USER_PASSWORD })).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    app.signed_in("liam", NEW).await;
    assert!(c.get("/api/v1/me").await.body["password_changed_at"].is_string());
}

#[tokio::test]
async fn every_failed_policy_rule_is_reported_by_name() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let policy = json!({
        "min_length": 12, "require_digit": true, "require_special": true, "require_digit_or_special": true,
        "require_upper": true, "require_lower": true, "forbid_user_id": true, "min_strength": 3, "history": 3, "max_age_days": 90
    });
    let res = admin.put("/api/v1/settings/password-policy", policy.clone()).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(admin.get("/api/v1/settings/password-policy").await.body, policy);

    let (_, mut c) = app.user("mia").await;
    let res = c.put("/api/v1/me/password", json!({ "current_password": USER_PASSWORD, "new_password": "mia" })).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut codes = res.error_codes();
    codes.sort();
    assert_eq!(
        codes,
        [
            "forbid_user_id",
            "min_length",
            "min_strength",
            "require_digit",
            "require_digit_or_special",
            "require_special",
            "require_upper"
        ]
    );
    assert!(res.body["errors"].as_array().unwrap().iter().all(|e| e["field"] == "new_password"));

    // Cyrillic upper and lower case count.
    let res = c
        .put(
            "/api/v1/me/password",
            json!({ "current_password": USER_PASSWORD, "new_password": "Снежный-Барс-2048-Ёж!" }),
        )
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.body);
}

#[tokio::test]
async fn recent_passwords_cannot_come_back() {
    let app = TestApp::spawn().await;
    let (_, mut c) = app.user("noah").await;
    // The default policy remembers the last 5.
    let seq = ["Amber-Falcon-Window-11", "Brisk-Canyon-Meadow-22", USER_PASSWORD];
    let mut current = USER_PASSWORD.to_string();
    for next in seq {
        let res = c.put("/api/v1/me/password", json!({ "current_password": current, "new_password": next })).await;
        if next == USER_PASSWORD {
            assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(res.error_codes(), ["history"]);
        } else {
            assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.body);
            current = next.to_string();
        }
    }
}

#[tokio::test]
async fn only_administrators_read_or_change_the_policy_and_bad_policies_are_refused() {
    let app = TestApp::spawn().await;
    let (_, mut user) = app.user("olga").await;
    assert_eq!(user.get("/api/v1/settings/password-policy").await.status, StatusCode::FORBIDDEN);
    let res = user.put("/api/v1/settings/password-policy", json!({})).await;
    assert!(matches!(res.status, StatusCode::FORBIDDEN | StatusCode::UNPROCESSABLE_ENTITY));
    let (_, mut admin) = app.admin().await;
    let mut policy = admin.get("/api/v1/settings/password-policy").await.body;
    policy["min_length"] = json!(0);
    policy["min_strength"] = json!(9);
    let res = admin.put("/api/v1/settings/password-policy", policy).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut codes: Vec<String> =
        res.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_owned()).collect();
    codes.sort();
    assert_eq!(codes, ["min_length", "min_strength"]);
    let presets = admin.get("/api/v1/settings/password-policy/presets").await.body;
    let ivanti = presets.as_array().unwrap().iter().find(|p| p["name"] == "ivanti").unwrap();
    assert_eq!(ivanti["policy"]["min_length"], 6);
    assert_eq!(ivanti["policy"]["require_digit_or_special"], true);
}

#[tokio::test]
async fn passwords_are_stored_as_argon2id_with_owasp_parameters() {
    let app = TestApp::spawn().await;
    app.user("pete").await;
    let hash: String = if app.db_url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(&app.db_url).await.unwrap();
        sqlx::query_scalar("SELECT password_hash FROM users WHERE user_id = 'pete'").fetch_one(&pool).await.unwrap()
    } else {
        let pool = sqlx::SqlitePool::connect(&app.db_url).await.unwrap();
        sqlx::query_scalar("SELECT password_hash FROM users WHERE user_id = 'pete'").fetch_one(&pool).await.unwrap()
    };
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
    assert!(!hash.contains(USER_PASSWORD));
}

#[tokio::test]
async fn an_unknown_user_costs_a_full_password_check() {
    // The dummy hash path must run argon2id: timing both kinds of failure
    // here would be flaky, so check the work is done by its observable cost floor.
    let app = TestApp::spawn().await;
    app.user("quinn").await;
    let mut c = app.client();
    let started = std::time::Instant::now();
    for _ in 0..3 {
        c.post("/api/v1/auth/login", json!({ "login": "nobody-at-all", "password": "whatever-it-is" })).await;
    }
    let unknown = started.elapsed();
    let started = std::time::Instant::now();
    for _ in 0..3 {
        c.post("/api/v1/auth/login", json!({ "login": "quinn", "password": "whatever-it-is" })).await;
    }
    let known = started.elapsed();
    assert!(unknown * 3 > known, "unknown {unknown:?} vs known {known:?}: an unknown user must cost a hash too");
}
