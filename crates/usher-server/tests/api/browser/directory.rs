//! The Users page and the custom metadata page in a real browser: define a
//! field, search with the reference syntax, sort by a header, choose columns
//! (remembered), read a user's metadata in the tooltip; then over plain HTTP,
//! the same pages' refusals.

use reqwest::StatusCode;
use serde_json::json;
use thirtyfour::prelude::*;
use usher_domain::Role;

use super::{Browser, click_and_wait, fill, heading, page, sign_in, text_of, web_sign_in};
use crate::{
    directory::import,
    helpers::{ADMIN_PASSWORD, TestApp, USER_PASSWORD, artifacts_dir},
};

/// The user IDs in the table, in order.
async fn listed(d: &WebDriver) -> WebDriverResult<Vec<String>> {
    let mut out = Vec::new();
    for cell in d.find_all(By::Css("td.user-id a")).await? {
        out.push(cell.text().await?);
    }
    Ok(out)
}

#[tokio::test]
async fn browser_an_administrator_defines_a_field_searches_sorts_and_chooses_columns() {
    let app = TestApp::spawn().await;
    app.create_user("admin", Some("admin@example.org"), ADMIN_PASSWORD, &[Role::Administrator]).await;
    let base = app.base.clone();
    let usher_app = &app;

    Browser::start()
        .await
        .run(|d| async move {
            d.goto(format!("{base}/login?lang=en")).await?;
            sign_in(&d, "admin", ADMIN_PASSWORD).await?;
            // Define the departments field on the settings page.
            click_and_wait(&d, By::Css(".sidenav a[href='/admin/settings/metadata-fields']")).await?;
            assert_eq!(heading(&d).await?, "Custom metadata fields");
            fill(&d, "name_0", "departments").await?;
            fill(&d, "label_0", "Department").await?;
            click_and_wait(&d, By::Id("save-metadata")).await?;
            assert_eq!(text_of(&d, By::Css(".alert.success")).await?, "The custom metadata fields have been saved.");
            assert_eq!(d.find(By::Id("name_0")).await?.prop("value").await?.unwrap_or_default(), "departments");
            // A bad name is reported on its row.
            fill(&d, "name_1", "2fa").await?;
            fill(&d, "label_1", "Two").await?;
            click_and_wait(&d, By::Id("save-metadata")).await?;
            assert!(text_of(&d, By::Css("#field-1 .field-errors")).await?.contains("starts with a letter"));
            Ok(())
        })
        .await;

    import(
        usher_app,
        &[
            json!({"user_id": "dsmith", "email": "david@example.org", "first_name": "David", "last_name": "Smith",
                   "phone": "+33 6 12 34 56 78", "metadata": {"departments": "NortheastSales"}}),
            json!({"user_id": "adavidson", "first_name": "Ann", "last_name": "Davidson",
                   "metadata": {"departments": "WorldwideSales"}}),
            json!({"user_id": "bob", "first_name": "Bob", "last_name": "Jones", "roles": ["developer"]}),
        ],
    )
    .await;

    let base = app.base.clone();
    Browser::start()
        .await
        .run(|d| async move {
            d.goto(format!("{base}/login?lang=en")).await?;
            sign_in(&d, "admin", ADMIN_PASSWORD).await?;
            click_and_wait(&d, By::Css(".sidenav a[href='/admin/users']")).await?;
            // Last name ascending by default.
            assert_eq!(listed(&d).await?, ["admin", "adavidson", "bob", "dsmith"]);
            // The reference search examples.
            fill(&d, "user-search", "Dav").await?;
            click_and_wait(&d, By::Id("search-users")).await?;
            assert_eq!(listed(&d).await?, ["adavidson", "dsmith"]);
            fill(&d, "user-search", "departments:sales").await?;
            click_and_wait(&d, By::Id("search-users")).await?;
            assert_eq!(listed(&d).await?, ["adavidson", "dsmith"]);
            fill(&d, "user-search", "departments:").await?;
            click_and_wait(&d, By::Id("search-users")).await?;
            assert_eq!(text_of(&d, By::Css(".empty")).await?, "No user matches this search.");
            click_and_wait(&d, By::Id("clear-search")).await?;
            // Sort by a header, then the other way.
            click_and_wait(&d, By::Css("th a[href*='sort=user_id']")).await?;
            assert_eq!(listed(&d).await?, ["adavidson", "admin", "bob", "dsmith"]);
            let th = d.find(By::Css("th[aria-sort]")).await?;
            assert_eq!(th.attr("aria-sort").await?.as_deref(), Some("ascending"));
            click_and_wait(&d, By::Css("th a[href*='sort=user_id']")).await?;
            assert_eq!(listed(&d).await?, ["dsmith", "bob", "admin", "adavidson"]);
            // The metadata tooltip: shown on focus, only for users with values.
            assert_eq!(d.find_all(By::Css(".meta-tip")).await?.len(), 2);
            let tip = d.find(By::Css(".meta-tip")).await?;
            assert_eq!(tip.attr("aria-label").await?.as_deref(), Some("Department: NortheastSales"));
            tip.focus().await?;
            assert!(d.find(By::Css(".meta-tip .tip")).await?.is_displayed().await?);
            d.set_window_rect(0, 0, 1280, 800).await?;
            d.screenshot(&artifacts_dir().join("users-directory.png")).await?;
            // Choose columns: drop Email, add Phone; the choice is remembered.
            d.find(By::Css(".column-chooser summary")).await?.click().await?;
            d.find(By::Id("col-email")).await?.click().await?;
            d.find(By::Id("col-phone")).await?.click().await?;
            click_and_wait(&d, By::Id("apply-columns")).await?;
            let headers: Vec<String> = {
                let mut v = Vec::new();
                for h in d.find_all(By::Css("thead th")).await? {
                    v.push(h.text().await?.to_lowercase());
                }
                v
            };
            assert!(headers.iter().any(|h| h.starts_with("phone")), "{headers:?}");
            assert!(!headers.iter().any(|h| h.starts_with("email")), "{headers:?}");
            d.goto(format!("{base}/admin/users")).await?;
            assert!(d.find_all(By::Css("td[data-label='Phone']")).await?.len() == 4);
            assert!(d.find_all(By::Css("td[data-label='Email']")).await?.is_empty());
            // Narrow screens: the table still fits (it scrolls inside its card).
            d.set_window_rect(0, 0, 390, 800).await?;
            d.screenshot(&artifacts_dir().join("users-directory-narrow.png")).await?;
            Ok(())
        })
        .await;
}

