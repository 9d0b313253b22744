//! The console as a whole: its navigation, its overview, confirmations of
//! destructive actions, and the layout at 1280 and 390 px in English, French
//! and Russian (no page wider than the window, one header row, one styling of
//! every field). Screenshots of the main pages go to the artifacts folder.

use reqwest::StatusCode;
use serde_json::json;
use thirtyfour::prelude::*;
use usher_domain::Role;

use super::{Browser, click_and_wait, heading, hidden, page, sign_in, text_of, web_sign_in};
use crate::helpers::{ADMIN_PASSWORD, TestApp, USER_PASSWORD, artifacts_dir};

/// The main pages of the console, by name (for screenshots) and address;
/// `{user}`, `{group}` and `{app}` stand for ids made by the test.
const PAGES: &[(&str, &str)] = &[
    ("overview", "/admin"),
    ("users", "/admin/users"),
    ("user", "/admin/users/{user}"),
    ("user-security", "/admin/users/{user}/security"),
    ("user-roles", "/admin/users/{user}/roles"),
    ("user-tokens", "/admin/users/{user}/tokens"),
    ("new-user", "/admin/users/new"),
    ("invitations", "/admin/invitations"),
    ("groups", "/admin/groups"),
    ("group", "/admin/groups/{group}"),
    ("apps", "/admin/apps"),
    ("app", "/admin/apps/{app}"),
    ("password-policy", "/admin/settings/password-policy"),
    ("two-step", "/admin/settings/two-step"),
    ("token-policy", "/admin/settings/token-policy"),
    ("metadata", "/admin/settings/metadata-fields"),
    ("invitation-template", "/admin/settings/invitation-template"),
    ("audit", "/admin/audit"),
    ("profile", "/profile"),
    ("security", "/profile/security"),
    ("tokens", "/profile/tokens"),
    ("my-apps", "/apps"),
    ("confirm", "/admin/groups/{group}/delete"),
];

/// Sizes the window so that the page itself (the viewport) is `width` x `height`.
async fn viewport(d: &WebDriver, width: u32, height: u32) -> WebDriverResult<()> {
    d.set_window_rect(0, 0, width, height).await?;
    let extra = number(d, "return window.outerHeight - window.innerHeight").await?;
    d.set_window_rect(0, 0, width, height + extra.max(0.0) as u32).await
}

/// Reads a number the page computes.
async fn number(d: &WebDriver, script: &str) -> WebDriverResult<f64> {
    d.execute(script, vec![]).await?.convert::<f64>()
}

