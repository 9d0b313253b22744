//! Invitations and password resets in the web UI: an administrator invites
//! someone in a real browser, the email arrives over SMTP, its link opens the
//! registration page, and the new user lands signed in on My profile. Then the
//! same pages over plain HTTP: "send my own invitation", the template page, and
//! "forgot password".

use reqwest::StatusCode;
use thirtyfour::prelude::*;
use usher_domain::Role;

use super::{Browser, click_and_wait, fill, heading, hidden, http, page, sign_in, text_of, value_of, web_sign_in};
use crate::helpers::{ADMIN_PASSWORD, TestApp, USER_PASSWORD};

const NEW_PASSWORD: &str = "Quiet-Lantern-Harbor-57";

#[tokio::test]
async fn browser_invite_email_register_and_land_signed_in() {
    let app = TestApp::spawn().await;
    app.create_user("admin", Some("admin@example.org"), ADMIN_PASSWORD, &[Role::Administrator]).await;
    let base = app.base.clone();
    let mail = app.mail.clone();

    Browser::start()
        .await
        .run(|d| async move {
            d.goto(format!("{base}/login?lang=en")).await?;
            sign_in(&d, "admin", ADMIN_PASSWORD).await?;
            click_and_wait(&d, By::Css(".sidenav a[href='/admin/invitations']")).await?;
            assert_eq!(heading(&d).await?, "Invite new users");
            assert!(text_of(&d, By::Css("main")).await?.contains("No invitations yet."));
            fill(&d, "email", "nina@example.org").await?;
            d.find(By::Css("#role option[value='developer']")).await?.click().await?;
            assert!(d.find(By::Id("delivery-email")).await?.is_selected().await?);
            click_and_wait(&d, By::Id("send-invitation")).await?;
            assert_eq!(text_of(&d, By::Css(".alert.success")).await?, "The invitation is on its way.");
            let table = text_of(&d, By::Id("invitations-table")).await?;
            assert!(table.contains("nina@example.org") && table.contains("Pending"), "{table}");

            // The email, over SMTP, with the registration link.
            let invitation = mail.next_to("nina@example.org").await;
            assert!(invitation.subject.contains("invites you"), "{}", invitation.subject);
            let link = invitation.link();
            assert!(link.starts_with(&format!("{base}/register/")), "{link}");

            // Signed in as someone else, the link says to sign out first.
            d.goto(&link).await?;
            assert_eq!(heading(&d).await?, "This invitation link cannot be used");
            d.goto(format!("{base}/profile")).await?;
            d.query(By::Css(".usermenu summary")).first().await?.click().await?;
            click_and_wait(&d, By::Css("form[action='/logout'] button[type=submit]")).await?;

            // Register: the user ID is prefilled with the email, and editable.
            d.goto(&link).await?;
            assert_eq!(heading(&d).await?, "Create your account");
            assert_eq!(value_of(&d, "user_id").await?, "nina@example.org");
            assert_eq!(value_of(&d, "email").await?, "nina@example.org");
            fill(&d, "user_id", "nina").await?;
            fill(&d, "first_name", "Nina").await?;
            fill(&d, "last_name", "Novak").await?;
            fill(&d, "password", "short").await?;
            fill(&d, "repeat_password", "short").await?;
            click_and_wait(&d, By::Id("register")).await?;
            let error = text_of(&d, By::Id("password-error")).await?;
            assert!(error.contains("at least"), "{error}");
            assert_eq!(value_of(&d, "user_id").await?, "nina", "the form keeps what was typed");
            fill(&d, "password", NEW_PASSWORD).await?;
            fill(&d, "repeat_password", NEW_PASSWORD).await?;
            click_and_wait(&d, By::Id("register")).await?;

            // Signed in, on My profile.
            assert_eq!(d.current_url().await?.path(), "/profile");
            assert_eq!(heading(&d).await?, "My profile");
            assert_eq!(value_of(&d, "email").await?, "nina@example.org");
            assert_eq!(value_of(&d, "first_name").await?, "Nina");
            super::save_screenshot(&d, "registered.png").await?;

            // The inviter is told; the link is used up.
            let told = mail.next_to("admin@example.org").await;
            assert!(told.subject.contains("Nina Novak"), "{}", told.subject);
            d.delete_all_cookies().await?;
            d.goto(&link).await?;
            assert_eq!(heading(&d).await?, "This invitation link cannot be used");
            assert!(text_of(&d, By::Id("link-closed")).await?.contains("already been used"));
            Ok(())
        })
        .await;
}

