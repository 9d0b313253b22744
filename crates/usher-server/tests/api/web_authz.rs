//! The authorization matrix of the web pages: every path of
//! `usher_server::web::paths()`, asked with GET and with POST by every kind of
//! caller, against the table below, the test's own statement of
//! `usher_core::access::policy`. It says what the API matrix (`authz`) says
//! for the same operation. A path with no row, or a row naming no path, fails
//! the test, so a new page must say who may open it.

use reqwest::StatusCode;
use usher_domain::Language;
use usher_server::web::i18n::Tr;

use crate::{
    helpers::{Res, TestApp, USER_PASSWORD},
    matrix::{Caller, Fixtures, Matrix, WHO},
};

/// Per column, as in `authz`: anonymous, User, Developer, User Manager,
/// Administrator, App Owner (a User who owns the app the path names, and some
/// app). `A`: allowed (any answer but a refusal); `D`: denied (a 403 page, or
/// for anonymous the redirect to the sign-in page); a lone `-`: the path does
/// not answer the method (405). A row may name an app role in place of
/// `{role}`: the path then stands for that role only.
pub const TABLE: &[(&str, &str, &str)] = &[
    // (path, GET, POST)
    // Signing in and out, links sent by email, first setup: public.
    ("/", "DAAAAA", "-"),
    ("/login", "AAAAAA", "AAAAAA"),
    ("/login/mfa", "-", "AAAAAA"),
    ("/logout", "-", "DAAAAA"),
    ("/forgot-password", "AAAAAA", "AAAAAA"),
    ("/reset-password/{token}", "AAAAAA", "AAAAAA"),
    ("/register/{token}", "AAAAAA", "AAAAAA"),
    ("/setup/{token}", "AAAAAA", "AAAAAA"),
    ("/static/usher.css", "AAAAAA", "-"),
    ("/static/usher.js", "AAAAAA", "-"),
    ("/static/favicon.svg", "AAAAAA", "-"),
    // Oneself: profile, security, sessions, two-step, API tokens, apps.
    ("/profile", "DAAAAA", "DAAAAA"),
    ("/password-change", "DAAAAA", "DAAAAA"),
    ("/profile/security", "DAAAAA", "-"),
    ("/profile/security/password", "-", "DAAAAA"),
    ("/profile/security/two-step", "DAAAAA", "DAAAAA"),
    ("/profile/security/two-step/restart", "-", "DAAAAA"),
    ("/profile/security/two-step/disable", "-", "DAAAAA"),
    ("/profile/security/two-step/recovery-codes", "-", "DAAAAA"),
    ("/profile/security/sessions/{id}/end", "DAAAAA", "DAAAAA"),
    ("/profile/security/sessions/end-others", "DAAAAA", "DAAAAA"),
    ("/profile/security/sessions/end-all", "DAAAAA", "DAAAAA"),
    ("/profile/tokens", "DAAAAA", "DAAAAA"),
    ("/profile/tokens/{id}/edit", "DAAAAA", "DAAAAA"),
    ("/profile/tokens/{id}/regenerate", "DAAAAA", "DAAAAA"),
    ("/profile/tokens/{id}/revoke", "DAAAAA", "DAAAAA"),
    ("/profile/tokens/{id}/delete", "DAAAAA", "DAAAAA"),
    ("/apps", "DAAAAA", "-"),
    // Users, their security, roles and tokens: Administrators and User Managers.
    // The console's overview: anyone who may read users, groups, apps or the audit log.
    ("/admin", "DDAAAD", "-"),
    ("/admin/users", "DDDAAD", "-"),
    ("/admin/users/new", "DDDAAD", "DDDAAD"),
    ("/admin/users/{id}", "DDDAAD", "DDDAAD"),
    ("/admin/users/{id}/disable", "DDDAAD", "DDDAAD"),
    ("/admin/users/{id}/enable", "-", "DDDAAD"),
    ("/admin/users/{id}/password-reset", "DDDAAD", "DDDAAD"),
    ("/admin/users/{id}/sessions/end", "DDDAAD", "DDDAAD"),
    ("/admin/users/{id}/delete", "DDDAAD", "DDDAAD"),
    ("/admin/users/{id}/security", "DDDAAD", "-"),
    ("/admin/users/{id}/security/mfa-reset", "DDDAAD", "DDDAAD"),
    ("/admin/users/{id}/security/unlock", "-", "DDDAAD"),
    ("/admin/users/{id}/roles", "DDDAAD", "DDDAAD"),
    ("/admin/users/{id}/tokens", "DDDAAD", "DDDAAD"),
    ("/admin/users/{id}/tokens/{token_id}/delete", "DDDAAD", "DDDAAD"),
    ("/admin/invitations", "DDDAAD", "DDDAAD"),
    ("/admin/invitations/{id}/resend", "-", "DDDAAD"),
    ("/admin/invitations/{id}/withdraw", "DDDAAD", "DDDAAD"),
    // Groups: listed and read by whoever may list them (API: `GET /groups`,
    // `GET /groups/{id}`); members and changes only for people managers.
    ("/admin/groups", "DDAAAA", "DDDAAD"),
    ("/admin/groups/{id}", "DDAAAA", "DDDAAD"),
    ("/admin/groups/{id}/members", "-", "DDDAAD"),
    ("/admin/groups/{id}/members/{user_id}/remove", "-", "DDDAAD"),
    ("/admin/groups/{id}/delete", "DDDAAD", "DDDAAD"),
    // Apps: owners by people managers, developers also by the app's owners.
    ("/admin/apps", "DDAAAD", "DDADAD"),
    ("/admin/apps/{id}", "DDAAAA", "DDDDAA"),
    ("/admin/apps/{id}/groups", "-", "DDDDAA"),
    ("/admin/apps/{id}/people/app_owner", "-", "DDDAAD"),
    ("/admin/apps/{id}/people/app_developer", "-", "DDDAAA"),
    ("/admin/apps/{id}/people/app_owner/{user_id}/remove", "-", "DDDAAD"),
    ("/admin/apps/{id}/people/app_developer/{user_id}/remove", "-", "DDDAAA"),
    ("/admin/apps/{id}/delete", "DDDDAD", "DDDDAD"),
    // Settings and audit: Administrators; User Managers read the invitation
    // template and the custom metadata fields (they invite and fill them in).
    ("/admin/settings/password-policy", "DDDDAD", "DDDDAD"),
    ("/admin/settings/token-policy", "DDDDAD", "DDDDAD"),
    ("/admin/settings/two-step", "DDDDAD", "DDDDAD"),
    ("/admin/settings/invitation-template", "DDDAAD", "DDDDAD"),
    ("/admin/settings/metadata-fields", "DDDAAD", "DDDDAD"),
    ("/admin/audit", "DDDDAD", "-"),
    ("/admin/audit/export", "DDDDAD", "-"),
];

