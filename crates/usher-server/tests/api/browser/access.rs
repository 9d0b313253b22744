//! Groups, apps, roles and My apps in the web UI: in a real browser, then over
//! plain HTTP for what a browser does not show (status codes, CSRF).

use reqwest::StatusCode;
use thirtyfour::prelude::*;
use usher_domain::Role;

use super::{Browser, click_and_wait, fill, heading, page, sign_in, text_of, web_sign_in};
use crate::helpers::{ADMIN_PASSWORD, TestApp, USER_PASSWORD, artifacts_dir};

#[tokio::test]
async fn browser_an_administrator_creates_a_group_and_an_app_and_gives_the_group_access() {
    let app = TestApp::spawn().await;
    app.create_user("admin", Some("admin@example.org"), ADMIN_PASSWORD, &[Role::Administrator]).await;
    let ann = app.create_user("ann", Some("ann@example.org"), USER_PASSWORD, &[Role::User]).await;
    let base = app.base.clone();

    Browser::start()
        .await
        .run(|d| async move {
            d.goto(format!("{base}/login?lang=en")).await?;
            sign_in(&d, "admin", ADMIN_PASSWORD).await?;

            // Groups: create one, then add a member by user ID.
            click_and_wait(&d, By::Css(".sidenav a[href='/admin/groups']")).await?;
            assert_eq!(heading(&d).await?, "Groups");
            assert!(text_of(&d, By::Css(".empty")).await?.contains("No groups yet."));
            fill(&d, "name", "Pilots").await?;
            fill(&d, "description", "Everyone who flies").await?;
            click_and_wait(&d, By::Id("create-group")).await?;
            assert_eq!(heading(&d).await?, "Group “Pilots”");
            assert_eq!(text_of(&d, By::Css(".alert.success")).await?, "Created.");
            fill(&d, "user", "nobody").await?;
            click_and_wait(&d, By::Id("add-member-submit")).await?;
            assert!(text_of(&d, By::Id("user-error")).await?.contains("There is no user"));
            fill(&d, "user", "ANN@example.org").await?;
            click_and_wait(&d, By::Id("add-member-submit")).await?;
            assert_eq!(text_of(&d, By::Css(".alert.success")).await?, "Member added.");
            assert_eq!(text_of(&d, By::Css("#members td.user-id")).await?, "ann");
            d.screenshot(&artifacts_dir().join("access-group.png")).await?;

            // A second group with the same name, in other letters: refused on the field.
            click_and_wait(&d, By::Css(".sidenav a[href='/admin/groups']")).await?;
            fill(&d, "name", "PILOTS").await?;
            click_and_wait(&d, By::Id("create-group")).await?;
            assert_eq!(text_of(&d, By::Id("name-error")).await?, "A group with this name already exists.");

            // Apps: create one, give the group access.
            click_and_wait(&d, By::Css(".sidenav a[href='/admin/apps']")).await?;
            assert_eq!(heading(&d).await?, "Apps");
            fill(&d, "name", "Flight log").await?;
            fill(&d, "url", "https://flightlog.example.org").await?;
            click_and_wait(&d, By::Id("create-app")).await?;
            assert_eq!(heading(&d).await?, "Flight log");
            assert_eq!(text_of(&d, By::Css("#owners td.user-id")).await?, "admin", "the creator owns it");
            let pilots = d.find(By::XPath("//label[text()='Pilots']/preceding-sibling::input")).await?;
            assert!(!pilots.is_selected().await?);
            pilots.click().await?;
            click_and_wait(&d, By::Id("save-app-groups")).await?;
            assert_eq!(text_of(&d, By::Css(".alert.success")).await?, "Groups with access saved.");
            let pilots = d.find(By::XPath("//label[text()='Pilots']/preceding-sibling::input")).await?;
            assert!(pilots.is_selected().await?);
            d.screenshot(&artifacts_dir().join("access-app.png")).await?;

            // The user's Roles and groups tab: the group shows, a role is added.
            d.goto(format!("{base}/admin/users/{}/roles", ann.id)).await?;
            assert_eq!(text_of(&d, By::Css("#user-groups a")).await?, "Pilots");
            d.find(By::Id("org-developer")).await?.click().await?;
            click_and_wait(&d, By::Id("save-roles")).await?;
            assert_eq!(text_of(&d, By::Css(".alert.success")).await?, "Roles saved.");
            assert!(d.find(By::Id("org-developer")).await?.is_selected().await?);
            d.screenshot(&artifacts_dir().join("access-roles.png")).await?;

            // The member sees the app in My apps.
            d.query(By::Css(".usermenu summary")).first().await?.click().await?;
            click_and_wait(&d, By::Css("form[action='/logout'] button[type=submit]")).await?;
            sign_in(&d, "ann", USER_PASSWORD).await?;
            click_and_wait(&d, By::Css(".sidenav a[href='/apps']")).await?;
            assert_eq!(heading(&d).await?, "My apps");
            let card = text_of(&d, By::Css("#my-apps .app-card")).await?;
            assert!(card.contains("Flight log") && card.contains("Through a group"), "{card}");
            let open = d.find(By::Css("#my-apps a.button.primary")).await?;
            assert_eq!(open.attr("href").await?.as_deref(), Some("https://flightlog.example.org"));
            // Now a Developer: she may list groups and apps, not users.
            assert_eq!(d.find_all(By::Css(".sidenav a[href='/admin/groups']")).await?.len(), 1);
            assert!(d.find_all(By::Css(".sidenav a[href='/admin/users']")).await?.is_empty());
            d.screenshot(&artifacts_dir().join("access-my-apps.png")).await?;
            Ok(())
        })
        .await;
}

#[tokio::test]
async fn browser_http_access_pages_check_roles_and_csrf() {
    let app = TestApp::spawn().await;
    let admin = app.create_user("admin", Some("admin@example.org"), ADMIN_PASSWORD, &[Role::Administrator]).await;
    app.create_user("ann", Some("ann@example.org"), USER_PASSWORD, &[Role::User]).await;
    let (user, _) = web_sign_in(&app, "ann", USER_PASSWORD).await;
    for path in ["/admin/groups", "/admin/apps", &format!("/admin/users/{}/roles", admin.id)] {
        let (status, _) = page(&user, format!("{}{path}", app.base)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    let (status, html) = page(&user, format!("{}/apps", app.base)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("You have no apps yet."));

    let (c, csrf) = web_sign_in(&app, "admin", ADMIN_PASSWORD).await;
    let res = c.post(format!("{}/admin/groups", app.base)).form(&[("name", "NoToken")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = c
        .post(format!("{}/admin/groups", app.base))
        .form(&[("csrf_token", csrf.as_str()), ("name", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("This field is required."));
    // The only Administrator cannot step down from the web form either.
    let res = c
        .post(format!("{}/admin/users/{}/roles", app.base, admin.id))
        .form(&[("csrf_token", csrf.as_str()), ("org", "user")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("at least one Administrator"));
    let (status, _) = page(&c, format!("{}/admin/groups/{}", app.base, uuid::Uuid::now_v7())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
