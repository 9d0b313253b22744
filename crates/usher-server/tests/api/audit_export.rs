//! Downloads of the audit log (CSV and JSON lines, from the API and from the
//! audit page) and the audit page's filters, over plain HTTP.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Client, TestApp};

/// A download read whole: status, headers and text.
async fn download(client: &Client, path: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let res = client.http.get(format!("{}{path}", client.base)).send().await.expect("request");
    (res.status(), res.headers().clone(), res.text().await.unwrap_or_default())
}

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// Every event of `query` through the list, newest first, as ids.
async fn listed(admin: &mut Client, query: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut path = format!("/api/v1/audit-events?limit=500&{query}");
    loop {
        let page = admin.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        ids.extend(page.body["items"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()));
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/audit-events?limit=500&{query}&cursor={cursor}"),
            None => return ids,
        }
    }
}

/// A log longer than an export reads at once comes out whole, in the list's
/// order, as JSON lines and as CSV whose cells never start a formula; the
/// file has a name; the body is streamed; only those who may read the log
/// (role and token scope) may export it.
#[tokio::test]
async fn exports_stream_the_whole_filtered_log_in_both_formats() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let (rosa, mut c) = app.user("rosa").await;
    let res = c.patch("/api/v1/me", json!({ "first_name": "=HYPERLINK(\"http://evil.example\",\"x\")" })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let changes = usher_core::audit::EXPORT_PAGE as usize + 20;
    for i in 0..changes {
        let res = c.patch("/api/v1/me", json!({ "company": format!("Company {i}") })).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    }
    let query = format!("actor_id={}", rosa.id);
    let want = listed(&mut admin, &query).await;
    assert!(want.len() > changes, "{} events", want.len());

    let (status, headers, text) = download(&admin, &format!("/api/v1/audit-events/export?format=jsonl&{query}")).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(header(&headers, "content-type"), "application/jsonl");
    let disposition = header(&headers, "content-disposition");
    assert!(
        disposition.starts_with("attachment; filename=\"audit-log-") && disposition.ends_with(".jsonl\""),
        "{disposition}"
    );
    assert!(headers.get("content-length").is_none(), "streamed, not sized up front");
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).expect("one JSON object a line")).collect();
    let ids: Vec<&str> = lines.iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(ids, want, "every event once, newest first, across pages");
    assert_eq!(lines[0]["actor_name"], "=HYPERLINK(\"http://evil.example\",\"x\") rosa", "JSON keeps the text");

    let (status, headers, text) = download(&admin, &format!("/api/v1/audit-events/export?{query}")).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(header(&headers, "content-type"), "text/csv; charset=utf-8", "CSV by default");
    assert!(header(&headers, "content-disposition").ends_with(".csv\""));
    let mut csv = csv::Reader::from_reader(text.as_bytes());
    let columns: Vec<String> = csv.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(
        columns,
        ["id", "at", "action", "actor_id", "actor_name", "target_id", "target_name", "address", "client", "details"]
    );
    let rows: Vec<csv::StringRecord> = csv.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.iter().map(|r| r[0].to_owned()).collect::<Vec<_>>(), want);
    assert_eq!(&rows[0][4], "'=HYPERLINK(\"http://evil.example\",\"x\") rosa", "a formula is quoted");
    let formula = |cell: &str| cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    assert!(rows.iter().all(|r| !r.iter().any(formula)), "no cell starts a formula");
    assert_eq!(serde_json::from_str::<Value>(&rows[0][9]).unwrap()["fields"], json!(["company"]), "{}", &rows[0][9]);

    let (status, _, text) = download(&admin, "/api/v1/audit-events/export?format=csv&family=group").await;
    assert_eq!((status, text.lines().count()), (StatusCode::OK, 1), "an empty export is its header: {text}");
    let (status, _, _) = download(&admin, "/api/v1/audit-events/export?format=xml").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, text) = download(&admin, "/api/v1/audit-events/export?family=login").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
    let (status, _, _) = download(&c, "/api/v1/audit-events/export").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    for (scopes, allowed) in [(json!(["audit:read"]), true), (json!(["users:read", "settings:read"]), false)] {
        let token = admin.post("/api/v1/me/tokens", json!({ "description": "audit", "scopes": scopes })).await;
        let secret = token.body["token"].as_str().unwrap().to_owned();
        for path in ["/api/v1/audit-events", "/api/v1/audit-events/export?format=jsonl&family=token"] {
            let res = app.bearer(reqwest::Method::GET, path, &secret, None).await;
            let expected = if allowed { StatusCode::OK } else { StatusCode::FORBIDDEN };
            assert_eq!(res.status, expected, "{path} with {scopes}: {}", res.body);
        }
    }
}

