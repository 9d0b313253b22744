//! The web UI in a real browser: Debian's Chromium driven through its
//! chromedriver, against a server spawned on a fresh database. Every wait is
//! on an element (a page replaced, a heading shown), never on the clock.
//!
//! The second half checks what a browser cannot see: status codes, cookies,
//! CSRF refusals and headers of the same pages, with plain HTTP.

use std::{path::Path, process::Stdio, time::Duration};

use reqwest::{StatusCode, redirect::Policy};
use serde_json::json;
use thirtyfour::prelude::*;
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};
use usher_domain::{PasswordPolicy, Role};

use crate::helpers::{ADMIN_PASSWORD, TestApp, USER_PASSWORD, artifacts_dir, hidden};

mod access;
mod console;
mod directory;
mod invitations;
mod metadata;
mod recovery_codes;
mod security;
mod tokens;
mod users;
mod zones;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// A chromedriver child process and a Chromium session on a throw-away profile.
struct Browser {
    driver: WebDriver,
    _chromedriver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn start() -> Self {
        for bin in [CHROMEDRIVER, CHROMIUM] {
            assert!(
                Path::new(bin).exists(),
                "{bin} is missing: the browser tests need Debian's Chromium and its driver \
                 (apt-get install chromium chromium-driver)"
            );
        }
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
            listener.local_addr().expect("its address").port()
        };
        let mut chromedriver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}"));
        let mut lines = BufReader::new(chromedriver.stdout.take().expect("chromedriver stdout")).lines();
        let mut seen = Vec::new();
        loop {
            match tokio::time::timeout(Duration::from_secs(60), lines.next_line()).await {
                Ok(Ok(Some(line))) if line.contains("started successfully") => break,
                Ok(Ok(Some(line))) => seen.push(line),
                other => panic!("chromedriver did not start ({other:?}); it said: {seen:#?}"),
            }
        }
        // Keep reading, so chromedriver never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

        let profile = tempfile::tempdir().expect("profile folder");
        let mut caps = DesiredCapabilities::chrome();
        caps.set_binary(CHROMIUM).unwrap();
        let user_data_dir = format!("--user-data-dir={}", profile.path().display());
        for arg in [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
            "--window-size=1200,900",
            "--lang=en-US",
            &user_data_dir,
        ] {
            caps.add_arg(arg).unwrap();
        }
        caps.add_experimental_option("prefs", json!({ "intl.accept_languages": "en-US,en" })).unwrap();
        let driver = WebDriver::new(format!("http://127.0.0.1:{port}"), caps).await.expect("a Chromium session");
        Self { driver, _chromedriver: chromedriver, _profile: profile }
    }

    /// Runs the test body, then closes the browser, even when the body panics.
    async fn run<F, Fut>(self, body: F)
    where
        F: FnOnce(WebDriver) -> Fut,
        Fut: Future<Output = WebDriverResult<()>>,
    {
        let Self { driver, _chromedriver, _profile } = self;
        if let Err(e) = driver.run_and_quit(body).await {
            panic!("browser test failed: {e}");
        }
    }
}

/// Types into the input with this id, replacing what it held.
async fn fill(d: &WebDriver, id: &str, text: &str) -> WebDriverResult<()> {
    let input = d.query(By::Id(id)).first().await?;
    input.clear().await?;
    input.send_keys(text).await
}

/// Clicks, then waits until the browser has replaced the page.
async fn click_and_wait(d: &WebDriver, target: By) -> WebDriverResult<()> {
    let page = d.find(By::Tag("html")).await?;
    d.query(target).and_clickable().first().await?.click().await?;
    page.wait_until().stale().await
}

