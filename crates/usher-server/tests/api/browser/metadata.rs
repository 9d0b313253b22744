//! The organization's custom metadata fields on the user forms, over plain HTTP:
//! one input per field on "Create user" and on the details page, values checked
//! by type with the errors next to their input, and what was saved read back
//! through the API.

use reqwest::StatusCode;
use serde_json::{Value, json};
use usher_domain::Role;

use super::{page, web_sign_in};
use crate::helpers::{ADMIN_PASSWORD, TestApp, USER_PASSWORD};

fn fields() -> Value {
    json!([
        { "name": "dept", "label": "Department", "type": "text" },
        { "name": "level", "label": "Level", "type": "number" },
        { "name": "since", "label": "Employee since", "type": "date" },
        { "name": "remote", "label": "Remote", "type": "boolean" },
        { "name": "tier", "label": "Tier", "type": "choice", "required": true, "options": ["Gold", "Silver"] }
    ])
}

/// A user's id by user ID, through the API, if there is one.
async fn user_id_of(api: &mut crate::helpers::Client, user_id: &str) -> Option<String> {
    let list = api.get("/api/v1/users").await.body;
    list["items"].as_array()?.iter().find(|u| u["user_id"] == user_id).map(|u| u["id"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn browser_http_custom_fields_are_set_on_create_and_edited_on_the_details_page() {
    let app = TestApp::spawn().await;
    let admin = app.create_user("admin", Some("admin@example.org"), ADMIN_PASSWORD, &[Role::Administrator]).await;
    let mut api = app.signed_in("admin", ADMIN_PASSWORD).await;
    let (c, csrf) = web_sign_in(&app, "admin", ADMIN_PASSWORD).await;
    let new_url = format!("{}/admin/users/new", app.base);

    // Without fields, nothing extra shows.
    let (_, html) = page(&c, new_url.clone()).await;
    assert!(!html.contains("id=\"custom-fields\"") && !html.contains("name=\"metadata."), "{html}");
    let (_, html) = page(&c, format!("{}/admin/users/{}", app.base, admin.id)).await;
    assert!(!html.contains("id=\"custom-fields\""));

    let res = api.put("/api/v1/settings/metadata-fields", json!({ "fields": fields() })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);

    // One input per field, in the fields' order, by type; the required choice starts empty.
    let (status, html) = page(&c, new_url.clone()).await;
    assert_eq!(status, StatusCode::OK);
    let at = |needle: &str| html.find(needle).unwrap_or_else(|| panic!("no {needle} in {html}"));
    let order = [
        at("<label for=\"metadata-dept\">Department</label>"),
        at("id=\"metadata-level\" name=\"metadata.level\" type=\"number\""),
        at("id=\"metadata-since\" name=\"metadata.since\" type=\"date\""),
        at("<select id=\"metadata-remote\" name=\"metadata.remote\">"),
        at("<select id=\"metadata-tier\" name=\"metadata.tier\" required>"),
    ];
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    assert!(html.contains("<option value=\"\" selected>—</option>"));

    // A bad number, a missing choice and a missing name: every error next to its
    // field, what was typed kept, nobody created.
    let base_form = |level: &'static str, tier: &'static str, first: &'static str| {
        vec![
            ("csrf_token", csrf.clone()),
            ("user_id", "ada".to_owned()),
            ("first_name", first.to_owned()),
            ("last_name", "Lovelace".to_owned()),
            ("roles", "user".to_owned()),
            ("invite", "none".to_owned()),
            ("metadata.dept", "R&D <Lab>".to_owned()),
            ("metadata.level", level.to_owned()),
            ("metadata.since", "2024-02-29".to_owned()),
            ("metadata.remote", "true".to_owned()),
            ("metadata.tier", tier.to_owned()),
        ]
    };
    let res = c.post(&new_url).form(&base_form("three", "", "")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("<ul class=\"field-errors\" id=\"metadata-level-error\">"), "{html}");
    assert!(html.contains("Enter a number, e.g. 42 or 3.5."), "{html}");
    assert!(html.contains("aria-invalid=\"true\" aria-describedby=\"metadata-level-error\""));
    assert!(html.contains("id=\"metadata-tier-error\"") && html.contains("id=\"first_name-error\""), "{html}");
    assert!(
        html.contains("value=\"three\"") && html.contains("value=\"R&#38;D &#60;Lab&#62;\""),
        "kept, escaped: {html}"
    );
    assert!(html.contains("value=\"2024-02-29\"") && html.contains("<option value=\"true\" selected>Yes</option>"));
    assert_eq!(user_id_of(&mut api, "ada").await, None);
    let res = c.post(&new_url).form(&base_form("three", "Gold", "Ada")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"metadata-level-error\"") && !html.contains("id=\"metadata-tier-error\""));
    assert!(html.contains("<option value=\"Gold\" selected>Gold</option>"), "{html}");
    assert_eq!(user_id_of(&mut api, "ada").await, None);

    // Good values: created, and stored by type.
    let res = c.post(&new_url).form(&base_form("3", "Gold", "Ada")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let id = user_id_of(&mut api, "ada").await.expect("ada was created");
    assert_eq!(res.headers()["location"], format!("/admin/users/{id}?done=created"));
    let stored = api.get(&format!("/api/v1/users/{id}")).await.body["metadata"].clone();
    assert_eq!(
        stored,
        json!({ "dept": "R&D <Lab>", "level": 3, "since": "2024-02-29", "remote": true, "tier": "Gold" })
    );

    // The details page holds them in the profile form.
    let ada_url = format!("{}/admin/users/{id}", app.base);
    let (_, html) = page(&c, ada_url.clone()).await;
    assert!(html.contains("<h2 id=\"custom-fields\">Custom fields</h2>"), "{html}");
    assert!(html.contains("name=\"metadata.level\" type=\"number\" value=\"3\""));
    assert!(html.contains("<option value=\"true\" selected>Yes</option>"), "an optional yes/no is a choice");
    assert!(html.contains("<option value=\"Gold\" selected>Gold</option>"));
    let tier = &html[html.find("id=\"metadata-tier\"").unwrap()..];
    let tier = &tier[..tier.find("</select>").unwrap()];
    assert!(!tier.contains("<option value=\"\""), "a required choice once made cannot be emptied: {tier}");

    // Edit: a bad number (and a bad phone) changes nothing and shows both errors.
    let edit = |level: &'static str, phone: &'static str| {
        vec![
            ("csrf_token", csrf.clone()),
            ("first_name", "Ada".to_owned()),
            ("last_name", "King".to_owned()),
            ("phone", phone.to_owned()),
            ("language", "en".to_owned()),
            ("timezone", "UTC".to_owned()),
            ("metadata.dept", "".to_owned()),
            ("metadata.level", level.to_owned()),
            ("metadata.since", " ".to_owned()),
            ("metadata.remote", "false".to_owned()),
            ("metadata.tier", "Silver".to_owned()),
        ]
    };
    let res = c.post(&ada_url).form(&edit("4,5", "12")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"metadata-level-error\"") && html.contains("id=\"phone-error\""), "{html}");
    assert!(html.contains("value=\"4,5\"") && html.contains("value=\"King\""));
    let body = api.get(&format!("/api/v1/users/{id}")).await.body;
    assert_eq!((&body["last_name"], &body["metadata"]), (&json!("Lovelace"), &stored), "nothing changed");

    // A good edit: the empty inputs clear their values, "No" is chosen.
    let res = c.post(&ada_url).form(&edit("4.5", "")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], format!("/admin/users/{id}?done=saved"));
    let body = api.get(&format!("/api/v1/users/{id}")).await.body;
    assert_eq!(body["last_name"], "King");
    assert_eq!(body["metadata"], json!({ "level": 4.5, "remote": false, "tier": "Silver" }));
    let (_, html) = page(&c, format!("{ada_url}?done=saved")).await;
    assert!(html.contains("Details saved.") && html.contains("type=\"number\" value=\"4.5\""));

    // A User Manager reads an Administrator's values as words, without inputs.
    let res = api
        .patch(
            &format!("/api/v1/users/{}", admin.id),
            json!({ "metadata": { "tier": "Gold", "remote": true, "since": "2020-01-31" } }),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    app.create_user("manny", Some("manny@example.org"), USER_PASSWORD, &[Role::UserManager]).await;
    let (m, _) = web_sign_in(&app, "manny", USER_PASSWORD).await;
    let (_, html) = page(&m, format!("{}/admin/users/{}", app.base, admin.id)).await;
    let facts = html.split("id=\"custom-facts\"").nth(1).unwrap_or_else(|| panic!("{html}"));
    for fact in [
        "<dt>Department</dt><dd>—</dd>",
        "<dt>Employee since</dt><dd>2020-01-31</dd>",
        "<dt>Remote</dt><dd>Yes</dd>",
        "<dt>Tier</dt><dd>Gold</dd>",
    ] {
        assert!(facts.contains(fact), "{fact} in {facts}");
    }
    assert!(!html.contains("name=\"metadata."));
    // ...and edits a user's values like an administrator.
    let (_, html) = page(&m, ada_url.clone()).await;
    assert!(html.contains("name=\"metadata.tier\""));
}
