//! Conflicts (409) say what they are with a stable `code`, on both engines, and
//! never name a database rule: the engine's constraint names stay in the log.

use reqwest::StatusCode;
use serde_json::{Value, json};
use usher_core::{Conflict, RequestContext, auth::Principal};
use usher_domain::Role;

use crate::helpers::{Res, TestApp, USER_PASSWORD};

/// What a database rule or statement could leak into a body; `last_administrator`
/// is a code of its own and is checked where expected.
const RULE_WORDS: [&str; 11] = [
    "users_",
    "groups_",
    "apps_",
    "invitations_",
    "mfa_enabled",
    "_key",
    "constraint",
    "unique",
    "UNIQUE",
    "sqlx",
    "SQL",
];

fn assert_conflict(res: &Res, code: &str) {
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    assert_eq!(res.content_type(), "application/problem+json");
    assert_eq!(res.body["type"], "urn:usher:problem:conflict");
    assert_eq!(res.body["code"], code, "{}", res.body);
    assert_names_no_rule(&res.body);
}

fn assert_names_no_rule(body: &Value) {
    let text = body.to_string();
    for word in RULE_WORDS {
        assert!(!text.contains(word), "{word} in {text}");
    }
}

/// The problem response the API gives for a service error.
async fn problem(err: usher_core::Error) -> (u16, Value) {
    let res = axum::response::IntoResponse::into_response(usher_server::error::ApiError::from(err));
    let status = res.status().as_u16();
    let body = axum::body::to_bytes(res.into_body(), 64 * 1024).await.unwrap();
    (status, serde_json::from_slice(&body).unwrap())
}

#[tokio::test]
async fn a_taken_user_id_or_email_is_a_conflict_with_its_code_next_to_its_field() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let ada = json!({ "user_id": "ada", "email": "ada@example.org", "first_name": "Ada", "last_name": "L" });
    assert_eq!(admin.post("/api/v1/users", ada).await.status, StatusCode::CREATED);

    let res = admin
        .post(
            "/api/v1/users",
            json!({ "user_id": "ADA", "email": "other@example.org", "first_name": "A", "last_name": "B" }),
        )
        .await;
    assert_conflict(&res, "user_id_taken");
    assert_eq!(res.body["detail"], "This user ID is already taken.");
    assert_eq!(
        (res.body["errors"][0]["field"].as_str(), res.error_codes()),
        (Some("user_id"), vec!["taken".to_owned()])
    );

    let res = admin
        .post(
            "/api/v1/users",
            json!({ "user_id": "ann", "email": "ADA@example.org", "first_name": "A", "last_name": "B" }),
        )
        .await;
    assert_conflict(&res, "email_taken");
    assert_eq!(res.body["errors"][0]["field"], "email");
    assert_eq!(res.body["detail"], "This email address is already used by another user.");

    // Other problems carry no code.
    let res = admin.post("/api/v1/users", json!({ "user_id": "two words", "first_name": "A", "last_name": "B" })).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.get("code").is_none(), "{}", res.body);
}

#[tokio::test]
async fn losing_the_last_administrator_is_a_conflict_with_its_code() {
    let app = TestApp::spawn().await;
    let (ann, mut ann_c) = app.admin().await;

    // Stepping down as the only Administrator.
    let res = ann_c.put(&format!("/api/v1/users/{}/roles", ann.id), json!({ "roles": [{ "role": "user" }] })).await;
    assert_conflict(&res, "last_administrator");
    assert_eq!(res.body["detail"], "The organization must keep at least one active Administrator.");

    // Bea, an Administrator disabled by Ann, acting on what she saw before
    // (Ann and herself both active), would leave no active Administrator.
    let bea = app.create_user("bea", Some("bea@example.org"), USER_PASSWORD, &[Role::Administrator]).await;
    let res = ann_c.post(&format!("/api/v1/users/{}/disable", bea.id), json!({})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let stale = Principal {
        user: bea,
        session_id: None,
        csrf_token: None,
        token_id: None,
        scopes: None,
        authority: None,
        forced_change_proof: None,
    };
    let ctx = RequestContext::default();
    let disabled = app.usher.disable_user(&ctx, &stale, ann.id).await.unwrap_err();
    assert!(matches!(disabled, usher_core::Error::Conflict(Conflict::LastAdministrator)), "{disabled:?}");
    let deleted = app.usher.delete_user(&ctx, &stale, ann.id).await.unwrap_err();
    assert!(matches!(deleted, usher_core::Error::Conflict(Conflict::LastAdministrator)), "{deleted:?}");
    let (status, body) = problem(deleted).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("last_administrator")), "{body}");
    assert_names_no_rule(&body);
    assert_eq!(ann_c.get("/api/v1/me").await.body["status"], "active");
}

#[tokio::test]
async fn a_taken_group_or_app_name_is_a_conflict_with_its_code() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    assert_eq!(admin.post("/api/v1/groups", json!({ "name": "Sales" })).await.status, StatusCode::CREATED);
    let res = admin.post("/api/v1/groups", json!({ "name": "SALES" })).await;
    assert_conflict(&res, "group_name_taken");
    assert_eq!(res.body["detail"], "A group with this name already exists.");
    let ops = admin.post("/api/v1/groups", json!({ "name": "Ops" })).await.body["id"].as_str().unwrap().to_owned();
    assert_conflict(
        &admin.patch(&format!("/api/v1/groups/{ops}"), json!({ "name": "sales" })).await,
        "group_name_taken",
    );

    assert_eq!(admin.post("/api/v1/apps", json!({ "name": "CRM" })).await.status, StatusCode::CREATED);
    let res = admin.post("/api/v1/apps", json!({ "name": "crm" })).await;
    assert_conflict(&res, "app_name_taken");
    assert_eq!(res.body["detail"], "An app with this name already exists.");
    let wiki = admin.post("/api/v1/apps", json!({ "name": "Wiki" })).await.body["id"].as_str().unwrap().to_owned();
    assert_conflict(&admin.patch(&format!("/api/v1/apps/{wiki}"), json!({ "name": "Crm" })).await, "app_name_taken");

    // A group and an app may share a name.
    assert_eq!(admin.post("/api/v1/groups", json!({ "name": "crm" })).await.status, StatusCode::CREATED);
}

#[tokio::test]
async fn every_conflict_kind_becomes_a_problem_with_its_code_and_message() {
    for conflict in Conflict::ALL {
        let (status, body) = problem(conflict.into()).await;
        assert_eq!(status, 409);
        assert_eq!(body["code"], conflict.code());
        assert_eq!(body["detail"], conflict.message());
        assert_names_no_rule(&body);
    }
    let (status, body) =
        problem(usher_core::Error::internal("relation \"users\" violates constraint users_email")).await;
    assert_eq!(status, 500);
    assert!(body.get("code").is_none());
    assert_names_no_rule(&body);
}