/// Clicks a destructive action's link: its confirmation opens in a dialog
/// over the page (nothing is done yet); answers the dialog's text, then
/// confirms and waits until the action's answer replaced the page.
async fn confirm_in_dialog(d: &WebDriver, target: By) -> WebDriverResult<String> {
    let page = d.find(By::Tag("html")).await?;
    d.query(target).and_clickable().first().await?.click().await?;
    let dialog = d.query(By::Css("dialog.confirm-dialog[open]")).and_displayed().first().await?;
    let text = dialog.text().await?;
    assert!(page.is_present().await?, "the confirmation opened over the page, which stays");
    let page = d.find(By::Tag("html")).await?;
    dialog.find(By::Css("button[type=submit]")).await?.click().await?;
    page.wait_until().stale().await?;
    Ok(text)
}

async fn text_of(d: &WebDriver, target: By) -> WebDriverResult<String> {
    d.query(target).first().await?.text().await
}

async fn value_of(d: &WebDriver, id: &str) -> WebDriverResult<String> {
    Ok(d.query(By::Id(id)).first().await?.prop("value").await?.unwrap_or_default())
}

async fn heading(d: &WebDriver) -> WebDriverResult<String> {
    text_of(d, By::Tag("h1")).await
}

async fn page_lang(d: &WebDriver) -> WebDriverResult<String> {
    Ok(d.find(By::Tag("html")).await?.attr("lang").await?.unwrap_or_default())
}

async fn sign_in(d: &WebDriver, login: &str, password: &str) -> WebDriverResult<()> {
    fill(d, "login", login).await?;
    fill(d, "password", password).await?;
    click_and_wait(d, By::Css("form[action='/login'] button[type=submit]")).await
}

async fn save_screenshot(d: &WebDriver, name: &str) -> WebDriverResult<()> {
    d.screenshot(&artifacts_dir().join(name)).await
}

