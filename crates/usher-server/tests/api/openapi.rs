//! The OpenAPI document says what the server does: parameters where the server
//! reads them, every error answer as a problem, and the limits the server
//! enforces. (`scripts/schemathesis` checks the same against live answers.)

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::helpers::TestApp;

const METHODS: [&str; 5] = ["get", "put", "post", "patch", "delete"];

/// `{id}` and `{token_id}` of `/users/{id}/tokens/{token_id}`.
fn template_names(path: &str) -> BTreeSet<&str> {
    path.split('{').skip(1).filter_map(|s| s.split_once('}').map(|(name, _)| name)).collect()
}

/// What is wrong with one operation's parameters and error answers.
fn problems_of(method: &str, path: &str, op: &Value) -> Vec<String> {
    let mut wrong = Vec::new();
    let params = op["parameters"].as_array().cloned().unwrap_or_default();
    let template = template_names(path);
    let mut in_path = BTreeSet::new();
    for p in &params {
        let name = p["name"].as_str().unwrap_or("?");
        if p["in"] == "path" {
            in_path.insert(name.to_owned());
            if !template.contains(name) {
                wrong.push(format!("{method} {path}: `{name}` is declared in: path, but the path has no {{{name}}}"));
            }
            if p["required"] != json!(true) {
                wrong.push(format!("{method} {path}: path parameter `{name}` is not required"));
            }
        }
    }
    for name in template.iter().filter(|n| !in_path.contains(**n)) {
        wrong.push(format!("{method} {path}: path parameter `{name}` is not declared"));
    }
    let responses = op["responses"].as_object().cloned().unwrap_or_default();
    let problem = |status: &str| {
        responses.get(status).is_some_and(|r| {
            r["content"]["application/problem+json"]["schema"]["$ref"] == "#/components/schemas/Problem"
        })
    };
    for status in responses.keys().filter(|s| s.starts_with('4')) {
        if !problem(status) {
            wrong.push(format!("{method} {path}: {status} is not an application/problem+json Problem"));
        }
    }
    let caller = op["security"].as_array().is_some_and(|s| !s.is_empty());
    let body = op.get("requestBody").is_some();
    let query = params.iter().any(|p| p["in"] == "query");
    let expected = [
        (caller, &["401", "403"][..]),
        (!template.is_empty(), &["404"]),
        (body, &["400", "413", "415", "422"]),
        (query, &["400", "422"]),
        (true, &["500"]),
    ];
    for status in expected.iter().filter(|(applies, _)| *applies).flat_map(|(_, s)| s.iter()) {
        if !problem(status) {
            wrong.push(format!("{method} {path}: no {status} problem answer"));
        }
    }
    wrong
}

#[tokio::test]
async fn every_operation_declares_its_parameters_and_problem_answers() {
    let app = TestApp::spawn().await;
    let doc = app.client().get("/api/openapi.json").await.body;
    let mut wrong = Vec::new();
    let mut count = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                count += 1;
                wrong.extend(problems_of(method, path, op));
            }
        }
    }
    assert!(count >= 79, "only {count} operations");
    assert!(wrong.is_empty(), "{} mistakes in the OpenAPI document:\n{}", wrong.len(), wrong.join("\n"));
    let problem = &doc["components"]["schemas"]["Problem"];
    assert!(problem["required"].as_array().is_some_and(|r| r.contains(&json!("status"))), "{problem}");
    // Every conflict code a 409 can carry is documented.
    let codes = problem["properties"]["code"]["description"].as_str().unwrap_or_default();
    for conflict in usher_core::Conflict::ALL {
        assert!(codes.contains(&format!("`{}`", conflict.code())), "{} undocumented: {problem}", conflict.code());
    }
}

