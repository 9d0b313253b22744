//! The authorization matrix: every operation of `/api/openapi.json`, called by
//! every kind of caller, against the table below, the test's own statement of
//! `usher_core::access::policy`. An operation missing from the table fails the
//! test, so new endpoints must say who may call them.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    helpers::{Res, TestApp, USER_PASSWORD},
    matrix::{Fixtures, Matrix, WHO},
};

/// `A`: allowed (any answer but 401/403); `D`: denied (403, or 401 for anonymous).
/// Columns: anonymous, User, Developer, User Manager, Administrator, App Owner
/// (a User who owns the app the path names, and some app).
pub const TABLE: &[(&str, &str, &str)] = &[
    ("GET", "/healthz", "AAAAAA"),
    ("GET", "/readyz", "AAAAAA"),
    // Sign-in and self-service recovery are public.
    ("POST", "/api/v1/auth/login", "AAAAAA"),
    ("POST", "/api/v1/auth/login/mfa", "AAAAAA"),
    ("POST", "/api/v1/auth/logout", "DAAAAA"),
    ("POST", "/api/v1/auth/password-reset", "AAAAAA"),
    ("POST", "/api/v1/auth/password-reset/complete", "AAAAAA"),
    // Invitation links: public (the token is the proof); the rest is people management.
    ("GET", "/api/v1/invitations/{id}", "AAAAAA"),
    ("POST", "/api/v1/invitations/{id}/accept", "AAAAAA"),
    ("GET", "/api/v1/invitations", "DDDAAD"),
    ("POST", "/api/v1/invitations", "DDDAAD"),
    ("DELETE", "/api/v1/invitations/{id}", "DDDAAD"),
    ("POST", "/api/v1/invitations/{id}/resend", "DDDAAD"),
    // Oneself.
    ("GET", "/api/v1/me", "DAAAAA"),
    ("PATCH", "/api/v1/me", "DAAAAA"),
    ("PUT", "/api/v1/me/password", "DAAAAA"),
    ("GET", "/api/v1/me/sessions", "DAAAAA"),
    ("DELETE", "/api/v1/me/sessions", "DAAAAA"),
    ("DELETE", "/api/v1/me/sessions/{id}", "DAAAAA"),
    ("GET", "/api/v1/me/mfa", "DAAAAA"),
    ("POST", "/api/v1/me/mfa/totp", "DAAAAA"),
    ("POST", "/api/v1/me/mfa/totp/confirm", "DAAAAA"),
    ("DELETE", "/api/v1/me/mfa/totp", "DAAAAA"),
    ("POST", "/api/v1/me/mfa/recovery-codes", "DAAAAA"),
    ("GET", "/api/v1/me/apps", "DAAAAA"),
    ("GET", "/api/v1/me/tokens", "DAAAAA"),
    ("POST", "/api/v1/me/tokens", "DAAAAA"),
    ("GET", "/api/v1/me/tokens/{id}", "DAAAAA"),
    ("PATCH", "/api/v1/me/tokens/{id}", "DAAAAA"),
    ("DELETE", "/api/v1/me/tokens/{id}", "DAAAAA"),
    ("POST", "/api/v1/me/tokens/{id}/revoke", "DAAAAA"),
    ("POST", "/api/v1/me/tokens/{id}/regenerate", "DAAAAA"),
    // Users: Administrators and User Managers.
    ("GET", "/api/v1/users", "DDDAAD"),
    ("POST", "/api/v1/users", "DDDAAD"),
    ("GET", "/api/v1/users/{id}", "DDDAAD"),
    ("PATCH", "/api/v1/users/{id}", "DDDAAD"),
    ("DELETE", "/api/v1/users/{id}", "DDDAAD"),
    ("POST", "/api/v1/users/{id}/disable", "DDDAAD"),
    ("POST", "/api/v1/users/{id}/enable", "DDDAAD"),
    ("POST", "/api/v1/users/{id}/password-reset", "DDDAAD"),
    ("GET", "/api/v1/users/{id}/failed-logins", "DDDAAD"),
    ("GET", "/api/v1/users/{id}/security", "DDDAAD"),
    ("POST", "/api/v1/users/{id}/mfa/reset", "DDDAAD"),
    ("POST", "/api/v1/users/{id}/unlock", "DDDAAD"),
    ("GET", "/api/v1/users/{id}/sessions", "DDDAAD"),
    ("DELETE", "/api/v1/users/{id}/sessions", "DDDAAD"),
    ("GET", "/api/v1/users/{id}/tokens", "DDDAAD"),
    ("POST", "/api/v1/users/{id}/tokens", "DDDAAD"),
    ("DELETE", "/api/v1/users/{id}/tokens/{token_id}", "DDDAAD"),
    ("GET", "/api/v1/users/{id}/roles", "DDDAAD"),
    ("PUT", "/api/v1/users/{id}/roles", "DDDAAD"),
    // Groups: people managers; Developers and App Owners may list them.
    ("GET", "/api/v1/groups", "DDAAAA"),
    ("POST", "/api/v1/groups", "DDDAAD"),
    ("GET", "/api/v1/groups/{id}", "DDAAAA"),
    ("PATCH", "/api/v1/groups/{id}", "DDDAAD"),
    ("DELETE", "/api/v1/groups/{id}", "DDDAAD"),
    ("GET", "/api/v1/groups/{id}/members", "DDDAAD"),
    ("PUT", "/api/v1/groups/{id}/members", "DDDAAD"),
    ("POST", "/api/v1/groups/{id}/members", "DDDAAD"),
    ("DELETE", "/api/v1/groups/{id}/members/{user_id}", "DDDAAD"),
    // Apps.
    ("GET", "/api/v1/apps", "DDAAAD"),
    ("POST", "/api/v1/apps", "DDADAD"),
    ("GET", "/api/v1/apps/{id}", "DDAAAA"),
    ("PATCH", "/api/v1/apps/{id}", "DDDDAA"),
    ("DELETE", "/api/v1/apps/{id}", "DDDDAD"),
    ("GET", "/api/v1/apps/{id}/groups", "DDAAAA"),
    ("PUT", "/api/v1/apps/{id}/groups", "DDDDAA"),
    // Settings and audit: Administrators; User Managers read the invitation text.
    ("GET", "/api/v1/settings/password-policy", "DDDDAD"),
    ("PUT", "/api/v1/settings/password-policy", "DDDDAD"),
    ("GET", "/api/v1/settings/password-policy/presets", "DDDDAD"),
    ("GET", "/api/v1/settings/token-policy", "DDDDAD"),
    ("PUT", "/api/v1/settings/token-policy", "DDDDAD"),
    ("GET", "/api/v1/settings/mfa", "DDDDAD"),
    ("PUT", "/api/v1/settings/mfa", "DDDDAD"),
    ("GET", "/api/v1/settings/invitation-template", "DDDAAD"),
    ("PUT", "/api/v1/settings/invitation-template", "DDDDAD"),
    // Custom metadata fields: people managers read them (they fill them in), Administrators define them.
    ("GET", "/api/v1/settings/metadata-fields", "DDDAAD"),
    ("PUT", "/api/v1/settings/metadata-fields", "DDDDAD"),
    ("POST", "/api/v1/settings/invitation-template/preview", "DDDAAD"),
    ("GET", "/api/v1/audit-events", "DDDDAD"),
    ("GET", "/api/v1/audit-events/export", "DDDDAD"),
];