#[tokio::test]
async fn browser_a_user_edits_the_profile_in_french_and_changes_the_password() {
    let app = TestApp::spawn().await;
    app.create_user("jeanne", Some("jeanne@example.org"), USER_PASSWORD, &[Role::User]).await;
    let base = app.base.clone();
    let new_password = "Blue-Harbor-Lantern-93";

    Browser::start()
        .await
        .run(|d| async move {
            d.goto(format!("{base}/login?lang=en")).await?;
            assert_eq!(heading(&d).await?, "Sign in to Usher");
            assert_eq!(page_lang(&d).await?, "en");

            // Sign in through the form and land on My profile.
            sign_in(&d, "jeanne", USER_PASSWORD).await?;
            assert_eq!(heading(&d).await?, "My profile");
            assert_eq!(d.current_url().await?.path(), "/profile");
            assert_eq!(value_of(&d, "email").await?, "jeanne@example.org");

            // Edit the profile and switch the language to French.
            fill(&d, "first_name", "Jeanne").await?;
            fill(&d, "phone", "+33 6 12 34 56 78").await?;
            d.query(By::Css("#language option[value='fr']")).first().await?.click().await?;
            click_and_wait(&d, By::Css("form[action='/profile'] button[type=submit]")).await?;
            assert_eq!(heading(&d).await?, "Mon profil");
            assert_eq!(page_lang(&d).await?, "fr");
            assert_eq!(text_of(&d, By::Css(".alert.success")).await?, "Profil enregistré.");
            assert_eq!(value_of(&d, "phone").await?, "+33612345678", "stored and shown in E.164");
            assert_eq!(value_of(&d, "first_name").await?, "Jeanne");
            assert_eq!(text_of(&d, By::Css("a[href='/profile'][aria-current='page']")).await?, "Mon profil");
            save_screenshot(&d, "profile-fr.png").await?;

            // A bad phone number: a translated error next to the field, the input kept.
            fill(&d, "phone", "12345").await?;
            click_and_wait(&d, By::Css("form[action='/profile'] button[type=submit]")).await?;
            let error = text_of(&d, By::Id("phone-error")).await?;
            assert!(error.contains("Ce numéro de téléphone n'est pas valide"), "{error}");
            let phone = d.find(By::Id("phone")).await?;
            assert_eq!(phone.attr("aria-invalid").await?.as_deref(), Some("true"));
            assert!(phone.attr("aria-describedby").await?.unwrap_or_default().contains("phone-error"));
            assert_eq!(value_of(&d, "phone").await?, "12345");
            assert_eq!(value_of(&d, "first_name").await?, "Jeanne");
            save_screenshot(&d, "profile-fr-invalid.png").await?;

            // The Security tab: a too short password breaks a rule, then a good one.
            click_and_wait(&d, By::Css(".tabs a[href='/profile/security']")).await?;
            assert_eq!(text_of(&d, By::Css("form h2")).await?, "Changer le mot de passe");
            let rules = text_of(&d, By::Id("password-rules")).await?;
            assert!(rules.contains("Au moins 8 caractères"), "{rules}");
            fill(&d, "current_password", USER_PASSWORD).await?;
            fill(&d, "new_password", "court1").await?;
            fill(&d, "repeat_password", "court1").await?;
            click_and_wait(&d, By::Css("form[action='/profile/security/password'] button[type=submit]")).await?;
            let error = text_of(&d, By::Id("new_password-error")).await?;
            assert!(error.contains("Utilisez au moins 8 caractères."), "{error}");
            fill(&d, "current_password", USER_PASSWORD).await?;
            fill(&d, "new_password", new_password).await?;
            fill(&d, "repeat_password", new_password).await?;
            click_and_wait(&d, By::Css("form[action='/profile/security/password'] button[type=submit]")).await?;
            assert_eq!(text_of(&d, By::Css(".alert.success")).await?, "Votre mot de passe a été modifié.");
            save_screenshot(&d, "security-fr.png").await?;

            // Sign out from the user menu; the sign-in page stays in French.
            d.query(By::Css(".usermenu summary")).first().await?.click().await?;
            click_and_wait(&d, By::Css("form[action='/logout'] button[type=submit]")).await?;
            assert_eq!(d.current_url().await?.path(), "/login");
            assert_eq!(text_of(&d, By::Css(".alert.success")).await?, "Vous êtes déconnecté.");

            // The old password no longer works; the new one does.
            sign_in(&d, "jeanne", USER_PASSWORD).await?;
            assert_eq!(text_of(&d, By::Id("login-error")).await?, "L'identifiant ou le mot de passe est incorrect.");
            assert_eq!(value_of(&d, "login").await?, "jeanne", "the user ID is kept, the password is not");
            sign_in(&d, "jeanne", new_password).await?;
            assert_eq!(heading(&d).await?, "Mon profil");
            Ok(())
        })
        .await;
}

