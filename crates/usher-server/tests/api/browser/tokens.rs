//! API tokens in the web UI: the "API tokens" tab of My profile, an
//! administrator's view of a user's tokens and the token policy page, in a
//! real browser and then over plain HTTP.

use reqwest::StatusCode;
use serde_json::json;
use thirtyfour::prelude::*;
use usher_core::Clock;
use usher_domain::{Role, TokenPolicy};

use super::{Browser, click_and_wait, confirm_in_dialog, fill, heading, page, sign_in, text_of, value_of, web_sign_in};
use crate::helpers::{ADMIN_PASSWORD, TestApp, USER_PASSWORD, artifacts_dir};

/// What `GET /api/v1/me` answers to a bearer token.
async fn me_with(base: &str, secret: &str) -> StatusCode {
    reqwest::Client::new().get(format!("{base}/api/v1/me")).bearer_auth(secret).send().await.unwrap().status()
}

/// Resizes the window to `width` and the page's full height, then saves a
/// screenshot: the whole page, not only what fits the window.
async fn full_screenshot(d: &WebDriver, width: u32, name: &str) -> WebDriverResult<()> {
    d.set_window_rect(0, 0, width, 900).await?;
    let height = d.execute("return document.documentElement.scrollHeight", vec![]).await?.convert::<u32>()?;
    d.set_window_rect(0, 0, width, height.clamp(600, 6000) + 100).await?;
    d.screenshot(&artifacts_dir().join(name)).await?;
    d.set_window_rect(0, 0, width, 900).await
}

#[tokio::test]
async fn browser_a_user_creates_copies_uses_and_revokes_an_api_token() {
    let app = TestApp::spawn().await;
    app.create_user("grace", Some("grace@example.org"), USER_PASSWORD, &[Role::User]).await;
    let base = app.base.clone();

    Browser::start()
        .await
        .run(|d| async move {
            d.goto(format!("{base}/login?lang=en")).await?;
            sign_in(&d, "grace", USER_PASSWORD).await?;
            click_and_wait(&d, By::Css(".tabs a[href='/profile/tokens']")).await?;
            assert_eq!(heading(&d).await?, "My profile");
            assert_eq!(text_of(&d, By::Css(".tabs a[aria-current='page']")).await?, "API tokens");
            assert!(text_of(&d, By::Id("active-tokens")).await?.contains("No active tokens."));
            assert!(d.find_all(By::Id("expiry-never")).await?.is_empty(), "the default policy has no Never");
            assert!(d.find(By::Id("expiry-default")).await?.is_selected().await?);
            assert_eq!(text_of(&d, By::Css("label[for='expiry-default']")).await?, "Default (365 days)");

            // Create: description, client, the umbrella Read scope, default expiry.
            fill(&d, "description", "CI upload").await?;
            fill(&d, "client", "Jenkins").await?;
            d.find(By::Id("scope-read")).await?.click().await?;
            click_and_wait(&d, By::Id("create-token-submit")).await?;
            assert_eq!(d.current_url().await?.path(), "/profile/tokens");

            // The secret, once, in a panel that says so.
            let panel = d.find(By::Css("[role='alertdialog']")).await?;
            assert_eq!(panel.attr("aria-labelledby").await?.as_deref(), Some("new-token-h"));
            assert_eq!(text_of(&d, By::Id("new-token-h")).await?, "Token “CI upload” created");
            assert_eq!(
                text_of(&d, By::Id("new-token-warning")).await?,
                "Copy it now: you will not be able to see it again."
            );
            let secret = value_of(&d, "new-token").await?;
            assert!(secret.starts_with("ush_") && secret.len() == 40, "{secret}");
            let input = d.find(By::Id("new-token")).await?;
            assert!(input.attr("readonly").await?.is_some());
            assert_eq!(input.attr("autocomplete").await?.as_deref(), Some("off"));
            assert_eq!(input.attr("spellcheck").await?.as_deref(), Some("false"));
            full_screenshot(&d, 1200, "tokens-secret.png").await?;

            // Copy: the script shows the button; a click copies or says how to.
            d.query(By::Id("copy-token")).and_displayed().first().await?.click().await?;
            let status = d.query(By::Id("copy-status")).and_displayed().first().await?.text().await?;
            assert!(
                ["Copied to the clipboard.", "Could not copy: select the token and copy it yourself."]
                    .contains(&status.as_str())
            );

            // The secret works against the API.
            assert_eq!(me_with(&base, &secret).await, StatusCode::OK);

            // Reloading the page shows the list without the secret, and makes no second token.
            let page = d.find(By::Tag("html")).await?;
            d.refresh().await?;
            page.wait_until().stale().await?;
            assert!(d.find_all(By::Id("new-token")).await?.is_empty(), "the secret is shown once");
            assert_eq!(d.find_all(By::Css("#active-tokens tbody tr")).await?.len(), 1, "no second token");
            let active = text_of(&d, By::Id("active-tokens")).await?;
            let hint = format!("{}…{}", &secret[..8], &secret[36..]);
            assert!(active.contains("CI upload") && active.contains("Jenkins") && active.contains(&hint), "{active}");
            assert!(active.contains("read"), "{active}");
            let row = d.find(By::Css("#active-tokens tbody tr")).await?;
            let last_used = row.find(By::Css("td:nth-child(7)")).await?.text().await?;
            assert_ne!(last_used, "Never", "the API call was recorded");
            assert!(text_of(&d, By::Id("inactive-tokens")).await?.contains("No revoked or expired tokens."));
            full_screenshot(&d, 1200, "tokens-list.png").await?;
            full_screenshot(&d, 390, "tokens-list-390.png").await?;

            // Revoke: it moves to the second table and stops working.
            let asked = confirm_in_dialog(&d, By::Css("#active-tokens a.revoke-token")).await?;
            assert!(asked.contains("Revoke the token “CI upload”?") && asked.contains("Jenkins"), "{asked}");
            assert_eq!(text_of(&d, By::Css(".alert.success")).await?, "Token revoked. It no longer works.");
            assert!(text_of(&d, By::Id("active-tokens")).await?.contains("No active tokens."));
            let inactive = text_of(&d, By::Id("inactive-tokens")).await?;
            assert!(inactive.contains("CI upload") && inactive.contains("Revoked") && inactive.contains(&hint));
            assert!(d.find(By::Css("#inactive-tokens a.delete-token")).await?.is_displayed().await?);
            assert!(d.find_all(By::Css("#inactive-tokens .regenerate-token")).await?.is_empty());
            full_screenshot(&d, 1200, "tokens-revoked.png").await?;
            assert_eq!(me_with(&base, &secret).await, StatusCode::UNAUTHORIZED);

            // Delete: gone from both lists.
            let asked = confirm_in_dialog(&d, By::Css("#inactive-tokens a.delete-token")).await?;
            assert!(asked.contains("This cannot be undone."), "{asked}");
            assert_eq!(text_of(&d, By::Css(".alert.success")).await?, "Token deleted.");
            assert!(text_of(&d, By::Id("inactive-tokens")).await?.contains("No revoked or expired tokens."));
            Ok(())
        })
        .await;
}