/// The audit page filters by family, by a person named as in the other
/// admin forms (user ID, email or id) and by days; its download links carry
/// the filters; bad filters are field errors.
#[tokio::test]
async fn the_audit_page_filters_and_links_its_downloads() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let (rosa, mut c) = app.user("rosa").await;
    c.patch("/api/v1/me", json!({ "company": "ACME" })).await;
    app.client().post("/api/v1/auth/login", json!({ "login": "rosa", "password": "wrong-password" })).await;
    let html = |res: &crate::helpers::Res| res.body.as_str().unwrap_or("").to_owned();

    let page = admin.get("/admin/audit").await;
    assert_eq!(page.status, StatusCode::OK);
    let body = html(&page);
    assert!(body.contains("<option value=\"auth\">Sign-in and sign-out</option>"), "{body}");
    assert!(body.contains("href=\"/admin/audit/export?format=csv\""), "{body}");
    assert!(body.contains("class=\"event-facts\""), "details as a list: {body}");
    assert!(body.contains("<dt>reason</dt><dd>bad_password</dd>"), "{body}");

    let page = admin.get("/admin/audit?family=auth&actor=&target=rosa%40example.org").await;
    assert_eq!(page.status, StatusCode::OK);
    let body = html(&page);
    assert!(body.contains("<option value=\"auth\" selected>"), "{body}");
    assert!(body.contains("auth.login.failed") && body.contains("auth.login.succeeded"), "{body}");
    assert!(!body.contains("user.profile.updated") && !body.contains("user.created"), "{body}");
    let export = "/admin/audit/export?format=jsonl&#38;family=auth&#38;target=rosa%40example.org";
    assert!(body.contains(&format!("href=\"{export}\"")), "{body}");

    let (status, headers, text) = download(&admin, &export.replace("&#38;", "&")).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(header(&headers, "content-type"), "application/jsonl");
    let actions: Vec<String> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(actions, ["auth.login.failed", "auth.login.succeeded"]);

    let by_id = admin.get(&format!("/admin/audit?actor={}", rosa.id)).await;
    let by_name = admin.get("/admin/audit?actor=rosa").await;
    assert!(html(&by_id).contains("user.profile.updated") && html(&by_name).contains("user.profile.updated"));
    assert!(!html(&by_name).contains("auth.login.failed"), "failed sign-ins are done by nobody");

    let today = app.usher.now().date_naive();
    let day = |d: i64| (today + chrono::Duration::days(d)).format("%Y-%m-%d").to_string();
    let page = admin.get(&format!("/admin/audit?from={}&to={}", day(0), day(0))).await;
    assert!(html(&page).contains("auth.login.failed"));
    let page = admin.get(&format!("/admin/audit?from={}", day(1))).await;
    assert!(html(&page).contains("class=\"empty\""), "nothing from tomorrow on");

    for (query, field, message) in [
        ("actor=nobody", "actor", "There is no user with this user ID or email address."),
        ("from=31%2F12%2F2026", "from", "Enter a date as YYYY-MM-DD."),
        ("from=2026-05-02&to=2026-05-01", "to", "The end date comes before the start date."),
        ("family=login", "family", "Choose a kind of event from the list."),
    ] {
        let page = admin.get(&format!("/admin/audit?{query}")).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        let body = html(&page);
        assert!(body.contains(&format!("id=\"{field}-error\"")) && body.contains(message), "{query}: {body}");
        assert!(!body.contains("/admin/audit/export"), "no download of a filter in error");
    }
    let (status, _, _) = download(&c, "/admin/audit/export?format=csv").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