#[tokio::test]
async fn browser_the_console_fits_1280_and_390_px_in_every_language() {
    let app = TestApp::spawn().await;
    let (_, mut api) = app.admin().await;
    let long_email = Some("bob.with.a.rather.long.address@example.org");
    let bob = app.create_user("bob", long_email, USER_PASSWORD, &[Role::User]).await;
    for i in 0..14 {
        app.create_user(&format!("member{i:02}"), Some(&format!("m{i}@example.org")), USER_PASSWORD, &[Role::User])
            .await;
    }
    let group = api.post("/api/v1/groups", json!({ "name": "Pilots", "description": "Everyone who flies" })).await;
    let group = group.body["id"].as_str().unwrap().to_owned();
    api.put(&format!("/api/v1/groups/{group}/members"), json!({ "user_ids": [bob.id.to_string()] })).await;
    let app_res = api.post("/api/v1/apps", json!({ "name": "Flight log", "url": "https://log.example.org" })).await;
    let app_id = app_res.body["id"].as_str().unwrap().to_owned();
    api.post("/api/v1/invitations", json!({ "email": "newcomer@example.org", "roles": ["user"], "send": false })).await;
    let base = app.base.clone();
    let resolve = move |path: &str| {
        path.replace("{user}", &bob.id.to_string()).replace("{group}", &group).replace("{app}", &app_id)
    };

    Browser::start()
        .await
        .run(|d| async move {
            d.goto(format!("{base}/login?lang=en")).await?;
            // A failed sign-in for the overview to show, then the real one.
            sign_in(&d, "bob", "not the password").await?;
            sign_in(&d, "admin", ADMIN_PASSWORD).await?;
            assert_eq!(d.current_url().await?.path(), "/admin", "administrators land on the overview");
            assert_eq!(heading(&d).await?, "Overview");
            let tiles = text_of(&d, By::Css(".tiles")).await?;
            assert!(tiles.contains("Users") && tiles.contains("16"), "{tiles}");
            assert!(text_of(&d, By::Id("pending-h")).await?.contains("Pending invitations"));
            assert!(text_of(&d, By::Css("main")).await?.contains("newcomer@example.org"));
            let failed = text_of(&d, By::Css("section[aria-labelledby='failed-h']")).await?;
            assert!(failed.contains("bob") && failed.contains("Chrome on Linux"), "{failed}");

            let mut wrong = Vec::new();
            for lang in ["en", "fr", "ru"] {
                let res = api.patch("/api/v1/me", json!({ "language": lang })).await;
                assert_eq!(res.status, StatusCode::OK);
                for width in [1280u32, 390] {
                    viewport(&d, width, 800).await?;
                    for (name, path) in PAGES {
                        d.goto(format!("{base}{}", resolve(path))).await?;
                        assert_eq!(
                            d.find(By::Tag("html")).await?.attr("lang").await?.as_deref(),
                            Some(lang),
                            "{name}"
                        );
                        let inner = number(&d, "return window.innerWidth").await?;
                        let scroll = number(&d, "return document.documentElement.scrollWidth").await?;
                        if scroll > inner {
                            // Name the outermost elements that stick out, to fix.
                            let culprits: Vec<String> = d
                                .execute(
                                    "return [...document.querySelectorAll('body *')]
                                        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
                                            && !(e.parentElement.getBoundingClientRect().right > window.innerWidth + 1))
                                        .slice(0, 5)
                                        .map(e => { let a = []; for (let p = e; p; p = p.parentElement) a.push(p.tagName + '.' + p.className + ':' + getComputedStyle(p).overflowX + ':' + Math.round(p.getBoundingClientRect().width) + '/' + p.scrollWidth); return a.join(' < '); })",
                                    vec![],
                                )
                                .await?
                                .convert()?;
                            wrong.push(format!("{lang} {width}px {name}: {scroll} px wide in {inner} px: {culprits:?}"));
                        }
                        let header = number(&d, "return document.querySelector('.topbar').offsetHeight").await?;
                        if header > 64.0 {
                            wrong.push(format!("{lang} {width}px {name}: the header is {header} px tall"));
                        }
                        if lang == "en" || matches!(*name, "overview" | "users" | "app") {
                            d.screenshot(&artifacts_dir().join(format!("console-{name}-{lang}-{width}.png"))).await?;
                        }
                    }
                }
            }
            assert!(wrong.is_empty(), "{}", wrong.join("\n"));

            // Every field has the one styling: same font, border and corners.
            viewport(&d, 1280, 800).await?;
            api.patch("/api/v1/me", json!({ "language": "en" })).await;
            let fields = "return [...document.querySelectorAll('main input, main select, main textarea')]
                .filter(e => !['hidden', 'checkbox', 'radio', 'submit'].includes(e.type) && e.offsetParent)
                .map(e => { const s = getComputedStyle(e);
                    return [e.id || e.name, s.fontFamily, s.borderTopWidth, s.borderRadius, s.fontSize].join('|'); })";
            let mut styles = std::collections::BTreeMap::new();
            for path in ["/admin/users", "/admin/users/{user}", "/admin/users/new", "/profile", "/admin/audit"] {
                d.goto(format!("{base}{}", resolve(path))).await?;
                let found: Vec<String> = d.execute(fields, vec![]).await?.convert()?;
                assert!(!found.is_empty(), "{path} has fields");
                for f in found {
                    let (id, style) = f.split_once('|').unwrap();
                    styles.entry(style.to_owned()).or_insert_with(Vec::new).push(format!("{path} #{id}"));
                }
            }
            assert_eq!(styles.len(), 1, "fields styled differently: {styles:#?}");

            // At least 12 users above the fold at 1280 x 800.
            d.goto(format!("{base}/admin/users")).await?;
            let visible = number(
                &d,
                "return [...document.querySelectorAll('.users-table tbody tr')]
                    .filter(r => r.getBoundingClientRect().bottom <= window.innerHeight).length",
            )
            .await?;
            assert!(visible >= 12.0, "{visible} users above the fold");

            // At 390 px the navigation is a menu: hidden, opened by its button, its links work.
            viewport(&d, 390, 800).await?;
            d.goto(format!("{base}/admin")).await?;
            let nav = d.find(By::Id("sidenav")).await?;
            assert!(!nav.is_displayed().await?, "the navigation waits behind its button");
            let button = d.find(By::Css(".menu-button")).await?;
            assert_eq!(button.attr("aria-expanded").await?.as_deref(), Some("false"));
            button.click().await?;
            assert!(nav.is_displayed().await?);
            assert_eq!(button.attr("aria-expanded").await?.as_deref(), Some("true"));
            d.screenshot(&artifacts_dir().join("console-menu-en-390.png")).await?;
            click_and_wait(&d, By::Css("#sidenav a[href='/admin/groups']")).await?;
            assert_eq!(heading(&d).await?, "Groups");
            assert!(!d.find(By::Id("sidenav")).await?.is_displayed().await?);

            // At 1280 px every link of the side navigation opens its page.
            viewport(&d, 1280, 800).await?;
            d.goto(format!("{base}/admin")).await?;
            let links: Vec<String> = d
                .execute("return [...document.querySelectorAll('#sidenav a[href^=\"/\"]')].map(a => a.getAttribute('href'))", vec![])
                .await?
                .convert()?;
            assert_eq!(links.len(), 13, "{links:?}");
            for href in links {
                click_and_wait(&d, By::Css(format!("#sidenav a[href='{href}']"))).await?;
                assert_eq!(d.current_url().await?.path(), href);
                let current = text_of(&d, By::Css("#sidenav a[aria-current='page']")).await?;
                assert!(!current.is_empty(), "{href} marks its entry");
            }

            // Deleting a group asks first: cancelling keeps it, confirming deletes it.
            d.goto(format!("{base}{}", resolve("/admin/groups/{group}"))).await?;
            d.find(By::Id("delete-group")).await?.click().await?;
            let dialog = d.query(By::Css("dialog.confirm-dialog[open]")).and_displayed().first().await?;
            let asked = dialog.text().await?;
            assert!(asked.contains("Delete the group “Pilots”?") && asked.contains("Members: 1."), "{asked}");
            d.screenshot(&artifacts_dir().join("console-confirm-dialog-en-1280.png")).await?;
            dialog.find(By::Css("[data-cancel]")).await?.click().await?;
            assert!(d.query(By::Css("dialog.confirm-dialog[open]")).not_exists().await?, "the dialog closed");
            assert_eq!(heading(&d).await?, "Group “Pilots”", "cancelled: still there");
            Ok(())
        })
        .await;
}

