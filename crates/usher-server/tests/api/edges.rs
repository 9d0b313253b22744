//! The API and the web pages answer alike: for each operation both edges
//! offer, every kind of caller is allowed on both or denied on both.

use reqwest::Method;

use crate::{
    authz,
    helpers::TestApp,
    matrix::{Matrix, WHO},
    web_authz,
};

/// (API call, web call) doing the same operation. A third word on the web
/// side, `key=value`, replaces that field of the row's form.
const PAIRS: &[(&str, &str)] = &[
    // Users.
    ("GET /api/v1/users", "GET /admin/users"),
    ("POST /api/v1/users", "POST /admin/users/new"),
    ("GET /api/v1/users/{id}", "GET /admin/users/{id}"),
    ("PATCH /api/v1/users/{id}", "POST /admin/users/{id}"),
    ("POST /api/v1/users/{id}/disable", "POST /admin/users/{id}/disable"),
    ("POST /api/v1/users/{id}/enable", "POST /admin/users/{id}/enable"),
    ("DELETE /api/v1/users/{id}", "POST /admin/users/{id}/delete"),
    ("POST /api/v1/users/{id}/password-reset", "POST /admin/users/{id}/password-reset"),
    ("DELETE /api/v1/users/{id}/sessions", "POST /admin/users/{id}/sessions/end"),
    ("GET /api/v1/users/{id}/security", "GET /admin/users/{id}/security"),
    ("POST /api/v1/users/{id}/mfa/reset", "POST /admin/users/{id}/security/mfa-reset"),
    ("POST /api/v1/users/{id}/unlock", "POST /admin/users/{id}/security/unlock"),
    ("GET /api/v1/users/{id}/roles", "GET /admin/users/{id}/roles"),
    ("PUT /api/v1/users/{id}/roles", "POST /admin/users/{id}/roles"),
    ("GET /api/v1/users/{id}/tokens", "GET /admin/users/{id}/tokens"),
    ("POST /api/v1/users/{id}/tokens", "POST /admin/users/{id}/tokens"),
    ("DELETE /api/v1/users/{id}/tokens/{token_id}", "POST /admin/users/{id}/tokens/{token_id}/delete"),
    ("GET /api/v1/invitations", "GET /admin/invitations"),
    ("POST /api/v1/invitations", "POST /admin/invitations"),
    ("POST /api/v1/invitations/{id}/resend", "POST /admin/invitations/{id}/resend"),
    ("DELETE /api/v1/invitations/{id}", "POST /admin/invitations/{id}/withdraw"),
    // Groups.
    ("GET /api/v1/groups", "GET /admin/groups"),
    ("POST /api/v1/groups", "POST /admin/groups"),
    ("GET /api/v1/groups/{id}", "GET /admin/groups/{id}"),
    ("PATCH /api/v1/groups/{id}", "POST /admin/groups/{id}"),
    ("POST /api/v1/groups/{id}/members", "POST /admin/groups/{id}/members"),
    ("DELETE /api/v1/groups/{id}/members/{user_id}", "POST /admin/groups/{id}/members/{user_id}/remove"),
    ("DELETE /api/v1/groups/{id}", "POST /admin/groups/{id}/delete"),
    // Apps.
    ("GET /api/v1/apps", "GET /admin/apps"),
    ("POST /api/v1/apps", "POST /admin/apps"),
    ("GET /api/v1/apps/{id}", "GET /admin/apps/{id}"),
    ("PATCH /api/v1/apps/{id}", "POST /admin/apps/{id}"),
    ("PUT /api/v1/apps/{id}/groups", "POST /admin/apps/{id}/groups"),
    ("DELETE /api/v1/apps/{id}", "POST /admin/apps/{id}/delete"),
    // Settings and audit.
    ("GET /api/v1/settings/password-policy", "GET /admin/settings/password-policy"),
    ("PUT /api/v1/settings/password-policy", "POST /admin/settings/password-policy"),
    ("GET /api/v1/settings/token-policy", "GET /admin/settings/token-policy"),
    ("PUT /api/v1/settings/token-policy", "POST /admin/settings/token-policy"),
    ("GET /api/v1/settings/mfa", "GET /admin/settings/two-step"),
    ("PUT /api/v1/settings/mfa", "POST /admin/settings/two-step"),
    ("GET /api/v1/settings/invitation-template", "GET /admin/settings/invitation-template"),
    ("PUT /api/v1/settings/invitation-template", "POST /admin/settings/invitation-template"),
    ("POST /api/v1/settings/invitation-template/preview", "POST /admin/settings/invitation-template action=preview"),
    ("GET /api/v1/settings/metadata-fields", "GET /admin/settings/metadata-fields"),
    ("PUT /api/v1/settings/metadata-fields", "POST /admin/settings/metadata-fields"),
    ("GET /api/v1/audit-events", "GET /admin/audit"),
    ("GET /api/v1/audit-events/export", "GET /admin/audit/export"),
    // Oneself.
    ("GET /api/v1/me", "GET /profile"),
    ("PATCH /api/v1/me", "POST /profile"),
    ("PUT /api/v1/me/password", "POST /profile/security/password"),
    ("GET /api/v1/me/sessions", "GET /profile/security"),
    ("DELETE /api/v1/me/sessions/{id}", "POST /profile/security/sessions/{id}/end"),
    ("POST /api/v1/me/mfa/totp/confirm", "POST /profile/security/two-step"),
    ("DELETE /api/v1/me/mfa/totp", "POST /profile/security/two-step/disable"),
    ("POST /api/v1/me/mfa/recovery-codes", "POST /profile/security/two-step/recovery-codes"),
    ("GET /api/v1/me/tokens", "GET /profile/tokens"),
    ("POST /api/v1/me/tokens", "POST /profile/tokens"),
    ("PATCH /api/v1/me/tokens/{id}", "POST /profile/tokens/{id}/edit"),
    ("POST /api/v1/me/tokens/{id}/regenerate", "POST /profile/tokens/{id}/regenerate"),
    ("POST /api/v1/me/tokens/{id}/revoke", "POST /profile/tokens/{id}/revoke"),
    ("DELETE /api/v1/me/tokens/{id}", "POST /profile/tokens/{id}/delete"),
    ("GET /api/v1/me/apps", "GET /apps"),
    // Public: signing in, recovery, invitation links.
    ("POST /api/v1/auth/login", "POST /login"),
    ("POST /api/v1/auth/login/mfa", "POST /login/mfa"),
    ("POST /api/v1/auth/password-reset", "POST /forgot-password"),
    ("POST /api/v1/auth/password-reset/complete", "POST /reset-password/{token}"),
    ("GET /api/v1/invitations/{id}", "GET /register/{token}"),
    ("POST /api/v1/invitations/{id}/accept", "POST /register/{token}"),
];

