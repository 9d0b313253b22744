//! The Security tab in a real browser: turning two-step verification on with the
//! secret read from the page, signing in with a code, listing sessions and ending
//! another one. Then, over plain HTTP, what a browser cannot see: the forced
//! enrolment, the second-step form's answers, the lock message and the
//! administrators' pages.

use reqwest::StatusCode;
use serde_json::json;
use thirtyfour::prelude::*;
use usher_domain::Role;

use super::{
    Browser, click_and_wait, confirm_in_dialog, fill, heading, hidden, http, page, sign_in, text_of, web_sign_in,
};
use crate::{
    helpers::{ADMIN_PASSWORD, Client, TestApp, USER_PASSWORD, artifacts_dir},
    mfa::Authenticator,
};

/// Resizes the window to the page's full height, then saves a screenshot of it all.
async fn full_screenshot(d: &WebDriver, name: &str) -> WebDriverResult<()> {
    let height = d.execute("return document.documentElement.scrollHeight", vec![]).await?.convert::<u32>()?;
    d.set_window_rect(0, 0, 1200, height.clamp(600, 6000) + 100).await?;
    d.screenshot(&artifacts_dir().join(name)).await?;
    d.set_window_rect(0, 0, 1200, 900).await
}

#[tokio::test]
async fn browser_a_user_turns_on_two_step_signs_in_with_a_code_and_ends_another_session() {
    let app = TestApp::spawn().await;
    app.create_user("yara", Some("yara@example.org"), USER_PASSWORD, &[Role::User]).await;
    let base = app.base.clone();
    let clock = app.clock.clone();

    Browser::start()
        .await
        .run(|d| async move {
            d.goto(format!("{base}/login?lang=en")).await?;
            sign_in(&d, "yara", USER_PASSWORD).await?;
            click_and_wait(&d, By::Css(".tabs a[href='/profile/security']")).await?;
            assert_eq!(text_of(&d, By::Id("two-step-status")).await?, "Off");

            // Set up: the QR code, and the key to read off the page.
            click_and_wait(&d, By::Id("set-up-two-step")).await?;
            assert_eq!(heading(&d).await?, "Set up two-step verification");
            let qr = d.find(By::Id("totp-qr")).await?;
            assert!(qr.attr("src").await?.unwrap_or_default().starts_with("data:image/svg+xml;base64,"));
            assert!(!qr.attr("alt").await?.unwrap_or_default().is_empty());
            let shown = text_of(&d, By::Id("totp-secret")).await?;
            assert_eq!(shown.split(' ').count(), 8, "the key in groups of four: {shown}");
            let mut phone = Authenticator::new(&clock, &shown);
            full_screenshot(&d, "two-step-setup.png").await?;

            // A wrong code is said next to the field; the right one turns it on.
            fill(&d, "code", &phone.wrong_code()).await?;
            click_and_wait(&d, By::Id("confirm-two-step-submit")).await?;
            assert!(!text_of(&d, By::Id("code-error")).await?.is_empty());
            fill(&d, "code", &phone.next_code()).await?;
            click_and_wait(&d, By::Id("confirm-two-step-submit")).await?;
            assert_eq!(heading(&d).await?, "Recovery codes");
            let codes: Vec<String> = {
                let mut out = Vec::new();
                for li in d.find_all(By::Css("#recovery-codes li")).await? {
                    out.push(li.text().await?);
                }
                out
            };
            assert_eq!(codes.len(), 10);
            full_screenshot(&d, "two-step-codes.png").await?;
            click_and_wait(&d, By::Id("codes-done")).await?;
            assert_eq!(text_of(&d, By::Id("two-step-status")).await?, "On");
            assert_eq!(text_of(&d, By::Id("codes-left")).await?, "10");

            // Sign out, then in: the password, then a code.
            d.query(By::Css(".usermenu summary")).first().await?.click().await?;
            click_and_wait(&d, By::Css("form[action='/logout'] button[type=submit]")).await?;
            sign_in(&d, "yara", USER_PASSWORD).await?;
            assert_eq!(heading(&d).await?, "Enter your code");
            let code = d.find(By::Id("code")).await?;
            assert_eq!(code.attr("autocomplete").await?.as_deref(), Some("one-time-code"));
            fill(&d, "code", &phone.next_code()).await?;
            click_and_wait(&d, By::Id("mfa-submit")).await?;
            assert_eq!(d.current_url().await?.path(), "/profile");

            // Another device signs in (with a recovery code) and shows up in the list.
            let mut other = Client {
                http: reqwest::Client::builder().cookie_store(true).user_agent("curl/8.5.0").build().unwrap(),
                base: base.clone(),
                csrf: None,
            };
            let res = other.post("/api/v1/auth/login", json!({ "login": "yara", "password": USER_PASSWORD })).await;
            let ticket = res.body["ticket"].as_str().unwrap().to_owned();
            let res =
                other.post("/api/v1/auth/login/mfa", json!({ "ticket": ticket, "recovery_code": codes[0] })).await;
            assert_eq!(res.status, StatusCode::OK, "{}", res.body);

            click_and_wait(&d, By::Css(".tabs a[href='/profile/security']")).await?;
            let rows = d.find_all(By::Css("#sessions tbody tr")).await?;
            assert_eq!(rows.len(), 2);
            let current = d.find(By::Css("#sessions tr.current-session")).await?;
            assert!(current.text().await?.contains("This session"));
            assert!(current.text().await?.contains("Chrome on Linux"), "{}", current.text().await?);
            full_screenshot(&d, "security-sessions.png").await?;

            // End the other one: it is signed out, this one is not.
            let other_row = d.find(By::Css("#sessions tbody tr:not(.current-session)")).await?;
            assert!(other_row.text().await?.contains("curl"));
            let id = other_row.attr("id").await?.unwrap_or_default();
            let asked = confirm_in_dialog(&d, By::Css(format!("#{id} a.end-session"))).await?;
            assert!(asked.contains("Sign out curl?"), "{asked}");
            assert_eq!(text_of(&d, By::Css(".alert.success")).await?, "The session has ended.");
            assert_eq!(d.find_all(By::Css("#sessions tbody tr")).await?.len(), 1);
            assert_eq!(other.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
            Ok(())
        })
        .await;
}

#[tokio::test]
async fn browser_http_forced_enrolment_second_step_answers_and_locks() {
    let app = TestApp::spawn().await;
    app.create_user("admin", Some("admin@example.org"), ADMIN_PASSWORD, &[Role::Administrator]).await;
    app.create_user("zed", Some("zed@example.org"), USER_PASSWORD, &[Role::User]).await;
    let (admin, admin_csrf) = web_sign_in(&app, "admin", ADMIN_PASSWORD).await;

    // The administrator requires two-step verification from the settings page.
    let settings = format!("{}/admin/settings/two-step", app.base);
    let (status, html) = page(&admin, settings.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"required\"") && !html.contains("checked"));
    let res =
        admin.post(&settings).form(&[("csrf_token", admin_csrf.as_str()), ("required", "1")]).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/admin/settings/two-step?saved=1");
    assert!(page(&admin, settings.clone()).await.1.contains("checked"));

    // Zed signs in: every page leads to the enrolment page until it is done.
    let c = http();
    let (_, html) = page(&c, format!("{}/login", app.base)).await;
    let login_csrf = hidden(&html, "csrf_token");
    let form = [("csrf_token", login_csrf.as_str()), ("login", "zed"), ("password", USER_PASSWORD)];
    let res = c.post(format!("{}/login", app.base)).form(&form).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/profile/security/two-step");
    for path in ["/profile", "/profile/tokens", "/profile/security", "/"] {
        let res = c.get(format!("{}{path}", app.base)).send().await.unwrap();
        let location = res.headers().get("location").map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default();
        assert!(location == "/profile/security/two-step" || location == "/profile", "{path}: {location}");
    }
    let (status, html) = page(&c, format!("{}/profile/security/two-step", app.base)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"two-step-required\""));
    let secret = html.split("data-secret=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let mut phone = Authenticator::new(&app.clock, &secret);
    let csrf = hidden(&html, "csrf_token");
    let res = c
        .post(format!("{}/profile/security/two-step", app.base))
        .form(&[("csrf_token", csrf.as_str()), ("code", phone.next_code().as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["set-cookie"].to_str().unwrap().starts_with("usher_session="), "a normal session now");
    assert_eq!(res.text().await.unwrap().matches("<li><code>").count(), 10);
    assert_eq!(c.get(format!("{}/profile", app.base)).send().await.unwrap().status(), StatusCode::OK);

    // The second step: a wrong code shows the form again (401); a stale ticket asks to start over.
    let c = http();
    let (_, html) = page(&c, format!("{}/login", app.base)).await;
    let login_csrf = hidden(&html, "csrf_token");
    let form = [("csrf_token", login_csrf.as_str()), ("login", "zed"), ("password", USER_PASSWORD)];
    let res = c.post(format!("{}/login", app.base)).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    let ticket = hidden(&html, "ticket");
    let wrong = phone.wrong_code();
    let form = [("csrf_token", login_csrf.as_str()), ("ticket", ticket.as_str()), ("code", wrong.as_str())];
    let res = c.post(format!("{}/login/mfa", app.base)).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"mfa-error\"") && html.contains("id=\"mfa-form\""));
    let form = [("csrf_token", login_csrf.as_str()), ("ticket", "stale"), ("code", wrong.as_str())];
    let res = c.post(format!("{}/login/mfa", app.base)).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.text().await.unwrap().contains("id=\"sign-in-again\""));
    let form = [("csrf_token", "forged"), ("ticket", ticket.as_str()), ("code", wrong.as_str())];
    assert_eq!(
        c.post(format!("{}/login/mfa", app.base)).form(&form).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );

    // Locked: the sign-in form says so (429), for a known and an unknown user alike.
    let mut bodies = Vec::new();
    for login in ["zed", "nobody"] {
        for _ in 0..5 {
            let form = [("csrf_token", login_csrf.as_str()), ("login", login), ("password", "wrong-wrong")];
            c.post(format!("{}/login", app.base)).form(&form).send().await.unwrap();
        }
        let form = [("csrf_token", login_csrf.as_str()), ("login", login), ("password", USER_PASSWORD)];
        let res = c.post(format!("{}/login", app.base)).form(&form).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        let html = res.text().await.unwrap();
        assert!(html.contains("Too many failed sign-in attempts"));
        bodies.push(html.replace(login, "LOGIN"));
    }
    assert_eq!(bodies[0], bodies[1]);
}