#[tokio::test]
async fn browser_the_setup_link_creates_an_administrator_who_applies_a_policy_preset() {
    let app = TestApp::spawn().await;
    let link = app.setup_link.clone().expect("a fresh server has a setup link");
    let org = app.usher.organization(None).await.unwrap().expect("default organization");
    app.create_user("dora", Some("dora@example.org"), USER_PASSWORD, &[Role::User, Role::UserManager]).await;

    let base = app.base.clone();
    Browser::start()
        .await
        .run(|d| async move {
            d.goto(&link).await?;
            assert_eq!(heading(&d).await?, "Create the first administrator");
            fill(&d, "user_id", "root").await?;
            fill(&d, "email", "root@example.org").await?;
            fill(&d, "first_name", "Ada").await?;
            fill(&d, "last_name", "Admin").await?;
            fill(&d, "password", ADMIN_PASSWORD).await?;
            fill(&d, "repeat_password", ADMIN_PASSWORD).await?;
            click_and_wait(&d, By::Css("main form button[type=submit]")).await?;
            assert_eq!(heading(&d).await?, "My profile");
            assert_eq!(text_of(&d, By::Css(".facts .badge")).await?, "Administrator");

            // The link was single use.
            d.goto(&link).await?;
            assert_eq!(heading(&d).await?, "This setup link cannot be used");

            // Password policy: load the Ivanti preset, then save it.
            d.goto(format!("{base}/profile")).await?;
            click_and_wait(&d, By::Css(".sidenav a[href='/admin/settings/password-policy']")).await?;
            assert_eq!(heading(&d).await?, "Password policy");
            d.query(By::Id("preset-ivanti")).first().await?.click().await?;
            click_and_wait(&d, By::Id("load-preset")).await?;
            assert!(d.query(By::Css(".alert.info")).exists().await?, "the preset is loaded, not saved");
            assert_eq!(value_of(&d, "min_length").await?, "6");
            assert!(d.find(By::Id("require_digit_or_special")).await?.is_selected().await?);
            assert!(!d.find(By::Id("forbid_user_id")).await?.is_selected().await?);
            click_and_wait(&d, By::Id("save-policy")).await?;
            assert_eq!(text_of(&d, By::Css(".alert.success")).await?, "Password policy saved.");
            assert_eq!(value_of(&d, "min_length").await?, "6");
            save_screenshot(&d, "password-policy.png").await?;

            // The change is in the audit log.
            click_and_wait(&d, By::Css(".sidenav a[href='/admin/audit']")).await?;
            assert_eq!(heading(&d).await?, "Audit log");
            let table = text_of(&d, By::Css("table tbody")).await?;
            assert!(table.contains("Password policy changed"), "{table}");
            assert!(table.contains("First administrator created"), "{table}");
            save_screenshot(&d, "audit-log.png").await?;

            // The Users page leads to each user's API tokens.
            click_and_wait(&d, By::Css(".sidenav a[href='/admin/users']")).await?;
            assert_eq!(heading(&d).await?, "Users");
            let table = text_of(&d, By::Css("table tbody")).await?;
            assert!(table.contains("root@example.org") && table.contains("User manager"), "{table}");
            save_screenshot(&d, "users.png").await?;
            click_and_wait(&d, By::Css("a[aria-label='API tokens of Test dora']")).await?;
            assert_eq!(heading(&d).await?, "API tokens of Test dora");
            Ok(())
        })
        .await;

    let ivanti = PasswordPolicy::presets().into_iter().find(|(n, _)| *n == "ivanti").unwrap().1;
    assert_eq!(app.usher.password_policy(org.id).await.unwrap(), ivanti);
}

// ---- The same pages over plain HTTP: statuses, cookies and refusals. ----

fn http() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap()
}

