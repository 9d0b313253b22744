//! Administration of users in the web UI: create a user, reset their password
//! (temporary), the forced change at their sign-in, disabling them; then the
//! same pages over plain HTTP (roles, confirmation, CSRF, refusals).

use reqwest::StatusCode;
use serde_json::json;
use thirtyfour::prelude::*;
use usher_domain::Role;

use super::{
    Browser, click_and_wait, confirm_in_dialog, fill, heading, hidden, page, sign_in, text_of, value_of, web_sign_in,
};
use crate::helpers::{ADMIN_PASSWORD, TestApp, USER_PASSWORD, artifacts_dir};

const DANA_PASSWORD: &str = "Amber-Falcon-Orchard-71";

/// Saves a screenshot of the whole page at `width`, not only what fits the window.
async fn full_screenshot(d: &WebDriver, width: u32, name: &str) -> WebDriverResult<()> {
    d.set_window_rect(0, 0, width, 900).await?;
    let height = d.execute("return document.documentElement.scrollHeight", vec![]).await?.convert::<u32>()?;
    d.set_window_rect(0, 0, width, height.clamp(600, 6000) + 100).await?;
    d.screenshot(&artifacts_dir().join(name)).await?;
    d.set_window_rect(0, 0, width, 900).await
}

/// Signs out through the account menu.
async fn sign_out(d: &WebDriver) -> WebDriverResult<()> {
    d.find(By::Css(".usermenu summary")).await?.click().await?;
    click_and_wait(d, By::Css("form[action='/logout'] button[type=submit]")).await
}

#[tokio::test]
async fn browser_an_administrator_creates_resets_and_disables_a_user_who_must_change_the_password() {
    let app = TestApp::spawn().await;
    app.create_user("admin", Some("admin@example.org"), ADMIN_PASSWORD, &[Role::Administrator]).await;
    let base = app.base.clone();
    let mut admin_api = app.signed_in("admin", ADMIN_PASSWORD).await;
    let field = json!({ "name": "dept", "label": "Department", "type": "text" });
    let res = admin_api.put("/api/v1/settings/metadata-fields", json!({ "fields": [field] })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);

    Browser::start()
        .await
        .run(|d| async move {
            d.goto(format!("{base}/login?lang=en")).await?;
            sign_in(&d, "admin", ADMIN_PASSWORD).await?;
            click_and_wait(&d, By::Css(".sidenav a[href='/admin/users']")).await?;

            // Create Dana: the form reports every missing field, then creates her.
            click_and_wait(&d, By::Id("create-user")).await?;
            assert_eq!(heading(&d).await?, "Create a user");
            assert!(d.find(By::Id("role-user")).await?.is_selected().await?, "User is ticked by default");
            assert!(d.find(By::Id("invite-none")).await?.is_selected().await?);
            click_and_wait(&d, By::Id("create-user-submit")).await?;
            assert!(text_of(&d, By::Id("user_id-error")).await?.contains("The user ID is required."));
            assert!(text_of(&d, By::Id("first_name-error")).await?.contains("This field is required."));
            fill(&d, "user_id", "dana").await?;
            fill(&d, "email", "dana@example.org").await?;
            fill(&d, "first_name", "Dana").await?;
            fill(&d, "last_name", "Scully").await?;
            fill(&d, "metadata-dept", "X-Files").await?;
            d.find(By::Id("role-developer")).await?.click().await?;
            click_and_wait(&d, By::Id("create-user-submit")).await?;
            assert_eq!(heading(&d).await?, "Dana Scully");
            assert_eq!(text_of(&d, By::Css(".alert.success")).await?, "User created.");
            assert_eq!(text_of(&d, By::Id("user-status")).await?, "Invited");
            assert_eq!(text_of(&d, By::Css(".tabs a[aria-current='page']")).await?, "Details");
            assert!(text_of(&d, By::Css(".side")).await?.contains("Developer"));
            assert_eq!(text_of(&d, By::Css("label[for='metadata-dept']")).await?, "Department");
            assert_eq!(value_of(&d, "metadata-dept").await?, "X-Files", "the custom field as created");
            let details_url = d.current_url().await?;

            // Edit a property; the email is shown but read-only.
            assert!(d.find(By::Id("email")).await?.attr("readonly").await?.is_some());
            fill(&d, "company", "FBI").await?;
            click_and_wait(&d, By::Id("save-user")).await?;
            assert_eq!(text_of(&d, By::Css(".alert.success")).await?, "Details saved.");
            assert_eq!(value_of(&d, "company").await?, "FBI");
            full_screenshot(&d, 1200, "user-details.png").await?;
            full_screenshot(&d, 390, "user-details-390.png").await?;

            // A temporary password, shown once.
            let asked = confirm_in_dialog(&d, By::Id("reset-temporary")).await?;
            assert!(asked.contains("Their current password stops working"), "{asked}");
            assert_eq!(text_of(&d, By::Id("temporary-h")).await?, "Temporary password");
            let temporary = value_of(&d, "temporary-password").await?;
            assert!(temporary.len() >= 16, "{temporary}");
            assert_eq!(text_of(&d, By::Id("user-status")).await?, "Active", "she can sign in now");
            d.screenshot(&artifacts_dir().join("user-temporary-password.png")).await?;
            click_and_wait(&d, By::Id("temporary-done")).await?;
            assert!(d.find_all(By::Id("temporary-password")).await?.is_empty(), "not shown again");
            sign_out(&d).await?;

            // Dana signs in and lands on the forced change; other pages send her back.
            sign_in(&d, "dana", &temporary).await?;
            assert_eq!(d.current_url().await?.path(), "/password-change");
            assert_eq!(heading(&d).await?, "Choose a new password");
            assert!(d.find_all(By::Id("sidenav")).await?.is_empty(), "no navigation that only leads back here");
            d.goto(format!("{base}/profile/tokens")).await?;
            assert_eq!(d.current_url().await?.path(), "/password-change");
            d.screenshot(&artifacts_dir().join("password-change.png")).await?;
            // The temporary password she just typed is not asked again.
            assert!(d.find_all(By::Id("current_password")).await?.is_empty());
            fill(&d, "new_password", &temporary).await?;
            fill(&d, "repeat_password", &temporary).await?;
            click_and_wait(&d, By::Css("#password-change button[type=submit]")).await?;
            assert!(text_of(&d, By::Id("new_password-error")).await?.contains("different from the current one"));
            assert!(d.find_all(By::Id("current_password")).await?.is_empty());
            fill(&d, "new_password", DANA_PASSWORD).await?;
            fill(&d, "repeat_password", DANA_PASSWORD).await?;
            click_and_wait(&d, By::Css("#password-change button[type=submit]")).await?;
            assert_eq!(d.current_url().await?.path(), "/profile/security");
            d.goto(format!("{base}/profile")).await?;
            assert_eq!(heading(&d).await?, "My profile");

            // The administrator disables her: her next page load is signed out.
            let dana = admin_api.get("/api/v1/users").await.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|u| u["user_id"] == "dana")
                .unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned();
            assert!(details_url.path().ends_with(&dana));
            let res = admin_api.post(&format!("/api/v1/users/{dana}/disable"), json!({})).await;
            assert_eq!(res.status, StatusCode::OK, "{}", res.body);
            d.goto(format!("{base}/profile")).await?;
            assert_eq!(d.current_url().await?.path(), "/login");
            assert_eq!(heading(&d).await?, "Sign in to Usher");
            sign_in(&d, "dana", DANA_PASSWORD).await?;
            assert_eq!(text_of(&d, By::Id("login-error")).await?, "The user ID or password is incorrect.");
            Ok(())
        })
        .await;
}