/// Calls that end the caller's session: sign in again afterwards.
const ENDS_SESSION: &[(&str, &str)] = &[("POST", "/api/v1/auth/logout")];

/// Every operation the OpenAPI document lists, as `METHOD path`.
async fn documented(app: &TestApp) -> BTreeSet<(String, String)> {
    let doc = app.client().get("/api/openapi.json").await.body;
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "put", "post", "patch", "delete", "head", "options", "trace"] {
            if item.get(method).is_some() {
                ops.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    ops
}

/// A body good enough to reach the authorization check.
pub async fn body(fx: &mut Fixtures<'_>, method: &str, template: &str) -> Option<Value> {
    let n = fx.next();
    let token = json!({ "description": "matrix", "scopes": ["read"] });
    let body = match (method, template) {
        ("GET", _) => return None,
        ("POST", "/api/v1/auth/login") => json!({ "login": "nobody", "password": "not the password" }),
        // Neither code nor recovery code: refused as input, after no authentication.
        ("POST", "/api/v1/auth/login/mfa") => json!({ "ticket": "no-ticket" }),
        ("POST", "/api/v1/me/mfa/totp/confirm") => json!({ "code": "000000" }),
        ("DELETE", "/api/v1/me/mfa/totp") | ("POST", "/api/v1/me/mfa/recovery-codes") => {
            json!({ "password": "not the password" })
        }
        ("POST", "/api/v1/auth/password-reset") => json!({ "login": format!("nobody{n}") }),
        ("POST", "/api/v1/auth/password-reset/complete") => {
            json!({ "token": "not-a-token", "new_password": USER_PASSWORD })
        }
        ("POST", "/api/v1/invitations") => json!({ "email": format!("invitee{n}@example.org"), "send": false }),
        ("POST", "/api/v1/invitations/{id}/accept") => json!({
            "user_id": format!("new{n}"), "first_name": "New", "last_name": "User", "password": USER_PASSWORD,
        }),
        ("PATCH", "/api/v1/me") => json!({ "company": "Matrix" }),
        ("PUT", "/api/v1/me/password") => {
            json!({ "current_password": "not the password", "new_password": "Quartz-Lantern-Orbit-93" })
        }
        ("POST", "/api/v1/me/tokens" | "/api/v1/users/{id}/tokens") => token,
        ("PATCH", "/api/v1/me/tokens/{id}") => json!({ "description": "renamed" }),
        ("POST", "/api/v1/users") => {
            json!({ "user_id": format!("made{n}"), "first_name": "Made", "last_name": "Here" })
        }
        ("PATCH", "/api/v1/users/{id}") => json!({ "company": "Matrix" }),
        ("POST", "/api/v1/users/{id}/password-reset") => json!({ "mode": "temporary" }),
        ("PUT", "/api/v1/users/{id}/roles") => json!({ "roles": [{ "role": "developer" }] }),
        ("POST", "/api/v1/groups") => json!({ "name": format!("New group {n}") }),
        ("PATCH", "/api/v1/groups/{id}") => json!({ "description": "changed" }),
        ("PUT", "/api/v1/groups/{id}/members") => json!({ "user_ids": [] }),
        ("POST", "/api/v1/groups/{id}/members") => json!({ "user_id": fx.user().await }),
        ("POST", "/api/v1/apps") => json!({ "name": format!("New app {n}") }),
        ("PATCH", "/api/v1/apps/{id}") => json!({ "description": "changed" }),
        ("PUT", "/api/v1/apps/{id}/groups") => json!({ "group_ids": [] }),
        ("PUT", settings) if settings.starts_with("/api/v1/settings/") => {
            let res = fx.root.get(settings).await;
            assert_eq!(res.status, StatusCode::OK, "{settings}: {}", res.body);
            res.body
        }
        ("POST", "/api/v1/settings/invitation-template/preview") => {
            fx.root.get("/api/v1/settings/invitation-template").await.body
        }
        ("DELETE", _) => return None,
        _ => json!({}),
    };
    Some(body)
}

/// A refusal of the caller: 403, or 401 because nobody (or no valid token) is
/// signed in. Other 401s (a wrong password or code) are answers, not refusals.
pub fn denied(res: &Res) -> bool {
    let kind = res.body["type"].as_str().unwrap_or("");
    res.status == StatusCode::FORBIDDEN
        || (res.status == StatusCode::UNAUTHORIZED
            && ["urn:usher:problem:unauthenticated", "urn:usher:problem:invalid-token"].contains(&kind))
}

#[tokio::test]
async fn every_endpoint_allows_and_denies_every_role_as_the_table_says() {
    let app = TestApp::spawn().await;
    let mut m = Matrix::new(&app).await;

    let documented = documented(&app).await;
    let table: BTreeSet<(String, String)> = TABLE.iter().map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned())).collect();
    let missing: Vec<_> = documented.difference(&table).map(|(m, p)| format!("{m} {p}")).collect();
    let stale: Vec<_> = table.difference(&documented).map(|(m, p)| format!("{m} {p}")).collect();
    assert!(missing.is_empty(), "operations with no row in the authorization table: {missing:#?}");
    assert!(stale.is_empty(), "rows for operations the API no longer has: {stale:#?}");
    assert_eq!(table.len(), TABLE.len(), "a row is repeated");

    let mut wrong = Vec::new();
    for (method, template, expected) in TABLE {
        assert_eq!(expected.len(), WHO.len(), "{method} {template}");
        for (i, want) in expected.chars().enumerate() {
            let path = m.fx.path(template).await;
            let body = body(&mut m.fx, method, template).await;
            let res = m.callers[i].client.send(Method::from_bytes(method.as_bytes()).unwrap(), &path, body).await;
            let got = if denied(&res) { 'D' } else { 'A' };
            if got != want {
                wrong.push(format!(
                    "{method} {template} as {}: expected {want}, got {} {}",
                    WHO[i], res.status, res.body
                ));
            }
            if i == 0 && want == 'D' && res.status != StatusCode::UNAUTHORIZED {
                wrong.push(format!("{method} {template} as anonymous: expected 401, got {}", res.status));
            }
            if i > 0 && ENDS_SESSION.contains(&(*method, *template)) {
                m.sign_in_again(i).await;
            }
        }
    }
    assert!(wrong.is_empty(), "{} calls disagree with the table:\n{}", wrong.len(), wrong.join("\n"));
}