/// Posts that end the caller's session: sign in again afterwards.
const ENDS_SESSION: &[&str] = &["/logout", "/profile/security/sessions/end-all"];

/// Whether `row` is `template` with some `{..}` segments written out.
fn instance_of(row: &str, template: &str) -> bool {
    let (r, t): (Vec<_>, Vec<_>) = (row.split('/').collect(), template.split('/').collect());
    r.len() == t.len() && r.iter().zip(&t).all(|(r, t)| r == t || (t.starts_with('{') && !r.starts_with('{')))
}

/// The route a row stands for: the one it names, or else the one it writes out.
fn route_of<'a>(row: &str, routes: &[&'a str]) -> Option<&'a str> {
    routes.iter().find(|t| **t == row).or_else(|| routes.iter().find(|t| instance_of(row, t))).copied()
}

/// A form good enough to reach the authorization check: the caller's CSRF
/// token (the sign-in forms' own token on those) and the fields the page
/// reads. `row` is the table's path, `caller` the one posting.
pub async fn form(fx: &mut Fixtures<'_>, row: &str, caller: &Caller) -> Vec<(String, String)> {
    let n = fx.next();
    let session_csrf = caller.client.csrf.clone().unwrap_or_default();
    let password = USER_PASSWORD.to_owned();
    let wrong = "not the password".to_owned();
    let new_password = "Quartz-Lantern-Orbit-93".to_owned();
    let (csrf, fields): (String, Vec<(&str, String)>) = match row {
        // A new name each time, so no account gets locked.
        "/login" => (caller.login_csrf.clone(), vec![("login", format!("nobody{n}")), ("password", wrong)]),
        "/login/mfa" => (caller.login_csrf.clone(), vec![("ticket", "no-ticket".into()), ("code", "000000".into())]),
        "/forgot-password" => (String::new(), vec![("login", format!("nobody{n}"))]),
        "/reset-password/{token}" => {
            (String::new(), vec![("new_password", password.clone()), ("repeat_password", password)])
        }
        "/register/{token}" | "/setup/{token}" => (
            String::new(),
            vec![
                ("user_id", format!("new{n}")),
                ("email", format!("new{n}@example.org")),
                ("first_name", "New".into()),
                ("last_name", "User".into()),
                ("password", password.clone()),
                ("repeat_password", password),
            ],
        ),
        "/profile" | "/admin/users/{id}" => (
            session_csrf,
            vec![
                ("first_name", "Matrix".into()),
                ("last_name", "Row".into()),
                ("language", "en".into()),
                ("timezone", "Europe/Paris".into()),
            ],
        ),
        "/password-change" | "/profile/security/password" => (
            session_csrf,
            vec![
                ("current_password", wrong),
                ("new_password", new_password.clone()),
                ("repeat_password", new_password),
            ],
        ),
        "/profile/security/two-step/disable" | "/profile/security/two-step/recovery-codes" => {
            (session_csrf, vec![("password", wrong)])
        }
        "/profile/security/two-step" => (session_csrf, vec![("code", "000000".into())]),
        "/profile/tokens" | "/admin/users/{id}/tokens" => (
            session_csrf,
            vec![("description", "matrix".into()), ("scopes", "read".into()), ("expiry", "default".into())],
        ),
        "/profile/tokens/{id}/edit" => {
            (session_csrf, vec![("description", "renamed".into()), ("expiry", "keep".into())])
        }
        "/admin/users/new" => (
            session_csrf,
            vec![
                ("user_id", format!("made{n}")),
                ("first_name", "Made".into()),
                ("last_name", "Here".into()),
                ("roles", "user".into()),
                ("invite", "none".into()),
            ],
        ),
        "/admin/users/{id}/password-reset" => (session_csrf, vec![("mode", "link".into())]),
        "/admin/users/{id}/roles" => (session_csrf, vec![("org", "developer".into())]),
        "/admin/invitations" => (
            session_csrf,
            vec![("email", format!("invitee{n}@example.org")), ("role", "user".into()), ("delivery", "link".into())],
        ),
        "/admin/groups" => (session_csrf, vec![("name", format!("New group {n}"))]),
        "/admin/groups/{id}" => {
            (session_csrf, vec![("name", format!("Renamed group {n}")), ("description", "changed".into())])
        }
        "/admin/groups/{id}/members" => (session_csrf, vec![("user", fx.person().await.1)]),
        "/admin/apps" => (session_csrf, vec![("name", format!("New app {n}"))]),
        "/admin/apps/{id}" => {
            (session_csrf, vec![("name", format!("Renamed app {n}")), ("description", "changed".into())])
        }
        "/admin/apps/{id}/people/app_owner" => (session_csrf, vec![("owner", fx.person().await.1)]),
        "/admin/apps/{id}/people/app_developer" => (session_csrf, vec![("developer", fx.person().await.1)]),
        "/admin/settings/invitation-template" => (
            session_csrf,
            vec![
                ("subject", "Join {{organization}}".into()),
                ("body", "Open {{link}} before {{expires_at}}.".into()),
                ("action", "save".into()),
            ],
        ),
        _ => (session_csrf, vec![]),
    };
    let mut form = vec![("csrf_token".to_owned(), csrf)];
    form.extend(fields.into_iter().map(|(k, v)| (k.to_owned(), v)));
    form
}

