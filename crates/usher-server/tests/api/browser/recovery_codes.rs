//! Recovery codes in a real browser: "Copy" puts them on the clipboard, and
//! "Download" saves a text file that says whose codes they are, from a `data:`
//! link the CSP lets through, so that nothing on the server can hand the codes
//! out again. Then, over plain HTTP, the same page after new codes are made.

use std::{path::Path, time::Duration};

use base64::{Engine, engine::general_purpose::STANDARD};
use reqwest::StatusCode;
use serde_json::json;
use thirtyfour::prelude::*;
use usher_domain::Role;

use super::{Browser, click_and_wait, fill, heading, page, save_screenshot, sign_in, text_of, web_sign_in};
use crate::{
    helpers::{TestApp, USER_PASSWORD},
    mfa::Authenticator,
};

/// Waits (a bounded while) for the browser to finish writing `file`.
async fn downloaded(file: &Path) -> String {
    for _ in 0..200 {
        if let Ok(text) = std::fs::read_to_string(file) {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{} was not downloaded", file.display());
}

#[tokio::test]
async fn browser_recovery_codes_are_copied_and_downloaded_as_a_text_file() {
    let app = TestApp::spawn().await;
    app.create_user("uma", Some("uma@example.org"), USER_PASSWORD, &[Role::User]).await;
    let base = app.base.clone();
    let clock = app.clock.clone();
    let downloads = tempfile::tempdir().unwrap();
    let folder = downloads.path().to_owned();

    Browser::start()
        .await
        .run(|d| async move {
            let cdp = d.cdp();
            let folder_name = folder.display().to_string();
            let behavior = json!({ "behavior": "allow", "downloadPath": folder_name });
            cdp.send_raw("Browser.setDownloadBehavior", behavior).await?;
            let permissions =
                json!({ "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"], "origin": base });
            cdp.send_raw("Browser.grantPermissions", permissions).await?;

            d.goto(format!("{base}/login?lang=en")).await?;
            sign_in(&d, "uma", USER_PASSWORD).await?;
            d.goto(format!("{base}/profile/security/two-step")).await?;
            let mut phone = Authenticator::new(&clock, &text_of(&d, By::Id("totp-secret")).await?);
            fill(&d, "code", &phone.next_code()).await?;
            click_and_wait(&d, By::Id("confirm-two-step-submit")).await?;
            assert_eq!(heading(&d).await?, "Recovery codes");
            let mut codes = Vec::new();
            for li in d.find_all(By::Css("#recovery-codes li")).await? {
                codes.push(li.text().await?);
            }
            assert_eq!(codes.len(), 10);

            // Copy: the script shows the button; the clipboard then holds the codes, one a line.
            d.query(By::Id("copy-codes")).and_displayed().first().await?.click().await?;
            let status = d.query(By::Id("codes-copy-status")).and_displayed().first().await?.text().await?;
            assert_eq!(status, "The codes are copied to the clipboard.");
            let pasted = d
                .execute_async(
                    "const done = arguments[arguments.length - 1]; \
                     navigator.clipboard.readText().then(done, (e) => done(`unreadable: ${e}`));",
                    vec![],
                )
                .await?
                .convert::<String>()?;
            assert_eq!(pasted, format!("{}\n", codes.join("\n")));

            // Download: a file made from the link itself, the page stays.
            let link = d.find(By::Id("download-codes")).await?;
            let href = link.attr("href").await?.unwrap_or_default();
            assert!(href.starts_with("data:text/plain;charset=utf-8;base64,"), "{href}");
            assert_eq!(link.attr("download").await?.as_deref(), Some("usher-recovery-codes-uma.txt"));
            link.click().await?;
            let text = downloaded(&folder.join("usher-recovery-codes-uma.txt")).await;
            let lines: Vec<&str> = text.lines().collect();
            let server = format!("Server: {base}");
            assert_eq!(lines[..3], ["Usher recovery codes", "Account: uma (uma@example.org)", server.as_str()]);
            assert!(lines[3].starts_with("Made: "), "{text}");
            assert_eq!(lines[lines.len() - 10..], codes.iter().map(String::as_str).collect::<Vec<_>>()[..]);
            assert_eq!(heading(&d).await?, "Recovery codes");
            save_screenshot(&d, "recovery-codes.png").await?;
            Ok(())
        })
        .await;
}

#[tokio::test]
async fn browser_http_new_recovery_codes_come_with_copy_and_download_and_are_not_kept() {
    let app = TestApp::spawn().await;
    let (_, mut api) = app.user("wes").await;
    api.patch("/api/v1/me", json!({ "language": "ru" })).await;
    let (c, csrf) = web_sign_in(&app, "wes", USER_PASSWORD).await;
    crate::mfa::enrol(&app, &mut api).await;
    let form = [("csrf_token", csrf.as_str()), ("password", USER_PASSWORD)];
    let res =
        c.post(format!("{}/profile/security/two-step/recovery-codes", app.base)).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let html = res.text().await.unwrap();
    let codes: Vec<&str> = html.split("<li><code>").skip(1).map(|s| s.split('<').next().unwrap()).collect();
    assert_eq!(codes.len(), 10);
    assert!(html.contains("id=\"copy-codes\"") && html.contains(" hidden>Скопировать коды</button>"), "{html}");
    let href = attr_after(&html, "href=\"data:text/plain;charset=utf-8;base64,");
    let text = String::from_utf8(STANDARD.decode(href).unwrap()).unwrap();
    assert!(text.starts_with("Резервные коды Usher\nУчётная запись: wes (wes@example.org)\n"), "{text}");
    assert!(text.contains(&format!("Сервер: {}\n", app.base)));
    assert!(codes.iter().all(|code| text.contains(&format!("\n{code}\n"))));
    assert!(html.contains("download=\"usher-recovery-codes-wes.txt\""));

    // Nothing serves them again: the security page only counts them.
    let (_, security) = page(&c, format!("{}/profile/security", app.base)).await;
    assert!(codes.iter().all(|code| !security.contains(code)));
}

/// The value of an attribute that starts with `prefix` (the prefix left out).
fn attr_after<'a>(html: &'a str, prefix: &str) -> &'a str {
    let start = html.find(prefix).unwrap_or_else(|| panic!("no {prefix} in {html}")) + prefix.len();
    html[start..].split('"').next().unwrap()
}
