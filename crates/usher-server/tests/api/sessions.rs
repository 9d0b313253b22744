//! Your own sessions over the API: the list with the current one marked and the
//! client described, ending one (never another user's, never a second one by
//! accident), all others, or all.

use reqwest::{Method, StatusCode};
use serde_json::json;
use usher_domain::Role;

use crate::helpers::{Client, TestApp, USER_PASSWORD};

const FIREFOX: &str = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0";
const SAFARI_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 \
                             (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";

/// A client with its own cookies and user agent, signed in.
async fn device(app: &TestApp, login: &str, user_agent: &str) -> Client {
    let http = reqwest::Client::builder().cookie_store(true).user_agent(user_agent).build().unwrap();
    let mut c = Client { http, base: app.base.clone(), csrf: None };
    let res = c.post("/api/v1/auth/login", json!({ "login": login, "password": USER_PASSWORD })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    c
}

#[tokio::test]
async fn sessions_are_listed_with_the_current_one_marked_and_the_client_described() {
    let app = TestApp::spawn().await;
    app.create_user("gus", Some("gus@example.org"), USER_PASSWORD, &[Role::User]).await;
    let mut laptop = device(&app, "gus", FIREFOX).await;
    let mut phone = device(&app, "gus", SAFARI_IPHONE).await;

    let res = laptop.get("/api/v1/me/sessions").await;
    assert_eq!(res.status, StatusCode::OK);
    let items = res.body["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2);
    assert_eq!(res.body["next_cursor"], serde_json::Value::Null);
    assert_eq!(items[0]["client"], "Safari on iPhone", "newest first");
    assert_eq!(items[1]["client"], "Firefox on Linux");
    assert_eq!(items[1]["user_agent"], FIREFOX);
    assert_eq!((items[0]["current"].clone(), items[1]["current"].clone()), (json!(false), json!(true)));
    for item in &items {
        assert_eq!(item["address"], "127.0.0.1");
        for field in ["id", "created_at", "last_active_at"] {
            assert!(item[field].is_string(), "{field}: {item}");
        }
    }
    let from_phone = phone.get("/api/v1/me/sessions").await.body;
    assert_eq!(from_phone["items"][0]["current"], true);

    // Pages.
    let first = laptop.get("/api/v1/me/sessions?limit=1").await.body;
    assert_eq!(first["items"].as_array().unwrap().len(), 1);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let second = laptop.get(&format!("/api/v1/me/sessions?limit=1&cursor={cursor}")).await.body;
    assert_eq!(second["items"][0]["client"], "Firefox on Linux");
    assert_eq!(second["next_cursor"], serde_json::Value::Null);
    assert_eq!(laptop.get("/api/v1/me/sessions?cursor=nope").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(laptop.get("/api/v1/me/sessions?colour=red").await.status, StatusCode::BAD_REQUEST);

    // An API token sees the sessions, none of them its own.
    let res = laptop.post("/api/v1/me/tokens", json!({ "description": "ci", "scopes": ["profile:read"] })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let token = res.body["token"].as_str().unwrap().to_owned();
    let listed: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/api/v1/me/sessions", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(listed["items"].as_array().unwrap().iter().all(|s| s["current"] == false));
    let refused = reqwest::Client::new()
        .delete(format!("{}/api/v1/me/sessions", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN, "a read-only token ends nothing");
}

#[tokio::test]
async fn ending_one_session_ends_only_that_one_and_never_another_users() {
    let app = TestApp::spawn().await;
    app.create_user("hal", Some("hal@example.org"), USER_PASSWORD, &[Role::User]).await;
    let (_, mut ivy) = app.user("ivy").await;
    let mut a = device(&app, "hal", FIREFOX).await;
    let mut b = device(&app, "hal", SAFARI_IPHONE).await;
    let mut c = device(&app, "hal", "curl/8.5.0").await;

    let items = a.get("/api/v1/me/sessions").await.body["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["client"], "curl");
    let b_id = items.iter().find(|s| s["client"] == "Safari on iPhone").unwrap()["id"].as_str().unwrap().to_owned();

    // Another user cannot end it: not found, and it still works.
    let res = ivy.send(Method::DELETE, &format!("/api/v1/me/sessions/{b_id}"), None).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(b.get("/api/v1/me").await.status, StatusCode::OK);
    assert_eq!(ivy.send(Method::DELETE, "/api/v1/me/sessions/not-an-id", None).await.status, StatusCode::NOT_FOUND);

    let res = a.send(Method::DELETE, &format!("/api/v1/me/sessions/{b_id}"), None).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    assert!(res.headers.get("set-cookie").is_none(), "ending another session keeps this one");
    assert_eq!(b.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.get("/api/v1/me").await.status, StatusCode::OK);
    assert_eq!(c.get("/api/v1/me").await.status, StatusCode::OK);
    assert_eq!(ivy.get("/api/v1/me").await.status, StatusCode::OK);
    assert_eq!(
        a.send(Method::DELETE, &format!("/api/v1/me/sessions/{b_id}"), None).await.status,
        StatusCode::NOT_FOUND
    );

    // Ending the current one signs this client out.
    let current = a.get("/api/v1/me/sessions").await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = a.send(Method::DELETE, &format!("/api/v1/me/sessions/{current}"), None).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    assert!(res.headers.get("set-cookie").unwrap().to_str().unwrap().starts_with("usher_session=;"));
    assert_eq!(a.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(c.get("/api/v1/me").await.status, StatusCode::OK);

    let (_, mut admin) = app.admin().await;
    let events = admin.get("/api/v1/audit-events?action=session.ended").await.body;
    assert_eq!(events["items"].as_array().unwrap().len(), 2);
    assert_eq!(events["items"][0]["details"]["current"], true);
}

#[tokio::test]
async fn end_all_other_sessions_or_all_of_them() {
    let app = TestApp::spawn().await;
    app.create_user("jo", Some("jo@example.org"), USER_PASSWORD, &[Role::User]).await;
    let (_, mut kim) = app.user("kim").await;
    let mut a = device(&app, "jo", FIREFOX).await;
    let mut b = device(&app, "jo", SAFARI_IPHONE).await;
    let mut c = device(&app, "jo", "curl/8.5.0").await;

    let res = a.send(Method::DELETE, "/api/v1/me/sessions", None).await;
    assert_eq!((res.status, res.body["ended"].clone()), (StatusCode::OK, json!(2)));
    assert_eq!(a.get("/api/v1/me").await.status, StatusCode::OK);
    assert_eq!(b.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(c.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(kim.get("/api/v1/me").await.status, StatusCode::OK, "other users keep theirs");

    assert_eq!(
        a.send(Method::DELETE, "/api/v1/me/sessions?include_current=maybe", None).await.status,
        StatusCode::BAD_REQUEST
    );
    let mut d = device(&app, "jo", "curl/8.5.0").await;
    let res = a.send(Method::DELETE, "/api/v1/me/sessions?include_current=true", None).await;
    assert_eq!((res.status, res.body["ended"].clone()), (StatusCode::OK, json!(2)));
    assert!(res.headers.get("set-cookie").is_some());
    assert_eq!(a.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(d.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(kim.get("/api/v1/me").await.status, StatusCode::OK);

    let (_, mut admin) = app.admin().await;
    let events = admin.get("/api/v1/audit-events?action=session.ended_many").await.body;
    let scopes: Vec<_> = events["items"].as_array().unwrap().iter().map(|e| e["details"]["scope"].clone()).collect();
    assert_eq!(scopes, [json!("all"), json!("others")]);
}
