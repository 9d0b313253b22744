//! The time zone picker in a real browser: places grouped by region, the filter
//! box that narrows them as one types (city, region or offset), and a zone
//! stored under another name kept as it is. Then, over plain HTTP, the same
//! field without the script, in French, and on a user's details page.

use reqwest::StatusCode;
use serde_json::json;
use thirtyfour::prelude::*;
use usher_domain::Role;

use super::{
    Browser, click_and_wait, fill, heading, hidden, page, save_screenshot, sign_in, text_of, value_of, web_sign_in,
};
use crate::helpers::{ADMIN_PASSWORD, TestApp, USER_PASSWORD};

/// The values of the zones the list shows now.
async fn shown_zones(d: &WebDriver) -> WebDriverResult<Vec<String>> {
    let script = "return Array.from(document.querySelectorAll('#timezone option'))\
                  .filter((o) => !o.hidden).map((o) => o.value)";
    d.execute(script, vec![]).await?.convert::<Vec<String>>()
}

async fn filter(d: &WebDriver, text: &str) -> WebDriverResult<Vec<String>> {
    fill(d, "timezone-filter", text).await?;
    shown_zones(d).await
}

#[tokio::test]
async fn browser_the_time_zone_picker_groups_places_and_filters_as_you_type() {
    let app = TestApp::spawn().await;
    let (_, mut api) = app.user("tia").await;
    // A zone under another name, as the API accepts (and older versions offered).
    let res = api.patch("/api/v1/me", json!({ "timezone": "US/Pacific" })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let base = app.base.clone();

    Browser::start()
        .await
        .run(|d| async move {
            d.goto(format!("{base}/login?lang=en")).await?;
            sign_in(&d, "tia", USER_PASSWORD).await?;
            assert_eq!(heading(&d).await?, "My profile");

            // The stored name is selected, said to be another name of its place,
            // and saving the form unchanged keeps it.
            assert_eq!(value_of(&d, "timezone").await?, "US/Pacific");
            let label = text_of(&d, By::Css("#timezone option:checked")).await?;
            assert!(label.starts_with("US/Pacific, another name for Los Angeles (UTC-0"), "{label}");
            click_and_wait(&d, By::Css("form[action='/profile'] button[type=submit]")).await?;
            assert_eq!(text_of(&d, By::Css(".alert.success")).await?, "Profile saved.");
            assert_eq!(value_of(&d, "timezone").await?, "US/Pacific");

            // Places only, grouped by region.
            let groups = d
                .execute("return Array.from(document.querySelectorAll('#timezone optgroup'), (g) => g.label)", vec![])
                .await?
                .convert::<Vec<String>>()?;
            assert_eq!(groups.first().map(String::as_str), Some("Africa"));
            assert!(groups.iter().any(|g| g == "Europe") && groups.iter().any(|g| g == "Pacific Ocean"), "{groups:?}");
            let all = shown_zones(&d).await?;
            assert!(all.len() > 350, "{} zones", all.len());
            for alias in ["Zulu", "US/Eastern", "Asia/Calcutta", "Etc/UTC"] {
                assert!(!all.iter().any(|z| z == alias), "{alias} is not offered");
            }

            // The filter: by city, by region and city, by offset; the first match is selected.
            assert!(d.find(By::Id("timezone-filter")).await?.is_displayed().await?);
            assert_eq!(filter(&d, "kolk").await?, ["Asia/Kolkata"]);
            assert_eq!(value_of(&d, "timezone").await?, "Asia/Kolkata");
            assert_eq!(text_of(&d, By::Id("timezone-matches")).await?, "Matching time zones: 1");
            assert_eq!(filter(&d, "+5:45").await?, ["Asia/Kathmandu"]);
            assert_eq!(filter(&d, "europe par").await?, ["Europe/Paris"]);
            let sao = filter(&d, "são paulo").await?;
            assert_eq!(sao, ["America/Sao_Paulo"], "accents do not matter");
            assert!(filter(&d, "zzzz").await?.is_empty());
            assert_eq!(text_of(&d, By::Id("timezone-matches")).await?, "No time zone matches this search.");
            let los = filter(&d, "los angeles").await?;
            assert_eq!(los, ["US/Pacific", "America/Los_Angeles"], "the stored name and its place");
            d.find(By::Css("#timezone option[value='America/Los_Angeles']")).await?.click().await?;
            // Enter picks from the list instead of sending the form.
            d.find(By::Id("timezone-filter")).await?.send_keys(Key::Enter).await?;
            let active = d.execute("return document.activeElement.id", vec![]).await?.convert::<String>()?;
            assert_eq!(active, "timezone");
            save_screenshot(&d, "profile-time-zone-filter.png").await?;

            click_and_wait(&d, By::Css("form[action='/profile'] button[type=submit]")).await?;
            assert_eq!(text_of(&d, By::Css(".alert.success")).await?, "Profile saved.");
            assert_eq!(value_of(&d, "timezone").await?, "America/Los_Angeles");
            assert_eq!(value_of(&d, "timezone-filter").await?, "", "a fresh page, a fresh filter");
            Ok(())
        })
        .await;
    assert_eq!(api.get("/api/v1/me").await.body["timezone"], "America/Los_Angeles");
}

#[tokio::test]
async fn browser_http_the_time_zone_field_works_without_the_script_and_keeps_other_names() {
    let app = TestApp::spawn().await;
    app.create_user("admin", Some("admin@example.org"), ADMIN_PASSWORD, &[Role::Administrator]).await;
    let (vera, mut api) = app.user("vera").await;
    let res = api.patch("/api/v1/me", json!({ "language": "fr", "timezone": "Asia/Calcutta" })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);

    // Without the script: the grouped list is the picker; the filter stays hidden.
    let (c, csrf) = web_sign_in(&app, "vera", USER_PASSWORD).await;
    let (status, html) = page(&c, format!("{}/profile", app.base)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<div class=\"zone-filter\" hidden>"), "{html}");
    assert!(html.contains("<optgroup label=\"Amérique\">") && html.contains("<optgroup label=\"Océan Indien\">"));
    assert!(html.contains("<option value=\"Asia/Kolkata\" data-offset=\"330\">Kolkata (UTC+05:30)</option>"));
    assert!(html.contains(
        "<option value=\"Asia/Calcutta\" data-offset=\"330\" selected>Asia/Calcutta, autre nom de Kolkata (UTC+05:30)</option>"
    ));
    assert!(!html.contains("value=\"Zulu\"") && !html.contains("value=\"US/Pacific\""));
    assert_eq!(html.matches(" selected>").count(), 2, "the language and the zone");

    // The form sent back as it is keeps the other name; a place replaces it.
    let form = |zone: &str| {
        [
            ("csrf_token", csrf.clone()),
            ("first_name", "Vera".into()),
            ("language", "fr".into()),
            ("timezone", zone.into()),
        ]
    };
    let res = c.post(format!("{}/profile", app.base)).form(&form("Asia/Calcutta")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(api.get("/api/v1/me").await.body["timezone"], "Asia/Calcutta");
    let res = c.post(format!("{}/profile", app.base)).form(&form("Asia/Kolkata")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(api.get("/api/v1/me").await.body["timezone"], "Asia/Kolkata");
    // The API still takes any IANA name.
    let res = api.patch("/api/v1/me", json!({ "timezone": "Zulu" })).await;
    assert_eq!((res.status, res.body["timezone"].clone()), (StatusCode::OK, json!("Zulu")));

    // An administrator's page of the user: the same picker, the other name kept.
    let (admin, _) = web_sign_in(&app, "admin", ADMIN_PASSWORD).await;
    let url = format!("{}/admin/users/{}", app.base, vera.id);
    let (status, html) = page(&admin, url.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(
            "<option value=\"Zulu\" data-offset=\"0\" selected>Zulu, another name for UTC (UTC+00:00)</option>"
        )
    );
    assert!(html.contains("<optgroup label=\"Europe\">") && html.contains("id=\"timezone-filter\""));
    let form = [
        ("csrf_token", hidden(&html, "csrf_token")),
        ("first_name", "Vera".into()),
        ("last_name", "Lynn".into()),
        ("language", "fr".into()),
        ("timezone", "Zulu".into()),
    ];
    let res = admin.post(&url).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let me = api.get("/api/v1/me").await.body;
    assert_eq!((me["timezone"].as_str(), me["last_name"].as_str()), (Some("Zulu"), Some("Lynn")));
}