async fn page(c: &reqwest::Client, url: String) -> (StatusCode, String) {
    let res = c.get(url).send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

/// Signs in through the web form; returns the client and its session's CSRF token.
async fn web_sign_in(app: &TestApp, login: &str, password: &str) -> (reqwest::Client, String) {
    let c = http();
    let (_, html) = page(&c, format!("{}/login", app.base)).await;
    let form = [("csrf_token", hidden(&html, "csrf_token")), ("login", login.into()), ("password", password.into())];
    let res = c.post(format!("{}/login", app.base)).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/");
    let (_, html) = page(&c, format!("{}/profile", app.base)).await;
    (c, hidden(&html, "csrf_token"))
}

#[tokio::test]
async fn browser_http_sign_in_failures_and_login_csrf() {
    let app = TestApp::spawn().await;
    app.create_user("bob", Some("bob@example.org"), USER_PASSWORD, &[Role::User]).await;
    let c = http();
    let res = c.get(format!("{}/profile", app.base)).send().await.unwrap();
    assert_eq!((res.status(), res.headers()["location"].to_str().unwrap()), (StatusCode::SEE_OTHER, "/login"));

    let res = c.get(format!("{}/login", app.base)).send().await.unwrap();
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.starts_with("usher_login_csrf=") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict")
    );
    let token = hidden(&res.text().await.unwrap(), "csrf_token");

    // Wrong password and unknown user: the same page, 401, no session.
    let mut bodies = Vec::new();
    for login in ["bob", "nobody"] {
        let form = [("csrf_token", token.as_str()), ("login", login), ("password", "wrong-wrong-wrong")];
        let res = c.post(format!("{}/login", app.base)).form(&form).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(res.headers().get_all("set-cookie").iter().all(|v| !v.to_str().unwrap().starts_with("usher_session=")));
        let html = res.text().await.unwrap();
        assert!(html.contains("The user ID or password is incorrect."));
        bodies.push(html.replace(&hidden(&html, "csrf_token"), "").replace(login, ""));
    }
    assert_eq!(bodies[0], bodies[1], "nothing tells whether the account exists");

    // A forged form (token not matching the cookie) is refused even with the right password.
    let other = http();
    let form = [("csrf_token", token.as_str()), ("login", "bob"), ("password", USER_PASSWORD)];
    let res = other.post(format!("{}/login", app.base)).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.headers().get_all("set-cookie").iter().all(|v| !v.to_str().unwrap().starts_with("usher_session=")));

    // Anonymous pages speak ?lang=, then the cookie it sets, then Accept-Language.
    let ru = http();
    let (_, html) = page(&ru, format!("{}/login?lang=ru", app.base)).await;
    assert!(html.contains("<html lang=\"ru\">") && html.contains("Вход в Usher"));
    let (_, html) = page(&ru, format!("{}/login", app.base)).await;
    assert!(html.contains("<html lang=\"ru\">"), "remembered in usher_lang");
    let res =
        http().get(format!("{}/login", app.base)).header("accept-language", "fr-CA,fr;q=0.9").send().await.unwrap();
    assert!(res.text().await.unwrap().contains("<html lang=\"fr\">"));
}