#[tokio::test]
async fn browser_http_administrators_lift_a_lock_and_reset_two_step_from_the_users_security_page() {
    let app = TestApp::spawn().await;
    app.create_user("admin", Some("admin@example.org"), ADMIN_PASSWORD, &[Role::Administrator]).await;
    let (amy, mut amy_api) = app.user("amy").await;
    crate::mfa::enrol(&app, &mut amy_api).await;
    for _ in 0..5 {
        app.client().post("/api/v1/auth/login", json!({ "login": "amy", "password": "nope-nope" })).await;
    }
    let (admin, csrf) = web_sign_in(&app, "admin", ADMIN_PASSWORD).await;
    let (_, details) = page(&admin, format!("{}/admin/users/{}", app.base, amy.id)).await;
    assert!(details.contains(&format!("href=\"/admin/users/{}/security\"", amy.id)), "the details page links here");
    let url = format!("{}/admin/users/{}/security", app.base, amy.id);
    let (status, html) = page(&admin, url.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"lock-status\">Locked") && html.contains("id=\"locked-until\""), "{html}");
    assert!(html.contains("id=\"user-two-step-status\">On"));

    let res = admin.post(format!("{url}/unlock")).form(&[("csrf_token", csrf.as_str())]).send().await.unwrap();
    assert_eq!(res.headers()["location"].to_str().unwrap(), format!("/admin/users/{}/security?done=unlocked", amy.id));
    let res = admin.post(format!("{url}/mfa-reset")).form(&[("csrf_token", csrf.as_str())]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, html) = page(&admin, format!("{url}?done=mfa_reset")).await;
    assert!(html.contains("id=\"lock-status\">Not locked") && html.contains("id=\"user-two-step-status\">Off"));
    assert!(html.contains("Two-step verification has been reset."));
    let res = app.client().post("/api/v1/auth/login", json!({ "login": "amy", "password": USER_PASSWORD })).await;
    assert_eq!(res.body["user_id"], "amy");

    // Forms need the token; other users get 403; unknown ids 404.
    let res = admin.post(format!("{url}/unlock")).form(&[("csrf_token", "nope")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let (c, _) = web_sign_in(&app, "amy", USER_PASSWORD).await;
    assert_eq!(page(&c, url.clone()).await.0, StatusCode::FORBIDDEN);
    assert_eq!(page(&c, format!("{}/admin/settings/two-step", app.base)).await.0, StatusCode::FORBIDDEN);
    let (status, _) = page(&admin, format!("{}/admin/users/{}/security", app.base, uuid::Uuid::now_v7())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(page(&admin, format!("{}/admin/users/nope/security", app.base)).await.0, StatusCode::NOT_FOUND);
}