/// What a page answered: `-` (405), `D` (a 403, or the redirect to the
/// sign-in page) or `A`; an error when the refusal was of the form's CSRF
/// token, which would hide the authorization this test is about.
pub fn answer(res: &Res) -> Result<char, String> {
    let location = res.headers.get("location").and_then(|l| l.to_str().ok()).unwrap_or("");
    let html = res.body.as_str().unwrap_or("");
    match res.status {
        StatusCode::METHOD_NOT_ALLOWED => Ok('-'),
        StatusCode::FORBIDDEN if html.contains(&*Tr(Language::En).get("error.csrf_title")) => {
            Err("the form's CSRF token was refused".to_owned())
        }
        StatusCode::FORBIDDEN => Ok('D'),
        s if s.is_redirection() && location == "/login" => Ok('D'),
        _ => Ok('A'),
    }
}

/// One call of column `i`: GET the path, or POST the row's form to it, with
/// one of its fields replaced if asked.
pub async fn call(
    m: &mut Matrix<'_>,
    i: usize,
    method: &str,
    row: &str,
    path: &str,
    replace: Option<(&str, &str)>,
) -> Res {
    if method == "GET" {
        return m.callers[i].client.get(path).await;
    }
    let mut fields = form(&mut m.fx, row, &m.callers[i]).await;
    if let Some((key, value)) = replace {
        fields.retain(|(k, _)| k != key);
        fields.push((key.to_owned(), value.to_owned()));
    }
    m.callers[i].client.form(path, &fields).await
}