#[tokio::test]
async fn browser_http_forms_need_the_session_csrf_token_and_admin_pages_an_administrator() {
    let app = TestApp::spawn().await;
    app.create_user("carol", Some("carol@example.org"), USER_PASSWORD, &[Role::User]).await;
    let (c, csrf) = web_sign_in(&app, "carol", USER_PASSWORD).await;
    let profile = format!("{}/profile", app.base);

    for token in ["", "wrong"] {
        let res = c.post(&profile).form(&[("csrf_token", token), ("first_name", "Mallory")]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert!(res.text().await.unwrap().contains("This form has expired"));
    }
    let res = c
        .post(&profile)
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("first_name", "Carol"),
            ("language", "en"),
            ("timezone", "Europe/Paris"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        (res.status(), res.headers()["location"].to_str().unwrap()),
        (StatusCode::SEE_OTHER, "/profile?saved=1")
    );
    let (_, html) = page(&c, format!("{profile}?saved=1")).await;
    assert!(html.contains("Profile saved.") && html.contains("(Europe/Paris)"));

    // Invalid input: 422 with the submitted values kept; unreadable bodies: 4xx, never 500.
    let res = c
        .post(&profile)
        .form(&[("csrf_token", csrf.as_str()), ("phone", "12"), ("timezone", "Mars/Base"), ("language", "en")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("id=\"phone-error\"") && html.contains("id=\"timezone-error\"") && html.contains("value=\"12\"")
    );
    let res = c.post(&profile).header("content-type", "application/json").body("{}").send().await.unwrap();
    assert!(res.status().is_client_error(), "{}", res.status());
    let res = c
        .post(&profile)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("a=%FF%FE&b")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error(), "{}", res.status());
    let res =
        c.post(&profile).form(&[("csrf_token", csrf.as_str()), ("phone", "1"), ("phone", "2")]).send().await.unwrap();
    assert!(res.status().is_client_error(), "{}", res.status());

    // Password change: the repeat must match.
    let form = [
        ("csrf_token", csrf.as_str()),
        ("current_password", USER_PASSWORD),
        ("new_password", "Abc-123-xyz-789"),
        ("repeat_password", "other"),
    ];
    let res = c.post(format!("{}/profile/security/password", app.base)).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("The two passwords do not match."));

    // Not an administrator: a 403 page, and nothing saved.
    for path in ["/admin/settings/password-policy", "/admin/audit"] {
        let (status, html) = page(&c, format!("{}{path}", app.base)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(html.contains("Access denied"));
    }
    let form = [("csrf_token", csrf.as_str()), ("min_length", "1"), ("min_strength", "0"), ("history", "0")];
    let res = c.post(format!("{}/admin/settings/password-policy", app.base)).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // Signing out needs the token too, and ends the session.
    let res = c.post(format!("{}/logout", app.base)).form(&[("csrf_token", "nope")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = c.post(format!("{}/logout", app.base)).form(&[("csrf_token", csrf.as_str())]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = c.get(&profile).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/login");
}

#[tokio::test]
async fn browser_http_admin_pages_validate_and_page_through_the_audit_log() {
    let app = TestApp::spawn().await;
    app.create_user("admin", Some("admin@example.org"), ADMIN_PASSWORD, &[Role::Administrator]).await;
    let (c, csrf) = web_sign_in(&app, "admin", ADMIN_PASSWORD).await;
    let policy_url = format!("{}/admin/settings/password-policy", app.base);

    let form = [
        ("csrf_token", csrf.as_str()),
        ("min_length", "0"),
        ("min_strength", "9"),
        ("history", "x"),
        ("max_age_days", ""),
    ];
    let res = c.post(&policy_url).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"history-error\"") && html.contains("Enter a whole number."), "{html}");
    let form = [
        ("csrf_token", csrf.as_str()),
        ("min_length", "0"),
        ("min_strength", "9"),
        ("history", "2"),
        ("max_age_days", ""),
    ];
    let html = c.post(&policy_url).form(&form).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Must be between 1 and 128.") && html.contains("Must be between 0 and 4."), "{html}");

    // Enough events for two pages, then the filter.
    for _ in 0..60 {
        let mut api = app.client();
        api.post("/api/v1/auth/login", json!({ "login": "admin", "password": "wrong" })).await;
    }
    let (status, html) = page(&c, format!("{}/admin/audit", app.base)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(html.matches("<tr>").count(), 51, "a header and 50 events");
    let older = html
        .split("rel=\"next\"")
        .next()
        .unwrap()
        .rsplit("href=\"")
        .next()
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    assert!(older.starts_with("/admin/audit?cursor="), "{older}");
    let (_, html) = page(&c, format!("{}{older}", app.base)).await;
    assert!(html.matches("<tr>").count() > 1 && !html.contains("rel=\"next\""));
    let (_, html) = page(&c, format!("{}/admin/audit?family=auth&actor=admin", app.base)).await;
    assert_eq!(html.matches("<tr>").count(), 2, "the one successful sign-in");
    assert!(html.contains("href=\"/admin/audit/export?format=csv&#38;family=auth&#38;actor=admin\""), "{html}");
    let (status, _) = page(&c, format!("{}/admin/audit?cursor=not-a-uuid", app.base)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn browser_http_the_users_page_lists_users_for_administrators_and_user_managers() {
    use usher_core::{RequestContext, accounts::NewAccount};
    use usher_domain::{LoginName, ShortText};

    let app = TestApp::spawn().await;
    let admin = app.create_user("admin", Some("admin@example.org"), ADMIN_PASSWORD, &[Role::Administrator]).await;
    let dora = app.create_user("dora", Some("dora@example.org"), USER_PASSWORD, &[Role::User]).await;
    app.create_user("manny", None, USER_PASSWORD, &[Role::UserManager]).await;
    // Enough users (without passwords, so quick to create) for a second page.
    let org = app.usher.organization(None).await.unwrap().unwrap();
    for n in 0..50 {
        let account = NewAccount {
            user_id: LoginName::parse(&format!("zz-{n:02}")).unwrap(),
            email: None,
            first_name: ShortText::parse("first_name", "").unwrap(),
            last_name: ShortText::parse("last_name", "").unwrap(),
            roles: vec![Role::User],
            password: None,
        };
        app.usher.create_user(&RequestContext::default(), None, org.id, account).await.unwrap();
    }

    // An administrator: the nav link, the users with their roles and a link to their tokens.
    let (c, _) = web_sign_in(&app, "admin", ADMIN_PASSWORD).await;
    let (_, html) = page(&c, format!("{}/profile", app.base)).await;
    assert!(html.contains("<a href=\"/admin/users\">Users</a>"), "{html}");
    let (status, html) = page(&c, format!("{}/admin/users?sort=user_id", app.base)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<a href=\"/admin/users\" aria-current=\"page\">Users</a>"));
    assert_eq!(html.matches("<tr>").count(), 51, "a header and 50 users");
    assert!(html.contains("dora@example.org") && html.contains(">Test</td>"));
    assert!(html.contains(&format!("href=\"/admin/users/{}/tokens\"", dora.id)));
    assert!(html.contains(&format!("href=\"/admin/users/{}/tokens\"", admin.id)));
    assert!(html.contains("<span class=\"badge\">User manager</span>"));
    assert!(html.contains("Never"), "dora never signed in");
    assert!(!html.contains("First page"));
    let next = html.split("rel=\"next\"").next().unwrap().rsplit("href=\"").next().unwrap().split('"').next().unwrap();
    let next = next.replace("&#38;", "&").replace("&amp;", "&");
    assert!(next.starts_with("/admin/users?sort=user_id&order=asc&cursor="), "{next}");
    let (status, html) = page(&c, format!("{}{}", app.base, next.replace("&amp;", "&"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(html.matches("<tr>").count(), 4, "a header and the last 3 users");
    assert!(html.contains("zz-49") && html.contains("First page") && !html.contains("rel=\"next\""));
    let (status, _) = page(&c, format!("{}/admin/users?cursor=%25%25", app.base)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // A user manager sees the page (and the link) too; a plain user gets 403 and no link.
    let (c, _) = web_sign_in(&app, "manny", USER_PASSWORD).await;
    let (status, html) = page(&c, format!("{}/admin/users?q=dora", app.base)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<a href=\"/admin/users\" aria-current=\"page\">Users</a>") && html.contains("dora"));
    assert!(!html.contains("/admin/audit"), "the administrators' links stay hidden");
    let (c, _) = web_sign_in(&app, "dora", USER_PASSWORD).await;
    let (status, html) = page(&c, format!("{}/admin/users", app.base)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("Access denied") && !html.contains("href=\"/admin/users\""));
}

#[tokio::test]
async fn browser_http_setup_links_and_static_assets() {
    let app = TestApp::spawn().await;
    let (status, html) = page(&http(), format!("{}/setup/not-a-real-token", app.base)).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(html.contains("This setup link cannot be used"));

    let link = app.setup_link.clone().unwrap();
    let form =
        [("user_id", "root"), ("email", "root@example.org"), ("password", "short"), ("repeat_password", "short")];
    let res = http().post(&link).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("id=\"password-error\""));
    assert!(app.usher.setup_token_valid(link.rsplit('/').next().unwrap()).await.unwrap(), "the link still works");

    let res = http().get(format!("{}/static/usher.css", app.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/css; charset=utf-8");
    assert!(res.headers()["cache-control"].to_str().unwrap().contains("max-age=31536000"));
    let (_, html) = page(&http(), format!("{}/login", app.base)).await;
    assert!(!html.contains("style=") && !html.contains("<style"), "no inline style: the CSP forbids it");
    assert_eq!(html.matches("<script").count(), html.matches("<script src=\"/static/").count(), "no inline script");
    let script = html.split("<script src=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let res = http().get(format!("{}{script}", app.base)).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "text/javascript; charset=utf-8");
}