#[tokio::test]
async fn browser_http_send_my_own_invitation_resend_withdraw_and_the_template() {
    let app = TestApp::spawn().await;
    app.create_user("admin", Some("admin@example.org"), ADMIN_PASSWORD, &[Role::Administrator]).await;
    let (c, csrf) = web_sign_in(&app, "admin", ADMIN_PASSWORD).await;
    let url = format!("{}/admin/invitations", app.base);

    // "Send my own invitation": the link is on the page, nothing is emailed.
    let form = [("csrf_token", csrf.as_str()), ("email", "omar@example.org"), ("role", "user"), ("delivery", "link")];
    let res = c.post(&url).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "post/redirect/get: reloading invites nobody twice");
    assert_eq!(res.headers()["location"], "/admin/invitations");
    let html = page(&c, url.clone()).await.1;
    let link =
        html.split("id=\"invite-link\"").nth(1).unwrap().split("value=\"").nth(1).unwrap().split('"').next().unwrap();
    assert!(link.starts_with(&format!("{}/register/", app.base)), "{link}");
    assert!(!page(&c, url.clone()).await.1.contains("id=\"invite-link\""), "the link is shown once");
    // Invalid and duplicate addresses.
    let form = [("csrf_token", csrf.as_str()), ("email", "nope"), ("delivery", "email")];
    let res = c.post(&url).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("id=\"email-error\""));
    let form = [("csrf_token", csrf.as_str()), ("email", "omar@example.org"), ("delivery", "email")];
    let res = c.post(&url).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("already has a pending invitation"));
    let res = c.post(&url).form(&[("csrf_token", "forged"), ("email", "x@example.org")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // Resend emails a new link; withdraw ends it.
    let (_, html) = page(&c, url.clone()).await;
    let resend =
        html.split("action=\"").find(|s| s.contains("/resend\"")).unwrap().split('"').next().unwrap().to_owned();
    let res = c.post(format!("{}{resend}", app.base)).form(&[("csrf_token", csrf.as_str())]).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/admin/invitations?done=resent");
    let mail = app.mail.next_to("omar@example.org").await;
    let (status, _) = page(&http(), link.to_owned()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the first link stopped working");
    let withdraw = resend.replace("/resend", "/withdraw");
    let res = c.post(format!("{}{withdraw}", app.base)).form(&[("csrf_token", csrf.as_str())]).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/admin/invitations?done=withdrawn");
    let (status, html) = page(&http(), mail.link()).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(html.contains("This invitation was withdrawn."));

    // The template page: a preview, a refusal without {{link}}, then a save.
    let tpl = format!("{}/admin/settings/invitation-template", app.base);
    let (status, html) = page(&c, tpl.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"template-preview\"") && html.contains("/register/EXAMPLE-LINK"));
    let form = [("csrf_token", csrf.as_str()), ("subject", "Hello"), ("body", "no link"), ("action", "save")];
    let res = c.post(&tpl).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("The text must contain {{link}}"));
    let body = "Welcome to {{organization}}!\r\nStart here: {{link}}\r\n";
    let form =
        [("csrf_token", csrf.as_str()), ("subject", "Join {{organization}}"), ("body", body), ("action", "preview")];
    let html = c.post(&tpl).form(&form).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Start here: http"), "{html}");
    let form =
        [("csrf_token", csrf.as_str()), ("subject", "Join {{organization}}"), ("body", body), ("action", "save")];
    let res = c.post(&tpl).form(&form).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/admin/settings/invitation-template?saved=1");
    let form = [("csrf_token", csrf.as_str()), ("email", "pia@example.org"), ("delivery", "email")];
    c.post(&url).form(&form).send().await.unwrap();
    let mail = app.mail.next_to("pia@example.org").await;
    assert!(mail.subject.starts_with("Join "), "{}", mail.subject);
    assert!(mail.text.starts_with("Welcome to ") && mail.text.contains("\nStart here: http"), "{:?}", mail.text);

    // A User Manager reads and previews the template, as in the API, but cannot save it.
    app.create_user("uma", Some("uma@example.org"), USER_PASSWORD, &[Role::UserManager]).await;
    let (m, m_csrf) = web_sign_in(&app, "uma", USER_PASSWORD).await;
    let (status, html) = page(&m, tpl.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"read-only\"") && !html.contains("id=\"save-template\""), "{html}");
    let form = [("csrf_token", m_csrf.as_str()), ("subject", "Hi"), ("body", "Go: {{link}}"), ("action", "preview")];
    let res = m.post(&tpl).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("Go: http"));
    let form = [("csrf_token", m_csrf.as_str()), ("subject", "Hi"), ("body", "Go: {{link}}"), ("action", "save")];
    assert_eq!(m.post(&tpl).form(&form).send().await.unwrap().status(), StatusCode::FORBIDDEN);

    // A plain user sees neither page.
    app.create_user("quinn", Some("quinn@example.org"), USER_PASSWORD, &[Role::User]).await;
    let (c, _) = web_sign_in(&app, "quinn", USER_PASSWORD).await;
    assert_eq!(page(&c, url).await.0, StatusCode::FORBIDDEN);
    assert_eq!(page(&c, tpl).await.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn browser_http_forgot_password_and_reset_pages() {
    let app = TestApp::spawn().await;
    app.create_user("rita", Some("rita@example.org"), USER_PASSWORD, &[Role::User]).await;
    let c = http();
    let (_, html) = page(&c, format!("{}/login", app.base)).await;
    assert!(html.contains("href=\"/forgot-password\""));
    let (status, html) = page(&c, format!("{}/forgot-password", app.base)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Reset your password"));

    // The same answer for an unknown account and a known one.
    let unknown = c.post(format!("{}/forgot-password", app.base)).form(&[("login", "nobody")]).send().await.unwrap();
    let known = c.post(format!("{}/forgot-password", app.base)).form(&[("login", "rita")]).send().await.unwrap();
    assert_eq!(unknown.status(), known.status());
    assert_eq!(unknown.text().await.unwrap(), known.text().await.unwrap());

    let link = app.mail.next_to("rita@example.org").await.link();
    let (status, html) = page(&c, link.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Choose a new password") && html.contains("rita"));
    let res = c.post(&link).form(&[("new_password", NEW_PASSWORD), ("repeat_password", "x")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = c.post(&link).form(&[("new_password", "short"), ("repeat_password", "short")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("id=\"new_password-error\""));
    let res =
        c.post(&link).form(&[("new_password", NEW_PASSWORD), ("repeat_password", NEW_PASSWORD)]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("Your password was changed"));
    let (status, html) = page(&c, link).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("This link cannot be used"));

    // The new password works in the sign-in form.
    let (_, html) = page(&c, format!("{}/login", app.base)).await;
    let form =
        [("csrf_token", hidden(&html, "csrf_token")), ("login", "rita".into()), ("password", NEW_PASSWORD.into())];
    let res = c.post(format!("{}/login", app.base)).form(&form).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/", "signed in, to the landing page");
}
