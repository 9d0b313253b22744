//! Custom metadata fields: who may read and change them, how definitions and
//! values are validated by type.

use reqwest::StatusCode;
use serde_json::{Value, json};
use usher_core::{
    RequestContext,
    import::{Format, ImportOutcome, NoProgress},
};
use usher_domain::Role;

use crate::helpers::{TestApp, USER_PASSWORD};

fn fields() -> Value {
    json!([
        { "name": "departments", "label": "Department", "type": "text", "required": false },
        { "name": "level", "label": "Level", "type": "number", "required": false },
        { "name": "since", "label": "Employee since", "type": "date", "required": false },
        { "name": "remote", "label": "Remote", "type": "boolean", "required": false },
        { "name": "tier", "label": "Tier", "type": "choice", "required": true, "options": ["Gold", "Silver"] }
    ])
}

#[tokio::test]
async fn administrators_define_fields_managers_read_them() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let res = admin.get("/api/v1/settings/metadata-fields").await;
    assert_eq!((res.status, res.body.clone()), (StatusCode::OK, json!({ "fields": [] })));
    let res = admin.put("/api/v1/settings/metadata-fields", json!({ "fields": fields() })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["fields"], fields());
    assert_eq!(admin.get("/api/v1/settings/metadata-fields").await.body["fields"], fields());

    app.create_user("manager", Some("manager@example.org"), USER_PASSWORD, &[Role::UserManager]).await;
    let mut manager = app.signed_in("manager", USER_PASSWORD).await;
    assert_eq!(manager.get("/api/v1/settings/metadata-fields").await.body["fields"], fields());
    let res = manager.put("/api/v1/settings/metadata-fields", json!({ "fields": [] })).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let (_, mut bob) = app.user("bob").await;
    assert_eq!(bob.get("/api/v1/settings/metadata-fields").await.status, StatusCode::FORBIDDEN);

    let audit = admin.get("/api/v1/audit-events?action=settings.metadata_fields.updated").await;
    let event = &audit.body["items"][0];
    assert_eq!(event["details"]["after"][4]["name"], "tier", "{}", audit.body);
}

#[tokio::test]
async fn bad_definitions_are_reported_per_field() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let res = admin
        .put(
            "/api/v1/settings/metadata-fields",
            json!({ "fields": [
                { "name": "dept", "label": "Department", "type": "colour" },
                { "name": "dept", "label": "Department", "type": "text" },
                { "name": "Dept", "label": "", "type": "text" },
                { "name": "2fa", "label": "Two", "type": "choice" },
            ] }),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    let got: Vec<(String, String)> = res.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap().to_owned(), e["code"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(got, [("fields[0].type".to_owned(), "invalid".to_owned())], "types are read first");
    let res = admin
        .put(
            "/api/v1/settings/metadata-fields",
            json!({ "fields": [
                { "name": "dept", "label": "Department", "type": "text" },
                { "name": "Dept", "label": "", "type": "text" },
                { "name": "2fa", "label": "Two", "type": "choice" },
            ] }),
        )
        .await;
    let fields: Vec<&str> =
        res.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["fields[1].name", "fields[1].label", "fields[2].name", "fields[2].options"]);
    let res = admin.put("/api/v1/settings/metadata-fields", json!({ "fields": [], "extra": 1 })).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(admin.get("/api/v1/settings/metadata-fields").await.body["fields"], json!([]));
}

#[tokio::test]
async fn values_are_validated_by_type() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    admin.put("/api/v1/settings/metadata-fields", json!({ "fields": fields() })).await;
    let org = app.usher.organization(None).await.unwrap().unwrap();
    let good: usher_core::metadata::Metadata = serde_json::from_value(json!({
        "departments": "Sales", "level": "7", "since": "2020-02-29", "remote": "false", "tier": "Gold"
    }))
    .unwrap();
    let values = app.usher.validate_metadata(org.id, &good, None).await.unwrap();
    assert_eq!(
        Value::Object(values),
        json!({ "departments": "Sales", "level": 7, "since": "2020-02-29", "remote": false, "tier": "Gold" })
    );
    let bad: usher_core::metadata::Metadata = serde_json::from_value(
        json!({ "level": "seven", "since": "2021-02-29", "remote": 2, "tier": "Bronze", "x": 1 }),
    )
    .unwrap();
    let usher_core::Error::Invalid(invalid) = app.usher.validate_metadata(org.id, &bad, None).await.unwrap_err() else {
        panic!("invalid")
    };
    let mut got: Vec<(&str, &str)> = invalid.0.iter().map(|e| (e.field.as_str(), e.code.as_str())).collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("metadata.level", "invalid"),
            ("metadata.remote", "invalid"),
            ("metadata.since", "invalid"),
            ("metadata.tier", "not_an_option"),
            ("metadata.x", "unknown_field"),
        ]
    );
    // The same rules in an import, named by line.
    let text = "{\"user_id\":\"ok\",\"metadata\":{\"tier\":\"Silver\",\"level\":1.5}}\n\
                {\"user_id\":\"no\",\"metadata\":{\"level\":\"x\"}}\n";
    let outcome = app
        .usher
        .import_users(&RequestContext::default(), None, text.as_bytes(), Format::Jsonl, false, &NoProgress)
        .await
        .unwrap();
    let ImportOutcome::Refused(errors) = outcome else { panic!("refused") };
    let got: Vec<(u64, &str)> = errors.iter().map(|e| (e.line, e.field.as_str())).collect();
    assert_eq!(got, [(2, "metadata.level"), (2, "metadata.tier")]);
}

#[tokio::test]
async fn users_carry_metadata_set_on_create_and_patch() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    admin.put("/api/v1/settings/metadata-fields", json!({ "fields": fields() })).await;
    // Created with metadata: checked by type, required fields needed when metadata is given.
    let res = admin
        .post(
            "/api/v1/users",
            json!({ "user_id": "ada", "first_name": "Ada", "last_name": "Lovelace",
                                         "metadata": { "level": "high" } }),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    let mut fields: Vec<&str> =
        res.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    fields.sort();
    assert_eq!(fields, ["metadata.level", "metadata.tier"]);
    let res = admin
        .post(
            "/api/v1/users",
            json!({ "user_id": "ada", "first_name": "Ada", "last_name": "Lovelace",
                                         "metadata": { "level": "3", "tier": "Gold", "departments": "R&D" } }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.body["metadata"], json!({ "level": 3, "tier": "Gold", "departments": "R&D" }));
    let id = res.body["id"].as_str().unwrap().to_owned();
    // PATCH changes what it names, clears null, keeps the rest; a bad value changes nothing.
    let res =
        admin.patch(&format!("/api/v1/users/{id}"), json!({ "last_name": "King", "metadata": { "level": "x" } })).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(admin.get(&format!("/api/v1/users/{id}")).await.body["last_name"], "Lovelace");
    let res = admin
        .patch(&format!("/api/v1/users/{id}"), json!({ "metadata": { "departments": null, "remote": true } }))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["metadata"], json!({ "level": 3, "tier": "Gold", "remote": true }));
    let res = admin.patch(&format!("/api/v1/users/{id}"), json!({ "metadata": { "tier": null } })).await;
    assert_eq!(res.body["errors"][0]["field"], "metadata.tier", "required stays required");
    let found = admin.get("/api/v1/users?q=tier:gol").await;
    assert_eq!(found.body["items"][0]["user_id"], "ada");
    // People cannot set their own metadata.
    let (_, mut bob) = app.user("bob").await;
    let res = bob.patch("/api/v1/me", json!({ "metadata": { "tier": "Gold" } })).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
}