#[tokio::test]
async fn browser_http_user_details_actions_confirmation_and_roles() {
    let app = TestApp::spawn().await;
    let admin = app.create_user("admin", Some("admin@example.org"), ADMIN_PASSWORD, &[Role::Administrator]).await;
    let bob = app.create_user("bob", Some("bob@example.org"), USER_PASSWORD, &[Role::User]).await;
    app.create_user("manny", Some("manny@example.org"), USER_PASSWORD, &[Role::UserManager]).await;
    app.client().post("/api/v1/auth/login", json!({ "login": "bob", "password": "nope" })).await;
    let bob_api = app.signed_in("bob", USER_PASSWORD).await;
    let (c, csrf) = web_sign_in(&app, "admin", ADMIN_PASSWORD).await;
    let bob_url = format!("{}/admin/users/{}", app.base, bob.id);

    // The list links to the details; the details show the failed sign-in and the session.
    let (_, list) = page(&c, format!("{}/admin/users", app.base)).await;
    assert!(list.contains(&format!("<a href=\"/admin/users/{}\">bob</a>", bob.id)), "{list}");
    assert!(list.contains("href=\"/admin/users/new\""));
    let (status, html) = page(&c, bob_url.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Wrong password") && html.contains("usher-tests/1.0"), "{html}");
    assert!(html.contains(&format!("href=\"/admin/users/{}/roles\"", bob.id)));
    assert!(html.contains(&format!("href=\"/admin/users/{}/tokens\"", bob.id)));

    // Every action needs the session's CSRF token.
    for action in ["disable", "sessions/end", "password-reset", "delete"] {
        let res =
            c.post(format!("{bob_url}/{action}")).form(&[("csrf_token", "forged"), ("mode", "temporary")]).send().await;
        assert_eq!(res.unwrap().status(), StatusCode::FORBIDDEN, "{action}");
    }
    let res = c.post(&bob_url).form(&[("csrf_token", "forged"), ("first_name", "X")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // A bad phone number: the form again, the error next to the field.
    let form = [
        ("csrf_token", csrf.as_str()),
        ("first_name", "Bob"),
        ("phone", "12"),
        ("language", "en"),
        ("timezone", "UTC"),
    ];
    let res = c.post(&bob_url).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("id=\"phone-error\""));

    // End all sessions.
    let res = c.post(format!("{bob_url}/sessions/end")).form(&[("csrf_token", csrf.as_str())]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], format!("/admin/users/{}?done=sessions_ended", bob.id));
    let mut bob_api = bob_api;
    assert_eq!(bob_api.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
    let (_, html) = page(&c, format!("{bob_url}?done=sessions_ended")).await;
    assert!(html.contains("All sessions of this user ended.") && html.contains("No active sessions."));

    // The administrator's own page has no disable, reset or delete.
    let (_, own) = page(&c, format!("{}/admin/users/{}", app.base, admin.id)).await;
    assert!(!own.contains("id=\"disable-user\"") && !own.contains("id=\"delete-user\""));
    let (status, _) = page(&c, format!("{}/admin/users/{}/delete", app.base, admin.id)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Delete: a confirmation page, then the Users page says so.
    let (status, confirm) = page(&c, format!("{bob_url}/delete")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(confirm.contains("Delete Test bob?") && confirm.contains("This cannot be undone."), "{confirm}");
    let token = hidden(&confirm, "csrf_token");
    let res = c.post(format!("{bob_url}/delete")).form(&[("csrf_token", token.as_str())]).send().await.unwrap();
    assert_eq!(
        (res.status(), res.headers()["location"].to_str().unwrap()),
        (StatusCode::SEE_OTHER, "/admin/users?deleted=1")
    );
    let (_, list) = page(&c, format!("{}/admin/users?deleted=1", app.base)).await;
    assert!(list.contains("User deleted.") && !list.contains("bob@example.org"));
    assert_eq!(page(&c, bob_url.clone()).await.0, StatusCode::NOT_FOUND);

    // A User Manager reads an Administrator's details without the actions, and
    // cannot create Administrators; a plain user sees nothing.
    let (m, mcsrf) = web_sign_in(&app, "manny", USER_PASSWORD).await;
    let (status, html) = page(&m, format!("{}/admin/users/{}", app.base, admin.id)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Only an administrator can change an administrator.") && !html.contains("id=\"user-profile\"")
    );
    let res = m
        .post(format!("{}/admin/users/{}/disable", app.base, admin.id))
        .form(&[("csrf_token", mcsrf.as_str())])
        .send()
        .await;
    assert_eq!(res.unwrap().status(), StatusCode::FORBIDDEN);
    let (_, new) = page(&m, format!("{}/admin/users/new", app.base)).await;
    assert!(!new.contains("id=\"role-administrator\"") && new.contains("id=\"role-user_manager\""));
    let form = [
        ("csrf_token", mcsrf.as_str()),
        ("user_id", "boss"),
        ("email", "boss@example.org"),
        ("first_name", "B"),
        ("last_name", "S"),
        ("roles", "administrator"),
        ("invite", "none"),
    ];
    let res = m.post(format!("{}/admin/users/new", app.base)).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // A duplicate user ID: the form again with the error by the field.
    let form = [
        ("csrf_token", mcsrf.as_str()),
        ("user_id", "MANNY"),
        ("first_name", "B"),
        ("last_name", "S"),
        ("roles", "user"),
        ("invite", "link"),
        ("email", "m2@example.org"),
    ];
    let res = m.post(format!("{}/admin/users/new", app.base)).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("This user ID is already taken."));
    // The invitation link, shown once on the new user's page.
    let form = [
        ("csrf_token", mcsrf.as_str()),
        ("user_id", "newbie"),
        ("first_name", "N"),
        ("last_name", "B"),
        ("roles", "user"),
        ("invite", "link"),
        ("email", "newbie@example.org"),
    ];
    let res = m.post(format!("{}/admin/users/new", app.base)).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let html = page(&m, format!("{}{location}", app.base)).await.1;
    assert!(html.contains("id=\"invitation-link\"") && html.contains("/register/"), "{html}");
    let again = page(&m, format!("{}{location}", app.base)).await.1;
    assert!(!again.contains("id=\"invitation-link\""), "shown once");
    assert_eq!(app.mail.count_to("newbie@example.org"), 0);

    app.create_user("eve", Some("eve@example.org"), USER_PASSWORD, &[Role::User]).await;
    let (e, _) = web_sign_in(&app, "eve", USER_PASSWORD).await;
    assert_eq!(page(&e, format!("{}/admin/users/{}", app.base, admin.id)).await.0, StatusCode::FORBIDDEN);
    assert_eq!(page(&e, format!("{}/admin/users/new", app.base)).await.0, StatusCode::FORBIDDEN);
}