#[test]
fn the_table_has_one_row_for_every_web_path() {
    let routes = usher_server::web::paths();
    let missing: Vec<_> =
        routes.iter().filter(|t| !TABLE.iter().any(|(row, _, _)| route_of(row, &routes) == Some(**t))).collect();
    let stale: Vec<_> = TABLE.iter().map(|(row, _, _)| *row).filter(|row| route_of(row, &routes).is_none()).collect();
    assert!(missing.is_empty(), "web paths with no row in the authorization table: {missing:#?}");
    assert!(stale.is_empty(), "rows for paths the web no longer has: {stale:#?}");
    let mut rows: Vec<_> = TABLE.iter().map(|(row, _, _)| *row).collect();
    rows.sort_unstable();
    rows.dedup();
    assert_eq!(rows.len(), TABLE.len(), "a row is repeated");
}

#[tokio::test]
async fn every_web_page_allows_and_denies_every_role_as_the_table_says() {
    let app = TestApp::spawn().await;
    let mut m = Matrix::new(&app).await;
    let mut wrong = Vec::new();
    for (row, get, post) in TABLE {
        for (method, expected) in [("GET", *get), ("POST", *post)] {
            assert!(expected == "-" || expected.len() == WHO.len(), "{method} {row}: {expected}");
            // Reading and refused methods change nothing: one resource serves the row.
            let shared = m.fx.path(row).await;
            for (i, who) in WHO.iter().enumerate() {
                let want = if expected == "-" { '-' } else { char::from(expected.as_bytes()[i]) };
                let path = if method == "POST" && want == 'A' { m.fx.path(row).await } else { shared.clone() };
                let res = call(&mut m, i, method, row, &path, None).await;
                let got = answer(&res).unwrap_or_else(|e| panic!("{method} {row} as {who}: {e}"));
                let location = res.headers.get("location").and_then(|l| l.to_str().ok()).unwrap_or("");
                if got != want {
                    wrong.push(format!("{method} {row} as {who}: expected {want}, got {} {location}", res.status));
                } else if want == 'D' && (i == 0) != res.status.is_redirection() {
                    let how = if i == 0 { "the redirect to sign in" } else { "a 403 page" };
                    wrong.push(format!("{method} {row} as {who}: expected {how}, got {} {location}", res.status));
                }
                if i > 0 && method == "POST" && ENDS_SESSION.contains(row) {
                    m.sign_in_again(i).await;
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{} calls disagree with the table:\n{}", wrong.len(), wrong.join("\n"));
}
