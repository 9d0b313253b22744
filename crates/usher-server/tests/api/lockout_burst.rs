//! The lockout holds against bursts: counting an attempt and checking the limit
//! are one atomic step in the database, so hundreds of concurrent attempts, on
//! one node or two, never get more than the threshold checked.

use reqwest::StatusCode;
use serde_json::json;
use tokio::sync::oneshot;
use usher_domain::Role;
use usher_server::{Config, Overrides};

use crate::helpers::{TestApp, USER_PASSWORD};

const BURST: usize = 200;

/// Sends one sign-in; the answer's status.
async fn attempt(http: &reqwest::Client, base: &str, address: &str, login: &str, password: &str) -> StatusCode {
    http.post(format!("{base}/api/v1/auth/login"))
        .header("x-forwarded-for", address)
        .json(&json!({ "login": login, "password": password }))
        .send()
        .await
        .expect("request")
        .status()
}

/// Runs every request at once and collects their statuses in order.
async fn join_all<F>(requests: impl Iterator<Item = F>) -> Vec<StatusCode>
where
    F: std::future::Future<Output = StatusCode> + Send + 'static,
{
    let handles: Vec<_> = requests.map(tokio::spawn).collect();
    let mut statuses = Vec::with_capacity(handles.len());
    for handle in handles {
        statuses.push(handle.await.expect("a request task"));
    }
    statuses
}

/// How many answers had each status: (401, 429, other).
fn tally(statuses: &[StatusCode]) -> (usize, usize, Vec<StatusCode>) {
    let unauthorized = statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    let locked = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    let other = statuses
        .iter()
        .filter(|s| **s != StatusCode::UNAUTHORIZED && **s != StatusCode::TOO_MANY_REQUESTS)
        .copied()
        .collect();
    (unauthorized, locked, other)
}

/// A second server node on the test app's database.
async fn second_node(app: &TestApp) -> (String, oneshot::Sender<()>) {
    let env = vec![
        ("USHER_DATABASE_URL".to_string(), app.db_url.clone()),
        ("USHER_LISTEN".to_string(), "127.0.0.1:0".to_string()),
        ("USHER_TRUST_PROXY".to_string(), "true".to_string()),
    ];
    let (config, _) = Config::load(None, env, Overrides::default()).unwrap();
    let node = app.node(config).await;
    let base = format!("http://{}", node.addr);
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(node.run_until(async move {
        let _ = stopped.await;
    }));
    (base, stop)
}

#[tokio::test]
async fn a_burst_of_wrong_passwords_is_checked_at_most_five_times() {
    let app = TestApp::spawn_with(&[("USHER_TRUST_PROXY", "true")]).await;
    app.create_user("vic", Some("vic@example.org"), USER_PASSWORD, &[Role::User]).await;
    let http = reqwest::Client::new();
    // Each from its own address, so only the account's limit (5) applies.
    let burst = (0..BURST).map(|n| {
        let http = http.clone();
        let base = app.base.clone();
        async move { attempt(&http, &base, &format!("198.51.100.{}", n % 250), "vic", &format!("guess-{n}")).await }
    });
    let statuses = join_all(burst).await;
    let (checked, locked, other) = tally(&statuses);
    assert!(other.is_empty(), "{other:?}");
    assert_eq!((checked, locked), (5, BURST - 5), "exactly the threshold is checked");
    // The right password now waits like any other attempt.
    assert_eq!(attempt(&http, &app.base, "192.0.2.1", "vic", USER_PASSWORD).await, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_burst_from_one_address_is_checked_at_most_its_limit() {
    // Default settings: 20 failures lock an address.
    let app = TestApp::spawn_with(&[("USHER_TRUST_PROXY", "true")]).await;
    app.create_user("wes", Some("wes@example.org"), USER_PASSWORD, &[Role::User]).await;
    let http = reqwest::Client::new();
    // 200 names tried at once from one address, the right password among them.
    let burst = (0..BURST).map(|n| {
        let http = http.clone();
        let base = app.base.clone();
        async move {
            match n {
                150 => attempt(&http, &base, "203.0.113.9", "wes", USER_PASSWORD).await,
                _ => attempt(&http, &base, "203.0.113.9", &format!("name-{n}"), "wrong-password").await,
            }
        }
    });
    let statuses = join_all(burst).await;
    let signed_in = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let (checked, locked, _) = tally(&statuses);
    assert!(checked + signed_in <= 20, "at most the address limit is checked: {checked} + {signed_in}");
    assert!(locked >= BURST - 20, "{locked}");
    // Whatever the burst did, the address is locked now, even for the right password.
    assert_eq!(attempt(&http, &app.base, "203.0.113.9", "wes", USER_PASSWORD).await, StatusCode::TOO_MANY_REQUESTS);
    // Another address still gets in.
    assert_eq!(attempt(&http, &app.base, "198.51.100.77", "wes", USER_PASSWORD).await, StatusCode::OK);
}

#[tokio::test]
async fn a_burst_spread_over_two_nodes_is_checked_at_most_five_times() {
    let app = TestApp::spawn_with(&[("USHER_TRUST_PROXY", "true")]).await;
    app.create_user("xia", Some("xia@example.org"), USER_PASSWORD, &[Role::User]).await;
    let (other, _stop) = second_node(&app).await;
    let http = reqwest::Client::new();
    let burst = (0..BURST).map(|n| {
        let http = http.clone();
        let base = if n % 2 == 0 { app.base.clone() } else { other.clone() };
        async move { attempt(&http, &base, &format!("198.51.100.{}", n % 250), "xia", "wrong-password").await }
    });
    let statuses = join_all(burst).await;
    let (checked, locked, rest) = tally(&statuses);
    assert!(rest.is_empty(), "{rest:?}");
    assert_eq!((checked, locked), (5, BURST - 5));
    for base in [&app.base, &other] {
        assert_eq!(attempt(&http, base, "192.0.2.2", "xia", USER_PASSWORD).await, StatusCode::TOO_MANY_REQUESTS);
    }
}

#[tokio::test]
async fn a_right_password_gives_its_count_back() {
    let app = TestApp::spawn_with(&[("USHER_TRUST_PROXY", "true"), ("USHER_LOCKOUT_ADDRESS_FAILURES", "3")]).await;
    app.create_user("yan", Some("yan@example.org"), USER_PASSWORD, &[Role::User]).await;
    let http = reqwest::Client::new();
    // Many successful sign-ins from one address (an office behind one NAT) never
    // add up to a lock: each success gives its count back.
    for _ in 0..6 {
        assert_eq!(attempt(&http, &app.base, "203.0.113.50", "yan", USER_PASSWORD).await, StatusCode::OK);
    }
    // Two failures then a success: the third failure is still allowed...
    for _ in 0..2 {
        assert_eq!(attempt(&http, &app.base, "203.0.113.50", "yan", "nope").await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(attempt(&http, &app.base, "203.0.113.50", "yan", USER_PASSWORD).await, StatusCode::OK);
    assert_eq!(attempt(&http, &app.base, "203.0.113.50", "yan", "nope").await, StatusCode::UNAUTHORIZED);
    // ...and locks the address at its limit of 3.
    assert_eq!(attempt(&http, &app.base, "203.0.113.50", "yan", USER_PASSWORD).await, StatusCode::TOO_MANY_REQUESTS);
}