#[tokio::test]
async fn browser_http_user_managers_read_the_metadata_page_and_administrators_change_it() {
    let app = TestApp::spawn().await;
    app.create_user("admin", Some("admin@example.org"), ADMIN_PASSWORD, &[Role::Administrator]).await;
    app.create_user("manny", Some("manny@example.org"), USER_PASSWORD, &[Role::UserManager]).await;
    let (c, csrf) = web_sign_in(&app, "manny", USER_PASSWORD).await;
    let url = format!("{}/admin/settings/metadata-fields", app.base);
    // User Managers read the fields they fill in for users, as the API lets them.
    let (status, html) = page(&c, url.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"read-only\""), "{html}");
    assert!(!html.contains("id=\"save-metadata\""), "no Save for a User Manager");
    let (status, html) = page(&c, format!("{}/admin/users?q=departments:x", app.base)).await;
    assert_eq!(status, StatusCode::OK, "user managers list users");
    assert!(html.contains("No user matches this search."));
    let res =
        c.post(&url).form(&[("csrf_token", csrf.as_str()), ("name_0", "x"), ("label_0", "X")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let (admin, csrf) = web_sign_in(&app, "admin", ADMIN_PASSWORD).await;
    let res =
        admin.post(&url).form(&[("csrf_token", "wrong"), ("name_0", "x"), ("label_0", "X")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "the CSRF token is checked");
    let form = [("csrf_token", csrf.as_str()), ("name_0", "tier"), ("label_0", "Tier"), ("type_0", "choice")];
    let res = admin.post(&url).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("A choice field needs at least one option."));
    let (status, _) = page(&admin, format!("{}/admin/users?sort=shoe_size", app.base)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