#[tokio::test]
async fn browser_an_administrator_in_russian_sets_the_policy_edits_regenerates_and_manages_a_users_tokens() {
    let app = TestApp::spawn().await;
    let (_, mut api) = app.admin().await;
    let res = api.patch("/api/v1/me", json!({ "language": "ru", "timezone": "Europe/Moscow" })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let ivan = app.create_user("ivan", Some("ivan@example.org"), USER_PASSWORD, &[Role::User]).await;
    let base = app.base.clone();
    let in_a_month = (app.clock.now() + chrono::Duration::days(30)).format("%Y-%m-%d").to_string();

    Browser::start()
        .await
        .run(|d| async move {
            d.set_window_rect(0, 0, 390, 900).await?;
            d.goto(format!("{base}/login")).await?;
            sign_in(&d, "admin", ADMIN_PASSWORD).await?;
            assert_eq!(heading(&d).await?, "Обзор", "administrators land on the overview");

            // The token policy, from the menu (390 px): allow tokens that never expire, no write scope on settings.
            d.find(By::Css(".menu-button")).await?.click().await?;
            click_and_wait(&d, By::Css(".sidenav a[href='/admin/settings/token-policy']")).await?;
            assert_eq!(heading(&d).await?, "Политика API-токенов");
            assert_eq!(value_of(&d, "default_lifetime_days").await?, "365");
            d.find(By::Id("allow_never_expiring")).await?.click().await?;
            d.find(By::Id("scope-settings-write")).await?.click().await?;
            click_and_wait(&d, By::Id("save-token-policy")).await?;
            assert_eq!(text_of(&d, By::Css(".alert.success")).await?, "Политика API-токенов сохранена.");
            assert!(d.find(By::Id("allow_never_expiring")).await?.is_selected().await?);
            assert!(!d.find(By::Id("scope-settings-write")).await?.is_selected().await?);
            full_screenshot(&d, 390, "token-policy-ru-390.png").await?;
            full_screenshot(&d, 1200, "token-policy-ru.png").await?;

            // Own token: a date a month away (the end of that day in Moscow).
            d.goto(format!("{base}/profile/tokens")).await?;
            assert_eq!(text_of(&d, By::Css(".tabs a[aria-current='page']")).await?, "API-токены");
            assert_eq!(text_of(&d, By::Css("label[for='expiry-never']")).await?, "Бессрочно");
            assert!(d.find_all(By::Id("scope-settings-write")).await?.is_empty(), "not allowed any more");
            click_and_wait(&d, By::Id("create-token-submit")).await?;
            assert!(text_of(&d, By::Id("description-error")).await?.contains("Опишите, для чего нужен токен."));
            assert!(text_of(&d, By::Id("scopes-error")).await?.contains("Выберите хотя бы одну область доступа."));
            fill(&d, "description", "Деплой").await?;
            d.find(By::Id("scope-write")).await?.click().await?;
            d.execute("document.getElementById('expires_at').value = arguments[0]", vec![json!(in_a_month)]).await?;
            d.find(By::Id("expiry-date")).await?.click().await?;
            click_and_wait(&d, By::Id("create-token-submit")).await?;
            assert_eq!(text_of(&d, By::Id("new-token-h")).await?, "Токен «Деплой» выпущен");
            let first = value_of(&d, "new-token").await?;
            full_screenshot(&d, 390, "tokens-secret-ru-390.png").await?;
            click_and_wait(&d, By::Id("token-done")).await?;
            let row = text_of(&d, By::Css("#active-tokens tbody tr")).await?;
            assert!(row.contains(&format!("{in_a_month} 23:59")), "{row}");
            assert!(text_of(&d, By::Css(".zone-note")).await?.contains("Europe/Moscow"));
            full_screenshot(&d, 390, "tokens-list-ru-390.png").await?;
            full_screenshot(&d, 1200, "tokens-list-ru.png").await?;

            // Edit: a new description, never expires.
            click_and_wait(&d, By::Css("#active-tokens a.edit-token")).await?;
            assert_eq!(text_of(&d, By::Css("form h2")).await?, "Изменить токен");
            assert!(d.find(By::Id("expiry-keep")).await?.is_selected().await?);
            assert_eq!(value_of(&d, "expires_at").await?, in_a_month);
            fill(&d, "description", "Деплой (prod)").await?;
            d.find(By::Id("expiry-never")).await?.click().await?;
            full_screenshot(&d, 390, "token-edit-ru-390.png").await?;
            click_and_wait(&d, By::Id("save-token")).await?;
            assert_eq!(text_of(&d, By::Css(".alert.success")).await?, "Токен сохранён.");
            let row = text_of(&d, By::Css("#active-tokens tbody tr")).await?;
            assert!(row.contains("Деплой (prod)") && row.contains("Никогда"), "{row}");

            // Regenerate: a new secret in the same panel; the old one is dead.
            confirm_in_dialog(&d, By::Css("#active-tokens a.regenerate-token")).await?;
            assert_eq!(text_of(&d, By::Id("new-token-h")).await?, "Новый секрет для «Деплой (prod)»");
            let second = value_of(&d, "new-token").await?;
            assert_ne!(first, second);
            assert_eq!(me_with(&base, &first).await, StatusCode::UNAUTHORIZED);
            assert_eq!(me_with(&base, &second).await, StatusCode::OK);

            // Another user's tokens, by address: create one for Ivan, then delete it.
            d.goto(format!("{base}/admin/users/{}/tokens", ivan.id)).await?;
            assert_eq!(heading(&d).await?, "API-токены пользователя Test ivan");
            assert!(text_of(&d, By::Css(".lead")).await?.contains("ivan"));
            fill(&d, "description", "Выгрузка").await?;
            d.find(By::Id("scope-read")).await?.click().await?;
            click_and_wait(&d, By::Id("create-token-submit")).await?;
            let ivans = value_of(&d, "new-token").await?;
            let me = reqwest::Client::new().get(format!("{base}/api/v1/me")).bearer_auth(&ivans).send().await;
            assert_eq!(me.unwrap().json::<serde_json::Value>().await.unwrap()["user_id"], "ivan");
            click_and_wait(&d, By::Id("token-done")).await?;
            assert!(d.find_all(By::Css("#active-tokens .revoke-token, #active-tokens .edit-token")).await?.is_empty());
            full_screenshot(&d, 390, "admin-user-tokens-ru-390.png").await?;
            confirm_in_dialog(&d, By::Css("#active-tokens a.delete-token")).await?;
            assert_eq!(text_of(&d, By::Css(".alert.success")).await?, "Токен удалён.");
            assert_eq!(me_with(&base, &ivans).await, StatusCode::UNAUTHORIZED);
            Ok(())
        })
        .await;
}

// ---- Over plain HTTP: refusals, roles, validation and the policy. ----

/// Posts a form; returns the status, the `Location` header and the page.
async fn post(c: &reqwest::Client, url: String, form: &[(&str, &str)]) -> (StatusCode, String, String) {
    let res = c.post(url).form(form).send().await.unwrap();
    let location = res.headers().get("location").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (res.status(), location, res.text().await.unwrap())
}

/// The secret in the "copy your token" panel of a page.
fn secret_in(html: &str) -> String {
    let after = html.split("id=\"new-token\"").nth(1).unwrap_or_else(|| panic!("no secret panel in {html}"));
    after.split("value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned()
}

/// The id of the first token listed in a page.
fn first_token_id(html: &str) -> String {
    html.split("<tr id=\"token-").nth(1).unwrap().split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn browser_http_token_forms_validate_and_need_the_csrf_token() {
    let app = TestApp::spawn().await;
    app.create_user("dora", Some("dora@example.org"), USER_PASSWORD, &[Role::User]).await;
    let (c, csrf) = web_sign_in(&app, "dora", USER_PASSWORD).await;
    let tokens = format!("{}/profile/tokens", app.base);
    let csrf = csrf.as_str();

    // Invalid input: every problem next to its field, 422, what was typed kept.
    let form = [("csrf_token", csrf), ("description", ""), ("client", "curl"), ("expiry", "default")];
    let (status, _, html) = post(&c, tokens.clone(), &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"description-error\"") && html.contains("Describe what the token is for."));
    assert!(html.contains("id=\"scopes-error\"") && html.contains("Select at least one scope."));
    assert!(html.contains("value=\"curl\""));
    let form = [("csrf_token", csrf), ("description", "x"), ("scopes", "read"), ("expiry", "date"), ("expires_at", "")];
    let (status, _, html) = post(&c, tokens.clone(), &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"expires_at-error\"") && html.contains("Choose a date."), "{html}");
    let form = [
        ("csrf_token", csrf),
        ("description", &"x".repeat(201)),
        ("scopes", "read"),
        ("scopes", "admin"),
        ("expiry", "date"),
        ("expires_at", "2020-01-31"),
    ];
    let (status, _, html) = post(&c, tokens.clone(), &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    for message in
        ["Use at most 200 characters.", "This scope does not exist.", "The expiry date must be in the future."]
    {
        assert!(html.contains(message), "{message}");
    }
    let (status, _, html) = post(&c, tokens.clone(), &[("csrf_token", csrf), ("expiry", "never")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("Your organization does not allow tokens that never expire."));

    // A valid form: a redirect to the list, which shows the secret once; the
    // secret is in no answer to the POST, no address and no cookie.
    let form = [("csrf_token", csrf), ("description", "Backup"), ("scopes", "profile:read"), ("scopes", "read")];
    let res = c.post(&tokens).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/profile/tokens");
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("usher_reveal=") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    assert!(res.text().await.unwrap().is_empty());
    let res = c.get(&tokens).send().await.unwrap();
    assert_eq!(res.headers()["cache-control"], "no-store");
    let html = res.text().await.unwrap();
    let secret = secret_in(&html);
    assert!(!cookie.contains(&secret));
    assert_eq!(me_with(&app.base, &secret).await, StatusCode::OK);
    let id = first_token_id(&html);
    let (_, list) = page(&c, tokens.clone()).await;
    assert!(!list.contains(&secret), "reloading never shows the secret again");
    assert_eq!(list.matches("class=\"token-name\"").count(), html.matches("class=\"token-name\"").count());
    for html in [&html, &list] {
        assert!(!html.contains("style=") && !html.contains("<style"), "no inline style: the CSP forbids it");
        assert_eq!(html.matches("<script").count(), 1, "only the page's script file");
    }

    // Every change needs this session's CSRF token; nothing changes without it.
    for action in ["revoke", "regenerate", "delete", "edit"] {
        for token in ["", "wrong"] {
            let form = [("csrf_token", token), ("description", "Mallory"), ("expiry", "keep")];
            let (status, _, html) = post(&c, format!("{tokens}/{id}/{action}"), &form).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{action}");
            assert!(html.contains("This form has expired"), "{action}");
        }
    }
    let (status, _, _) = post(&c, tokens.clone(), &[("description", "x"), ("scopes", "read")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(me_with(&app.base, &secret).await, StatusCode::OK);
    let (_, list) = page(&c, tokens.clone()).await;
    assert!(list.contains("Backup") && !list.contains("Mallory") && list.matches("<tr id=\"token-").count() == 1);

    // Edit: a past date is refused next to the field; a good one saves.
    let edit = format!("{tokens}/{id}/edit");
    let (status, html) = page(&c, edit.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("value=\"Backup\"") && html.contains("id=\"expiry-keep\" value=\"keep\" checked"));
    let form = [("csrf_token", csrf), ("description", "Backup"), ("expiry", "date"), ("expires_at", "2001-01-01")];
    let (status, _, html) = post(&c, edit.clone(), &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("The expiry date must be in the future."));
    let form = [("csrf_token", csrf), ("description", "Nightly backup"), ("expiry", "keep")];
    let (status, location, _) = post(&c, edit.clone(), &form).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/profile/tokens?done=saved"));

    // Unknown and malformed ids: a 404 page.
    for path in [format!("{tokens}/{}/edit", uuid::Uuid::now_v7()), format!("{tokens}/not-an-id/edit")] {
        let (status, html) = page(&c, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(html.contains("Page not found"));
    }

    // Revoked: no more editing or regenerating (409), still deletable.
    let (status, location, _) = post(&c, format!("{tokens}/{id}/revoke"), &[("csrf_token", csrf)]).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/profile/tokens?done=revoked"));
    let (status, html) = page(&c, edit.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(html.contains("This token is revoked: it can no longer be changed or regenerated."), "{html}");
    assert_eq!(post(&c, format!("{tokens}/{id}/regenerate"), &[("csrf_token", csrf)]).await.0, StatusCode::CONFLICT);
    let (status, location, _) = post(&c, format!("{tokens}/{id}/delete"), &[("csrf_token", csrf)]).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/profile/tokens?done=deleted"));
}

#[tokio::test]
async fn browser_http_admin_token_pages_follow_roles() {
    let app = TestApp::spawn().await;
    let admin = app.create_user("admin", Some("admin@example.org"), ADMIN_PASSWORD, &[Role::Administrator]).await;
    let user = app.create_user("uma", Some("uma@example.org"), USER_PASSWORD, &[Role::User]).await;
    app.create_user("manny", Some("manny@example.org"), USER_PASSWORD, &[Role::UserManager]).await;
    app.create_user("otto", Some("otto@example.org"), USER_PASSWORD, &[Role::User]).await;
    let users = format!("{}/admin/users", app.base);

    // A plain user: 403 on another user's tokens, reading or changing.
    let (otto, otto_csrf) = web_sign_in(&app, "otto", USER_PASSWORD).await;
    let (status, html) = page(&otto, format!("{users}/{}/tokens", user.id)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("Access denied"));
    let form = [("csrf_token", otto_csrf.as_str()), ("description", "x"), ("scopes", "read")];
    assert_eq!(post(&otto, format!("{users}/{}/tokens", user.id), &form).await.0, StatusCode::FORBIDDEN);

    // A User Manager: a user's tokens yes, an Administrator's no.
    let (manny, manny_csrf) = web_sign_in(&app, "manny", USER_PASSWORD).await;
    let manny_csrf = manny_csrf.as_str();
    let (status, html) = page(&manny, format!("{users}/{}/tokens", admin.id)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("Access denied"));
    let form = [("csrf_token", manny_csrf), ("description", "x"), ("scopes", "read")];
    assert_eq!(post(&manny, format!("{users}/{}/tokens", admin.id), &form).await.0, StatusCode::FORBIDDEN);
    let (status, html) = page(&manny, format!("{users}/{}/tokens", user.id)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("API tokens of Test uma") && html.contains("<strong>uma</strong>"));
    assert_eq!(page(&manny, format!("{users}/{}/tokens", uuid::Uuid::now_v7())).await.0, StatusCode::NOT_FOUND);
    assert_eq!(page(&manny, format!("{users}/nope/tokens")).await.0, StatusCode::NOT_FOUND);

    // Creating for the user: the secret is shown to the manager once, and works as the user.
    let form = [("csrf_token", "wrong"), ("description", "Sync"), ("scopes", "read")];
    assert_eq!(post(&manny, format!("{users}/{}/tokens", user.id), &form).await.0, StatusCode::FORBIDDEN);
    let form = [("csrf_token", manny_csrf), ("description", "Sync"), ("client", "Ansible"), ("scopes", "read")];
    let (status, location, _) = post(&manny, format!("{users}/{}/tokens", user.id), &form).await;
    assert_eq!((status, location.clone()), (StatusCode::SEE_OTHER, format!("/admin/users/{}/tokens", user.id)));
    let (_, html) = page(&manny, format!("{}{location}", app.base)).await;
    let secret = secret_in(&html);
    let me = reqwest::Client::new().get(format!("{}/api/v1/me", app.base)).bearer_auth(&secret).send().await.unwrap();
    assert_eq!(me.json::<serde_json::Value>().await.unwrap()["user_id"], "uma");
    let id = first_token_id(&html);
    assert!(html.contains(&format!("href=\"/admin/users/{}/tokens/{id}/delete\"", user.id)));
    assert!(!html.contains("/revoke\"") && !html.contains("/edit\""), "managers delete; owners edit and revoke");

    // Deleting: CSRF first, then gone.
    let delete = format!("{users}/{}/tokens/{id}/delete", user.id);
    assert_eq!(post(&manny, delete.clone(), &[("csrf_token", "wrong")]).await.0, StatusCode::FORBIDDEN);
    assert_eq!(post(&otto, delete.clone(), &[("csrf_token", otto_csrf.as_str())]).await.0, StatusCode::FORBIDDEN);
    assert_eq!(me_with(&app.base, &secret).await, StatusCode::OK);
    let (status, location, _) = post(&manny, delete.clone(), &[("csrf_token", manny_csrf)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, format!("/admin/users/{}/tokens?done=deleted", user.id));
    assert_eq!(me_with(&app.base, &secret).await, StatusCode::UNAUTHORIZED);

    // An Administrator reaches anyone, themselves included.
    let (admin_c, _) = web_sign_in(&app, "admin", ADMIN_PASSWORD).await;
    assert_eq!(page(&admin_c, format!("{users}/{}/tokens", user.id)).await.0, StatusCode::OK);
    assert_eq!(page(&admin_c, format!("{users}/{}/tokens", admin.id)).await.0, StatusCode::OK);
}

#[tokio::test]
async fn browser_http_the_token_policy_page_saves_and_shapes_the_token_form() {
    let app = TestApp::spawn().await;
    app.create_user("admin", Some("admin@example.org"), ADMIN_PASSWORD, &[Role::Administrator]).await;
    app.create_user("pia", Some("pia@example.org"), USER_PASSWORD, &[Role::User]).await;
    let org = app.usher.organization(None).await.unwrap().unwrap().id;
    let (admin, csrf) = web_sign_in(&app, "admin", ADMIN_PASSWORD).await;
    let (pia, pia_csrf) = web_sign_in(&app, "pia", USER_PASSWORD).await;
    let policy_url = format!("{}/admin/settings/token-policy", app.base);
    let tokens = format!("{}/profile/tokens", app.base);
    let csrf = csrf.as_str();

    // Only administrators, and only with the session's CSRF token.
    assert_eq!(page(&pia, policy_url.clone()).await.0, StatusCode::FORBIDDEN);
    let form = [("csrf_token", pia_csrf.as_str()), ("default_lifetime_days", "1"), ("scopes", "read")];
    assert_eq!(post(&pia, policy_url.clone(), &form).await.0, StatusCode::FORBIDDEN);
    let form = [("csrf_token", "wrong"), ("default_lifetime_days", "1"), ("scopes", "read")];
    assert_eq!(post(&admin, policy_url.clone(), &form).await.0, StatusCode::FORBIDDEN);
    assert_eq!(app.usher.token_policy(org).await.unwrap(), TokenPolicy::default());
    let (status, html) = page(&admin, policy_url.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("value=\"365\"") && html.contains("id=\"scope-audit-read\" value=\"audit:read\" checked"));
    assert!(html.contains("href=\"/admin/settings/token-policy\" aria-current=\"page\""));

    // Allow never-expiring tokens: the user's form offers "Never", and it works.
    let allow = [
        ("csrf_token", csrf),
        ("default_lifetime_days", "90"),
        ("max_lifetime_days", ""),
        ("allow_never_expiring", "on"),
        ("scopes", "read"),
        ("scopes", "profile:read"),
    ];
    let (status, location, _) = post(&admin, policy_url.clone(), &allow).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/admin/settings/token-policy?saved=1"));
    assert!(page(&admin, format!("{policy_url}?saved=1")).await.1.contains("API token policy saved."));
    let (_, html) = page(&pia, tokens.clone()).await;
    assert!(html.contains("id=\"expiry-never\"") && html.contains("Default (90 days)"));
    assert!(html.contains("id=\"scope-read\"") && !html.contains("id=\"scope-write\""));
    let form = [("csrf_token", pia_csrf.as_str()), ("description", "Kiosk"), ("scopes", "read"), ("expiry", "never")];
    let (status, location, _) = post(&pia, tokens.clone(), &form).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/profile/tokens"));
    let (_, html) = page(&pia, tokens.clone()).await;
    let row = html.split("id=\"active-tokens\"").nth(1).unwrap();
    assert!(row.contains("Kiosk") && row.matches(">Never<").count() == 2, "expires and last used: Never");

    // A scope the policy leaves out is refused.
    let form = [("csrf_token", pia_csrf.as_str()), ("description", "x"), ("scopes", "write")];
    let (status, _, html) = post(&pia, tokens.clone(), &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("Your organization does not allow one of the selected scopes."));

    // A cap and "never" together are refused, with the fields kept.
    let both = [
        ("csrf_token", csrf),
        ("default_lifetime_days", "90"),
        ("max_lifetime_days", "30"),
        ("allow_never_expiring", "on"),
        ("scopes", "read"),
    ];
    let (status, _, html) = post(&admin, policy_url.clone(), &both).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"allow_never_expiring-error\""));
    assert!(html.contains("The default lifetime cannot be longer than the longest lifetime."));
    assert!(html.contains("value=\"30\""));
    let form = [("csrf_token", csrf), ("default_lifetime_days", "abc"), ("scopes", "read")];
    let (status, _, html) = post(&admin, policy_url.clone(), &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"default_lifetime_days-error\"") && html.contains("Enter a whole number."));
    let (status, _, html) =
        post(&admin, policy_url.clone(), &[("csrf_token", csrf), ("default_lifetime_days", "9")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"scopes-error\""));

    // A 30-day cap: no "Never" any more, the cap shown, longer dates refused.
    let cap = [("csrf_token", csrf), ("default_lifetime_days", "30"), ("max_lifetime_days", "30"), ("scopes", "read")];
    assert_eq!(post(&admin, policy_url.clone(), &cap).await.0, StatusCode::SEE_OTHER);
    let policy = app.usher.token_policy(org).await.unwrap();
    assert_eq!((policy.max_lifetime_days, policy.allow_never_expiring), (Some(30), false));
    let (_, html) = page(&pia, tokens.clone()).await;
    assert!(!html.contains("id=\"expiry-never\""));
    assert!(html.contains("Tokens may live at most 30 days in your organization."));
    let later = (app.clock.now() + chrono::Duration::days(60)).format("%Y-%m-%d").to_string();
    let form = [
        ("csrf_token", pia_csrf.as_str()),
        ("description", "Long"),
        ("scopes", "read"),
        ("expiry", "date"),
        ("expires_at", later.as_str()),
    ];
    let (status, _, html) = post(&pia, tokens.clone(), &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"expires_at-error\""));
    let form = [("csrf_token", pia_csrf.as_str()), ("description", "Kiosk 2"), ("scopes", "read"), ("expiry", "never")];
    let (status, _, html) = post(&pia, tokens.clone(), &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("Your organization does not allow tokens that never expire."));
}