#[tokio::test]
async fn api_and_web_agree() {
    let app = TestApp::spawn().await;
    let mut m = Matrix::new(&app).await;
    let mut wrong = Vec::new();
    for (api, web) in PAIRS {
        let (api_method, api_path) = api.split_once(' ').unwrap();
        let mut web_words = web.split(' ');
        let (web_method, row) = (web_words.next().unwrap(), web_words.next().unwrap());
        let replace = web_words.next().map(|kv| kv.split_once('=').expect("key=value"));
        assert!(authz::TABLE.iter().any(|(m, p, _)| (*m, *p) == (api_method, api_path)), "no API row for {api}");
        let web_row = web_authz::TABLE.iter().find(|(p, _, _)| *p == row);
        let answered = web_row.is_some_and(|(_, get, post)| (if web_method == "GET" { get } else { post }) != &"-");
        assert!(answered, "no web row answering {web}");

        for (i, who) in WHO.iter().enumerate() {
            let path = m.fx.path(api_path).await;
            let body = authz::body(&mut m.fx, api_method, api_path).await;
            let method = Method::from_bytes(api_method.as_bytes()).unwrap();
            let res = m.callers[i].client.send(method, &path, body).await;
            let by_api = if authz::denied(&res) { 'D' } else { 'A' };

            let path = m.fx.path(row).await;
            let res = web_authz::call(&mut m, i, web_method, row, &path, replace).await;
            let by_web = web_authz::answer(&res).unwrap_or_else(|e| panic!("{web} as {who}: {e}"));
            if by_api != by_web {
                wrong.push(format!("{who}: {api} says {by_api}, {web} says {by_web} ({})", res.status));
            }
        }
    }
    assert!(wrong.is_empty(), "{} answers differ between the edges:\n{}", wrong.len(), wrong.join("\n"));
}

