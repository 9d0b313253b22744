use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn a_user_edits_every_profile_field_but_the_email() {
    let app = TestApp::spawn().await;
    let (_, mut c) = app.user("ivan").await;
    let res = c
        .patch(
            "/api/v1/me",
            json!({
                "first_name": "Иван", "last_name": "Петров", "phone": "+7 (912) 345-67-89",
                "contact_person": "Olga (manager)", "company": "ACME", "language": "ru", "timezone": "Europe/Moscow"
            }),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let me = c.get("/api/v1/me").await.body;
    assert_eq!(me["first_name"], "Иван");
    assert_eq!(me["last_name"], "Петров");
    assert_eq!(me["phone"], "+79123456789", "stored in E.164");
    assert_eq!(me["contact_person"], "Olga (manager)");
    assert_eq!(me["company"], "ACME");
    assert_eq!(me["language"], "ru");
    assert_eq!(me["timezone"], "Europe/Moscow");
    assert_eq!(me["email"], "ivan@example.org");
    for key in ["id", "user_id", "roles", "created_at", "updated_at", "last_login_at", "status"] {
        assert!(!me[key].is_null(), "{key} is returned");
    }

    // Absent fields stay; null clears.
    let res = c.patch("/api/v1/me", json!({ "company": null })).await;
    assert_eq!(res.body["company"], serde_json::Value::Null);
    assert_eq!(res.body["first_name"], "Иван");

    // The email cannot be changed here.
    let res = c.patch("/api/v1/me", json!({ "email": "other@example.org" })).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.body["errors"][0]["field"], "email");
    assert_eq!(c.get("/api/v1/me").await.body["email"], "ivan@example.org");
}

#[tokio::test]
async fn every_invalid_field_is_reported_and_nothing_is_saved() {
    let app = TestApp::spawn().await;
    let (_, mut c) = app.user("jane").await;
    let res = c
        .patch(
            "/api/v1/me",
            json!({ "first_name": "Jane", "phone": "12345", "language": "de", "timezone": "Mars/Olympus", "company": "x".repeat(201) }),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.content_type(), "application/problem+json");
    let mut fields: Vec<String> =
        res.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_owned()).collect();
    fields.sort();
    assert_eq!(fields, ["company", "language", "phone", "timezone"]);
    let phone_error = res.body["errors"].as_array().unwrap().iter().find(|e| e["field"] == "phone").unwrap();
    assert_eq!(phone_error["code"], "invalid");
    assert!(phone_error["message"].as_str().unwrap().contains("country code"));
    assert_eq!(c.get("/api/v1/me").await.body["first_name"], "Test", "nothing saved");
}

#[tokio::test]
async fn profile_changes_are_audited_with_the_fields_changed() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let (user, mut c) = app.user("kate").await;
    c.patch("/api/v1/me", json!({ "phone": "+33 6 12 34 56 78", "timezone": "Europe/Paris" })).await;
    let events = admin.get(&format!("/api/v1/audit-events?action=user.profile.updated&target_id={}", user.id)).await;
    let item = &events.body["items"][0];
    assert_eq!(item["actor_id"], user.id.to_string());
    assert_eq!(item["details"]["fields"], json!(["phone", "timezone"]));
    assert_eq!(item["client"], "usher-tests/1.0");
    assert_eq!(item["address"], "127.0.0.1");
}