#[tokio::test]
async fn list_parameters_are_query_parameters() {
    let app = TestApp::spawn().await;
    let doc = app.client().get("/api/openapi.json").await.body;
    let param = |path: &str, method: &str, name: &str| {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == name).cloned())
            .unwrap_or_else(|| panic!("{method} {path}: no parameter {name}"))
    };
    for path in [
        "/api/v1/users",
        "/api/v1/apps",
        "/api/v1/groups",
        "/api/v1/groups/{id}/members",
        "/api/v1/invitations",
        "/api/v1/audit-events",
        "/api/v1/me/apps",
        "/api/v1/me/sessions",
        "/api/v1/me/tokens",
        "/api/v1/users/{id}/tokens",
    ] {
        for name in ["limit", "cursor"] {
            let p = param(path, "get", name);
            assert_eq!((p["in"].as_str(), p["required"].as_bool().unwrap_or(false)), (Some("query"), false), "{path}");
        }
        assert_eq!(param(path, "get", "limit")["schema"]["minimum"], 1, "{path}");
    }
    assert_eq!(param("/api/v1/me/sessions", "delete", "include_current")["in"], "query");
    assert_eq!(param("/api/v1/users/{id}/tokens/{token_id}", "delete", "token_id")["in"], "path");
}

#[tokio::test]
async fn schemas_state_the_limits_the_server_enforces() {
    let app = TestApp::spawn().await;
    let doc = app.client().get("/api/openapi.json").await.body;
    let schemas = &doc["components"]["schemas"];
    let prop = |schema: &str, field: &str| {
        let p = &schemas[schema]["properties"][field];
        assert!(p.is_object(), "{schema}.{field}");
        p.clone()
    };
    assert_eq!(prop("TokenCreate", "scopes")["minItems"], 1);
    assert_eq!(prop("TokenCreate", "description")["maxLength"], 200);
    assert_eq!(prop("UserCreate", "user_id")["maxLength"], 200);
    assert_eq!(
        (prop("GroupCreate", "name")["minLength"].clone(), prop("GroupCreate", "name")["maxLength"].clone()),
        (json!(1), json!(100))
    );
    assert_eq!(prop("GroupCreate", "description")["maxLength"], 2000);
    assert_eq!(prop("AppCreate", "url")["maxLength"], 2000);
    assert_eq!(
        (
            prop("PasswordPolicyBody", "min_length")["minimum"].clone(),
            prop("PasswordPolicyBody", "min_length")["maximum"].clone()
        ),
        (json!(1), json!(128))
    );
    assert_eq!(prop("PasswordPolicyBody", "min_strength")["maximum"], 4);
    assert_eq!(prop("PasswordPolicyBody", "history")["maximum"], 24);
    assert_eq!(prop("TokenPolicyBody", "default_lifetime_days")["maximum"], 3650);
    assert_eq!(prop("InvitationTemplateBody", "subject")["maxLength"], 200);
    assert_eq!(prop("InvitationTemplateBody", "body")["maxLength"], 10000);
    assert_eq!(prop("MetadataFields", "fields")["maxItems"], 50);
}

#[tokio::test]
async fn the_audit_export_is_a_documented_file_with_the_lists_filters() {
    let app = TestApp::spawn().await;
    let doc = app.client().get("/api/openapi.json").await.body;
    let export = &doc["paths"]["/api/v1/audit-events/export"]["get"];
    let ok = &export["responses"]["200"];
    let types: BTreeSet<&str> = ok["content"].as_object().expect("content").keys().map(String::as_str).collect();
    assert_eq!(types, BTreeSet::from(["text/csv", "application/jsonl"]), "{ok}");
    assert!(ok["headers"]["Content-Disposition"].is_object(), "{ok}");
    let names = |op: &Value| -> BTreeSet<String> {
        op["parameters"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect()
    };
    let list = &doc["paths"]["/api/v1/audit-events"]["get"];
    let filters: BTreeSet<String> =
        names(list).into_iter().filter(|n| n != "limit" && n != "cursor").chain(["format".to_owned()]).collect();
    assert_eq!(names(export), filters, "the export takes the list's filters");
    for op in [list, export] {
        let family = op["parameters"].as_array().unwrap().iter().find(|p| p["name"] == "family").unwrap();
        assert_ne!(family["required"], json!(true));
        let known: Vec<&str> =
            family["schema"]["enum"].as_array().expect("an enum").iter().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(known, usher_core::audit::families(), "{family}");
    }
    let format = export["parameters"].as_array().unwrap().iter().find(|p| p["name"] == "format").unwrap();
    assert_ne!(format["required"], json!(true));
    assert_eq!(format["schema"]["enum"], json!(["csv", "jsonl"]), "{format}");
}