/// Every page the main navigation can link to.
const NAV_TARGETS: [&str; 13] = [
    "/admin",
    "/profile",
    "/apps",
    "/admin/users",
    "/admin/invitations",
    "/admin/groups",
    "/admin/apps",
    "/admin/settings/password-policy",
    "/admin/settings/token-policy",
    "/admin/settings/metadata-fields",
    "/admin/settings/two-step",
    "/admin/settings/invitation-template",
    "/admin/audit",
];

/// The navigation comes from the same policy as the pages: each signed-in
/// caller sees a link to exactly the pages that open for them (an App Owner
/// lists groups from their app's page, not from the navigation).
#[tokio::test]
async fn the_navigation_links_exactly_the_pages_that_open() {
    let app = TestApp::spawn().await;
    let mut m = Matrix::new(&app).await;
    let mut wrong = Vec::new();
    for (i, who) in WHO.iter().enumerate().skip(1) {
        let page = m.callers[i].client.get("/profile").await;
        let html = page.body.as_str().unwrap_or("").to_owned();
        let nav = html.split("class=\"sidenav\"").nth(1).and_then(|s| s.split("</nav>").next()).unwrap_or("");
        assert!(nav.contains("href=\"/profile\""), "{who}: no navigation in {html}");
        for target in NAV_TARGETS {
            let linked = nav.contains(&format!("href=\"{target}\""));
            let opens = m.callers[i].client.get(target).await.status == reqwest::StatusCode::OK;
            let reached_elsewhere = *who == "app_owner" && target == "/admin/groups";
            if linked != opens && !(opens && reached_elsewhere) {
                wrong.push(format!("{who}: {target} linked {linked}, opens {opens}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Input an edge reads before the service sees it: bad input from someone the
/// policy refuses answers the refusal, and the same input from someone allowed
/// answers its problems.
#[tokio::test]
async fn bad_input_from_someone_refused_is_refused_first() {
    use reqwest::StatusCode;
    use serde_json::json;

    let app = TestApp::spawn().await;
    let (admin_user, mut admin) = app.admin().await;
    let (_, mut user) = app.user("ursula").await;
    let id = admin_user.id;
    let bad_field = json!({ "fields": [{ "name": "9lives", "label": "L", "type": "text" }] });
    let calls: Vec<(Method, String, Option<serde_json::Value>)> = vec![
        (Method::GET, "/api/v1/users?fields=password_hash".into(), None),
        (Method::GET, format!("/api/v1/users/{id}/tokens?status=bogus"), None),
        (Method::GET, "/api/v1/audit-events?cursor=bogus".into(), None),
        (Method::GET, "/api/v1/invitations?cursor=bogus".into(), None),
        (Method::POST, "/api/v1/invitations".into(), Some(json!({ "email": "x@example.org", "roles": ["bogus"] }))),
        (Method::PUT, "/api/v1/settings/metadata-fields".into(), Some(bad_field)),
        (Method::PATCH, format!("/api/v1/users/{id}"), Some(json!({ "email": "new@example.org" }))),
    ];
    for (method, path, body) in calls {
        let refused = user.send(method.clone(), &path, body.clone()).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{method} {path} as a User: {}", refused.body);
        let problems = admin.send(method.clone(), &path, body).await;
        assert_eq!(problems.status, StatusCode::UNPROCESSABLE_ENTITY, "{method} {path}: {}", problems.body);
    }
}
