use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn bad_requests_get_problem_json_never_a_500() {
    let app = TestApp::spawn().await;
    let (_, mut c) = app.user("uma").await;
    let cases: Vec<(Method, &str, &str, Vec<u8>, StatusCode)> = vec![
        (Method::POST, "/api/v1/auth/login", "application/json", b"{not json".to_vec(), StatusCode::BAD_REQUEST),
        (
            Method::POST,
            "/api/v1/auth/login",
            "application/json",
            b"{\"login\": 5, \"password\": \"x\"}".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Method::POST,
            "/api/v1/auth/login",
            "application/json",
            b"{\"login\": \"a\", \"password\": \"x\", \"admin\": true}".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (Method::POST, "/api/v1/auth/login", "text/plain", b"login=a".to_vec(), StatusCode::UNSUPPORTED_MEDIA_TYPE),
        (Method::PATCH, "/api/v1/me", "application/json", b"[1,2,3]".to_vec(), StatusCode::UNPROCESSABLE_ENTITY),
        (
            Method::PATCH,
            "/api/v1/me",
            "application/json",
            b"{\"phone\": {\"a\": 1}}".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (Method::PATCH, "/api/v1/me", "application/json", vec![b'"'; 200_000], StatusCode::PAYLOAD_TOO_LARGE),
        (Method::PUT, "/api/v1/me/password", "application/json", b"{}".to_vec(), StatusCode::UNPROCESSABLE_ENTITY),
        (Method::GET, "/api/v1/nothing-here", "application/json", vec![], StatusCode::NOT_FOUND),
        (Method::DELETE, "/api/v1/me", "application/json", vec![], StatusCode::METHOD_NOT_ALLOWED),
        (Method::GET, "/api/v1/auth/login", "application/json", vec![], StatusCode::METHOD_NOT_ALLOWED),
    ];
    for (method, path, ct, body, expected) in cases {
        let res = c.raw(method.clone(), path, ct, body).await;
        assert_eq!(res.status, expected, "{method} {path}: {}", res.body);
        assert_eq!(res.content_type(), "application/problem+json", "{method} {path}");
        assert_eq!(res.body["status"], expected.as_u16());
        for key in ["type", "title", "detail"] {
            assert!(res.body[key].is_string(), "{key} in {}", res.body);
        }
    }
}

#[tokio::test]
async fn unauthenticated_calls_are_401_problems() {
    let app = TestApp::spawn().await;
    let mut c = app.client();
    for path in ["/api/v1/me", "/api/v1/audit-events", "/api/v1/settings/password-policy"] {
        let res = c.get(path).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(res.content_type(), "application/problem+json");
    }
    let res = c.patch("/api/v1/me", json!({ "first_name": "x" })).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    let res = c.http.get(format!("{}/api/v1/me", app.base)).bearer_auth("ush_not_a_token").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn health_security_headers_and_the_openapi_document() {
    let app = TestApp::spawn().await;
    let mut c = app.client();
    let health = c.get("/healthz").await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.body["status"], "ok");
    for (name, value) in
        [("x-content-type-options", "nosniff"), ("x-frame-options", "DENY"), ("cache-control", "no-store")]
    {
        assert_eq!(health.headers.get(name).unwrap(), value, "{name}");
    }
    assert!(health.headers.get("content-security-policy").unwrap().to_str().unwrap().contains("default-src 'self'"));

    let doc = c.get("/api/openapi.json").await.body;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/v1/auth/login", "post"),
        ("/api/v1/auth/logout", "post"),
        ("/api/v1/me", "get"),
        ("/api/v1/me", "patch"),
        ("/api/v1/me/password", "put"),
        ("/api/v1/settings/password-policy", "get"),
        ("/api/v1/settings/password-policy", "put"),
        ("/api/v1/settings/password-policy/presets", "get"),
        ("/api/v1/audit-events", "get"),
        ("/healthz", "get"),
    ] {
        assert!(paths.get(path).and_then(|p| p.get(method)).is_some(), "{method} {path} is documented");
    }
    for schema in ["UserBody", "ProfilePatch", "PasswordPolicyBody", "Problem", "LoginRequest"] {
        assert!(doc["components"]["schemas"].get(schema).is_some(), "{schema}");
    }
}