#[tokio::test]
async fn browser_a_user_without_admin_roles_sees_only_their_own_pages() {
    let app = TestApp::spawn().await;
    app.create_user("uma", Some("uma@example.org"), USER_PASSWORD, &[Role::User]).await;
    let base = app.base.clone();
    Browser::start()
        .await
        .run(|d| async move {
            d.goto(format!("{base}/login?lang=en")).await?;
            sign_in(&d, "uma", USER_PASSWORD).await?;
            assert_eq!(d.current_url().await?.path(), "/profile");
            let links: Vec<String> = d
                .execute(
                    "return [...document.querySelectorAll('#sidenav a[href^=\"/\"]')].map(a => a.getAttribute('href'))",
                    vec![],
                )
                .await?
                .convert()?;
            assert_eq!(links, ["/profile", "/apps"]);
            d.goto(format!("{base}/admin")).await?;
            assert_eq!(heading(&d).await?, "Access denied");
            Ok(())
        })
        .await;
}

/// Without JavaScript every destructive action is a link to a page that names
/// what will be lost and holds the one form that does it; no list or details
/// page posts a destructive action directly.
#[tokio::test]
async fn every_destructive_action_asks_first_without_javascript() {
    let app = TestApp::spawn().await;
    let (_, mut api) = app.admin().await;
    let (bob, mut bob_api) = app.user("bob").await;
    let group = api.post("/api/v1/groups", json!({ "name": "Pilots" })).await.body["id"].as_str().unwrap().to_owned();
    let app_id =
        api.post("/api/v1/apps", json!({ "name": "Flight log" })).await.body["id"].as_str().unwrap().to_owned();
    let invitation =
        api.post("/api/v1/invitations", json!({ "email": "new@example.org", "roles": ["user"], "send": false })).await;
    let invitation = invitation.body["id"].as_str().unwrap().to_owned();
    let token = bob_api.post("/api/v1/me/tokens", json!({ "description": "Backup job", "scopes": ["read"] })).await;
    let token = token.body["id"].as_str().unwrap().to_owned();
    let (admin, _) = web_sign_in(&app, "admin", ADMIN_PASSWORD).await;
    let (bob_web, _) = web_sign_in(&app, "bob", USER_PASSWORD).await;
    let user = format!("/admin/users/{}", bob.id);

    // (client, page that shows the action, the action, words its confirmation must say)
    let cases: Vec<(&reqwest::Client, String, String, &str)> = vec![
        (&admin, format!("/admin/groups/{group}"), format!("/admin/groups/{group}/delete"), "Pilots"),
        (&admin, format!("/admin/apps/{app_id}"), format!("/admin/apps/{app_id}/delete"), "Flight log"),
        (&admin, user.clone(), format!("{user}/disable"), "Disable Test bob?"),
        (&admin, user.clone(), format!("{user}/password-reset?mode=temporary"), "temporary password"),
        (&admin, user.clone(), format!("{user}/sessions/end"), "Sign Test bob out everywhere?"),
        (&admin, user.clone(), format!("{user}/delete"), "Delete Test bob?"),
        (&admin, format!("{user}/tokens"), format!("{user}/tokens/{token}/delete"), "Backup job"),
        (&admin, "/admin/invitations".into(), format!("/admin/invitations/{invitation}/withdraw"), "new@example.org"),
        (&bob_web, "/profile/tokens".into(), format!("/profile/tokens/{token}/revoke"), "Backup job"),
        (&bob_web, "/profile/tokens".into(), format!("/profile/tokens/{token}/regenerate"), "Backup job"),
        (&bob_web, "/profile/security".into(), "/profile/security/sessions/end-others".into(), "other sessions"),
        (&bob_web, "/profile/security".into(), "/profile/security/sessions/end-all".into(), "everywhere"),
    ];
    for (client, shown_on, action, words) in cases {
        let (status, list) = page(client, format!("{}{shown_on}", app.base)).await;
        assert_eq!(status, StatusCode::OK, "{shown_on}");
        let post_path = action.split('?').next().unwrap();
        assert!(list.contains(&format!("href=\"{}\"", action.replace('&', "&amp;"))), "{shown_on} links {action}");
        if action.contains("mode=temporary") {
            // A reset link is sent at once (nothing is lost until it is used); a temporary password asks.
            assert!(!list.contains("value=\"temporary\""), "{shown_on} sets a temporary password without asking");
        } else {
            assert!(!list.contains(&format!("action=\"{post_path}\"")), "{shown_on} posts {post_path} without asking");
        }
        let (status, confirm) = page(client, format!("{}{action}", app.base)).await;
        assert_eq!(status, StatusCode::OK, "{action}");
        assert!(confirm.contains(words), "{action}: {words} in {confirm}");
        assert!(confirm.contains(&format!("<form method=\"post\" action=\"{post_path}\"")), "{action}");
        assert!(confirm.contains("data-cancel"), "{action} can be cancelled");
        assert!(!hidden(&confirm, "csrf_token").is_empty());
    }

    // The confirmation page refuses whoever the action refuses.
    let (status, _) = page(&bob_web, format!("{}/admin/groups/{group}/delete", app.base)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = page(&admin, format!("{}/admin/users/{}/disable", app.base, uuid::Uuid::now_v7())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// The overview and the landing page: administrators land on counts, pending
/// invitations and failed sign-ins; the counts stop at 10,000.
#[tokio::test]
async fn administrators_land_on_the_overview_and_others_on_their_profile() {
    let app = TestApp::spawn().await;
    app.admin().await;
    let (admin, _) = web_sign_in(&app, "admin", ADMIN_PASSWORD).await;
    let res = admin.get(format!("{}/", app.base)).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/admin");
    let (status, html) = page(&admin, format!("{}/admin", app.base)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("class=\"tiles\"") && html.contains("No invitation is pending."), "{html}");
    assert!(html.contains("href=\"/admin/audit?action=auth.login.failed\""));

    app.create_user("dev", Some("dev@example.org"), USER_PASSWORD, &[Role::User, Role::Developer]).await;
    let (dev, _) = web_sign_in(&app, "dev", USER_PASSWORD).await;
    let (status, html) = page(&dev, format!("{}/admin", app.base)).await;
    assert_eq!(status, StatusCode::OK, "developers see groups and apps");
    assert!(!html.contains("failed-h") && !html.contains("pending-h"), "but not users, invitations or the audit log");
    app.create_user("uma", Some("uma@example.org"), USER_PASSWORD, &[Role::User]).await;
    let (uma, _) = web_sign_in(&app, "uma", USER_PASSWORD).await;
    let res = uma.get(format!("{}/", app.base)).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/profile");
}

/// Members, owners and developers are picked by typing part of a name: the
/// script lists the directory's matches as you type; without it, a name that
/// names nobody exactly lists the matches to choose from.
#[tokio::test]
async fn browser_the_picker_finds_dav_as_you_type_and_without_javascript() {
    let app = TestApp::spawn().await;
    let (_, mut api) = app.admin().await;
    let dave = app.create_user("dave", Some("dave@example.org"), USER_PASSWORD, &[Role::User]).await;
    app.create_user("david.k", Some("dk@example.org"), USER_PASSWORD, &[Role::User]).await;
    app.create_user("erin", Some("erin@example.org"), USER_PASSWORD, &[Role::User]).await;
    let group = api.post("/api/v1/groups", json!({ "name": "Pilots" })).await.body["id"].as_str().unwrap().to_owned();
    let app_id =
        api.post("/api/v1/apps", json!({ "name": "Flight log" })).await.body["id"].as_str().unwrap().to_owned();

    // Without JavaScript: "Dav" names nobody exactly; the page offers dave and david.k.
    let (c, csrf) = web_sign_in(&app, "admin", ADMIN_PASSWORD).await;
    let members = format!("{}/admin/groups/{group}/members", app.base);
    let res = c.post(&members).form(&[("csrf_token", csrf.as_str()), ("user", "Dav")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    let offered = html.split("id=\"user-suggestions\"").nth(1).expect("suggestions").split("</ul>").next().unwrap();
    assert!(offered.contains("value=\"dave\"") && offered.contains("value=\"david.k\""), "{offered}");
    assert!(!offered.contains("erin"));
    let res = c.post(&members).form(&[("csrf_token", csrf.as_str()), ("user", "dave")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "choosing one adds them");
    let people = format!("{}/admin/apps/{app_id}/people/app_developer", app.base);
    let res = c.post(&people).form(&[("csrf_token", csrf.as_str()), ("developer", "dav")]).send().await.unwrap();
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"developer-suggestions\"") && html.contains("value=\"dave\""), "{html}");

    // With JavaScript: type "Dav" into the app's owner field, choose with the keyboard.
    let base = app.base.clone();
    Browser::start()
        .await
        .run(|d| async move {
            d.goto(format!("{base}/login?lang=en")).await?;
            sign_in(&d, "admin", ADMIN_PASSWORD).await?;
            d.goto(format!("{base}/admin/apps/{app_id}")).await?;
            let input = d.find(By::Id("owner")).await?;
            input.send_keys("Dav").await?;
            let list = d.query(By::Id("owner-options")).and_displayed().first().await?;
            let options = list.find_all(By::Css("[role=option]")).await?;
            assert_eq!(options.len(), 2);
            assert!(list.text().await?.contains("dave"));
            assert_eq!(input.attr("aria-expanded").await?.as_deref(), Some("true"));
            d.screenshot(&artifacts_dir().join("console-picker-en-1280.png")).await?;
            input.send_keys(Key::Down).await?;
            let chosen = d.find(By::Css("#owner-options [aria-selected='true']")).await?.attr("data-value").await?;
            input.send_keys(Key::Enter).await?;
            assert_eq!(input.prop("value").await?, chosen);
            click_and_wait(&d, By::Id("add-owners-submit")).await?;
            assert_eq!(text_of(&d, By::Css(".alert.success")).await?, "Added.");
            let owners = text_of(&d, By::Id("owners")).await?;
            assert!(owners.contains(chosen.as_deref().unwrap_or("?")), "{owners}");
            Ok(())
        })
        .await;
    let members = api.get(&format!("/api/v1/groups/{group}/members")).await;
    assert!(members.body.to_string().contains(&dave.id.to_string()));
}
