//! Two-step verification over the API: enrolment, the second sign-in step with a
//! code or a recovery code, replay and ticket rules, turning it off, the
//! organization's requirement and administrators' reset. Codes are computed by
//! `totp-lite`, an implementation independent of the server's.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{Value, json};
use usher_core::{Clock, TestClock};
use usher_domain::Role;

use crate::helpers::{Client, Res, TestApp, USER_PASSWORD};

/// An authenticator app: the secret from the server, codes from `totp-lite` at
/// the time of the server's clock, and the last time step used (the server
/// accepts each step once).
pub struct Authenticator {
    secret: Vec<u8>,
    clock: Arc<TestClock>,
    last: Option<u64>,
}

impl Authenticator {
    /// From the base32 secret the server shows (spaces allowed), reading the
    /// time from the server's clock.
    pub fn new(clock: &Arc<TestClock>, base32_secret: &str) -> Self {
        let clean: String = base32_secret.chars().filter(|c| !c.is_whitespace()).collect();
        let secret = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, &clean).expect("a base32 secret");
        Self { secret, clock: Arc::clone(clock), last: None }
    }

    pub fn code_at_step(&self, step: u64) -> String {
        totp_lite::totp_custom::<totp_lite::Sha1>(30, 6, &self.secret, step * 30)
    }

    /// The time step the clock is in.
    fn step(&self) -> u64 {
        u64::try_from(self.clock.now().timestamp()).unwrap() / 30
    }

    /// A code the server accepts now: the current step, or the next one (the
    /// server allows one step of skew either way, so it still accepts it if the
    /// step ends before the request arrives) when the current one was used.
    /// When both were used, the clock moves on to the step before the one
    /// wanted, as if the user waited for their app to show a new code.
    pub fn next_code(&mut self) -> String {
        let step = self.step();
        let wanted = self.last.map_or(step, |l| step.max(l + 1));
        if wanted > step + 1 {
            let start = i64::try_from((wanted - 1) * 30).unwrap();
            self.clock.set(chrono::DateTime::from_timestamp(start, 0).unwrap());
        }
        self.last = Some(wanted);
        self.code_at_step(wanted)
    }

    /// A code that is certainly wrong now.
    pub fn wrong_code(&self) -> String {
        let step = self.step();
        let valid: Vec<String> = (step - 2..=step + 2).map(|s| self.code_at_step(s)).collect();
        (0..1_000_000).map(|n| format!("{n:06}")).find(|c| !valid.contains(c)).unwrap()
    }
}

/// Starts enrolment and confirms it: the authenticator and the recovery codes.
pub async fn enrol(app: &TestApp, c: &mut Client) -> (Authenticator, Vec<String>) {
    let res = c.post("/api/v1/me/mfa/totp", json!({})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let mut phone = Authenticator::new(&app.clock, res.body["secret"].as_str().unwrap());
    let code = phone.next_code();
    let res = c.post("/api/v1/me/mfa/totp/confirm", json!({ "code": code })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let codes = res.body["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    (phone, codes)
}

/// The password step: the ticket for the second one.
pub async fn ticket(c: &mut Client, login: &str, password: &str) -> String {
    let res = c.post("/api/v1/auth/login", json!({ "login": login, "password": password })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["mfa_required"], true, "{}", res.body);
    assert!(res.headers.get("set-cookie").is_none(), "no session before the second step");
    res.body["ticket"].as_str().unwrap().to_owned()
}

async fn second_step(c: &mut Client, ticket: &str, code: &str) -> Res {
    c.post("/api/v1/auth/login/mfa", json!({ "ticket": ticket, "code": code })).await
}

fn audit_actions(events: &Value) -> Vec<String> {
    events["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn enrol_then_sign_in_with_a_code_once_or_with_a_recovery_code_once() {
    let app = TestApp::spawn().await;
    let (bob, mut c) = app.user("bob").await;

    let res = c.get("/api/v1/me/mfa").await;
    assert_eq!((res.body["totp_enabled"].clone(), res.body["required"].clone()), (json!(false), json!(false)));

    // Enrolment: a secret, its otpauth URI and a QR code; nothing on until confirmed.
    let res = c.post("/api/v1/me/mfa/totp", json!({})).await;
    assert_eq!(res.status, StatusCode::OK);
    let secret = res.body["secret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 32, "160 bits in base32");
    let uri = res.body["otpauth_uri"].as_str().unwrap();
    assert!(
        uri.starts_with("otpauth://totp/Usher:bob?secret=") && uri.contains(&secret) && uri.contains("issuer=Usher")
    );
    let svg = res.body["qr_svg"].as_str().unwrap();
    assert!(svg.contains("<svg") && svg.contains("</svg>"));
    assert_eq!(c.get("/api/v1/me/mfa").await.body["totp_pending"], true);
    let mut phone = Authenticator::new(&app.clock, &secret);

    // The secret is not stored in clear.
    let stored: Vec<u8> = if app.db_url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(&app.db_url).await.unwrap();
        sqlx::query_scalar("SELECT secret FROM mfa_totp WHERE user_id = $1")
            .bind(bob.id)
            .fetch_one(&pool)
            .await
            .unwrap()
    } else {
        let pool = sqlx::SqlitePool::connect(&app.db_url).await.unwrap();
        sqlx::query_scalar("SELECT secret FROM mfa_totp WHERE user_id = ?").bind(bob.id).fetch_one(&pool).await.unwrap()
    };
    assert!(!stored.windows(phone.secret.len()).any(|w| w == phone.secret.as_slice()), "the raw secret is not stored");
    assert!(!String::from_utf8_lossy(&stored).contains(&secret));

    // A wrong first code changes nothing; the right one turns it on and gives codes.
    let res = c.post("/api/v1/me/mfa/totp/confirm", json!({ "code": phone.wrong_code() })).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.error_codes(), ["incorrect"]);
    let res = c.post("/api/v1/me/mfa/totp/confirm", json!({ "code": phone.next_code() })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let codes: Vec<String> = serde_json::from_value(res.body["recovery_codes"].clone()).unwrap();
    assert_eq!(codes.len(), 10);
    assert!(codes.iter().all(|c| c.len() == 14 && c.matches('-').count() == 2), "{codes:?}");
    let status = c.get("/api/v1/me/mfa").await.body;
    assert_eq!((status["totp_enabled"].clone(), status["recovery_codes_left"].clone()), (json!(true), json!(10)));
    let again = c.post("/api/v1/me/mfa/totp", json!({})).await;
    assert_eq!(
        (again.status, again.body["code"].as_str()),
        (StatusCode::CONFLICT, Some("two_step_on")),
        "one at a time"
    );

    // Password alone: a ticket, no session.
    let mut d = app.client();
    let t = ticket(&mut d, "bob", USER_PASSWORD).await;
    assert_eq!(d.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
    let res = second_step(&mut d, &t, &phone.wrong_code()).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(res.body["type"], "urn:usher:problem:bad-code");
    let code = phone.next_code();
    let res = second_step(&mut d, &t, &code).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["user_id"], "bob");
    assert!(d.csrf.is_some());
    assert_eq!(d.get("/api/v1/me").await.status, StatusCode::OK);

    // The same code with a fresh ticket: refused (a code works once).
    let mut e = app.client();
    let t = ticket(&mut e, "bob", USER_PASSWORD).await;
    let res = second_step(&mut e, &t, &code).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "replayed code: {}", res.body);

    // A recovery code works once, typed loosely.
    let loose = codes[0].to_uppercase().replace('-', " ");
    let res = e.post("/api/v1/auth/login/mfa", json!({ "ticket": t, "recovery_code": loose })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(e.get("/api/v1/me/mfa").await.body["recovery_codes_left"], 9);
    let mut f = app.client();
    let t = ticket(&mut f, "bob", USER_PASSWORD).await;
    let res = f.post("/api/v1/auth/login/mfa", json!({ "ticket": t, "recovery_code": codes[0] })).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "a used recovery code");

    let (_, mut admin) = app.admin().await;
    let events = admin.get(&format!("/api/v1/audit-events?target_id={}", bob.id)).await.body;
    let actions = audit_actions(&events);
    assert!(actions.contains(&"user.mfa.enabled".to_owned()), "{actions:?}");
    let second: Vec<&Value> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "auth.login.succeeded" && e["details"]["second_step"].is_string())
        .collect();
    assert_eq!(second.len(), 2, "{events}");
    assert!(
        second
            .iter()
            .any(|e| e["details"]["second_step"] == "recovery_code" && e["details"]["recovery_codes_left"] == 9)
    );
    let failed = events["items"].as_array().unwrap().iter().filter(|e| e["details"]["step"] == "second").count();
    assert_eq!(failed, 3, "wrong code, replayed code, used recovery code: {events}");
}

#[tokio::test]
async fn tickets_are_single_use_short_lived_and_burnt_by_wrong_codes_which_count_as_failures() {
    let app = TestApp::spawn().await;
    let (_, mut c) = app.user("ann").await;
    let (mut phone, _) = enrol(&app, &mut c).await;

    let mut d = app.client();
    for body in [json!({ "ticket": "nope", "code": "123456" }), json!({ "ticket": "", "code": "123456" })] {
        let res = d.post("/api/v1/auth/login/mfa", body).await;
        assert_eq!(
            (res.status, res.body["type"].as_str().unwrap()),
            (StatusCode::UNAUTHORIZED, "urn:usher:problem:unauthenticated")
        );
    }
    for body in [json!({ "ticket": "x" }), json!({ "ticket": "x", "code": "1", "recovery_code": "2" })] {
        assert_eq!(d.post("/api/v1/auth/login/mfa", body).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    }

    // Used once.
    let t = ticket(&mut d, "ann", USER_PASSWORD).await;
    assert_eq!(second_step(&mut d, &t, &phone.next_code()).await.status, StatusCode::OK);
    assert_eq!(second_step(&mut d, &t, &phone.next_code()).await.status, StatusCode::UNAUTHORIZED);

    // Valid for 5 minutes, not longer, even with the right code.
    let mut e = app.client();
    let t = ticket(&mut e, "ann", USER_PASSWORD).await;
    app.clock.advance(chrono::Duration::minutes(4) + chrono::Duration::seconds(50));
    assert_eq!(second_step(&mut e, &t, &phone.next_code()).await.status, StatusCode::OK);
    let mut e = app.client();
    let t = ticket(&mut e, "ann", USER_PASSWORD).await;
    app.clock.advance(chrono::Duration::minutes(5) + chrono::Duration::seconds(1));
    let res = second_step(&mut e, &t, &phone.next_code()).await;
    assert_eq!(res.body["type"], "urn:usher:problem:unauthenticated", "{}", res.body);

    // Five wrong codes burn the ticket, and lock the account like five wrong passwords.
    let t = ticket(&mut e, "ann", USER_PASSWORD).await;
    for _ in 0..5 {
        assert_eq!(second_step(&mut e, &t, &phone.wrong_code()).await.body["type"], "urn:usher:problem:bad-code");
    }
    let res = e.post("/api/v1/auth/login", json!({ "login": "ann", "password": USER_PASSWORD })).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS, "{}", res.body);
    assert!(res.headers.get("retry-after").is_some());
}

#[tokio::test]
async fn turning_off_and_new_recovery_codes_need_the_password() {
    let app = TestApp::spawn().await;
    let (_, mut c) = app.user("cid").await;
    assert_eq!(
        c.post("/api/v1/me/mfa/recovery-codes", json!({ "password": USER_PASSWORD })).await.status,
        StatusCode::CONFLICT,
        "no codes while it is off"
    );
    let (_, old) = enrol(&app, &mut c).await;

    let res = c.post("/api/v1/me/mfa/recovery-codes", json!({ "password": "wrong" })).await;
    assert_eq!((res.status, res.error_codes()), (StatusCode::UNPROCESSABLE_ENTITY, vec!["incorrect".to_owned()]));
    let res = c.post("/api/v1/me/mfa/recovery-codes", json!({ "password": USER_PASSWORD })).await;
    assert_eq!(res.status, StatusCode::OK);
    let new: Vec<String> = serde_json::from_value(res.body["recovery_codes"].clone()).unwrap();
    assert!(new.iter().all(|n| !old.contains(n)));
    let mut d = app.client();
    let t = ticket(&mut d, "cid", USER_PASSWORD).await;
    let res = d.post("/api/v1/auth/login/mfa", json!({ "ticket": t, "recovery_code": old[1] })).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "old codes stop working");
    let res = d.post("/api/v1/auth/login/mfa", json!({ "ticket": t, "recovery_code": new[1] })).await;
    assert_eq!(res.status, StatusCode::OK);

    let res = c.send(reqwest::Method::DELETE, "/api/v1/me/mfa/totp", Some(json!({ "password": "wrong" }))).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let res = c.send(reqwest::Method::DELETE, "/api/v1/me/mfa/totp", Some(json!({ "password": USER_PASSWORD }))).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    let res = c.send(reqwest::Method::DELETE, "/api/v1/me/mfa/totp", Some(json!({ "password": USER_PASSWORD }))).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = app.client().post("/api/v1/auth/login", json!({ "login": "cid", "password": USER_PASSWORD })).await;
    assert_eq!((res.status, res.body["user_id"].clone()), (StatusCode::OK, json!("cid")), "password alone again");
}

#[tokio::test]
async fn an_organization_can_require_two_step_verification() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let (_, mut dan) = app.user("dan").await;

    assert_eq!(dan.get("/api/v1/settings/mfa").await.status, StatusCode::FORBIDDEN);
    assert_eq!(dan.put("/api/v1/settings/mfa", json!({ "required": true })).await.status, StatusCode::FORBIDDEN);
    assert_eq!(admin.get("/api/v1/settings/mfa").await.body, json!({ "required": false }));
    assert_eq!(
        admin.put("/api/v1/settings/mfa", json!({ "required": "yes" })).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let res = admin.put("/api/v1/settings/mfa", json!({ "required": true })).await;
    assert_eq!((res.status, res.body.clone()), (StatusCode::OK, json!({ "required": true })));

    // Dan's existing session goes on; a new sign-in is restricted to enrolment.
    assert_eq!(dan.get("/api/v1/me/tokens").await.status, StatusCode::OK);
    let mut fresh = app.signed_in("dan", USER_PASSWORD).await;
    assert_eq!(fresh.get("/api/v1/me").await.status, StatusCode::OK);
    assert_eq!(fresh.get("/api/v1/me/mfa").await.body["required"], true);
    for (method, path) in [(reqwest::Method::GET, "/api/v1/me/tokens"), (reqwest::Method::GET, "/api/v1/me/sessions")] {
        let res = fresh.send(method, path, None).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(res.body["type"], "urn:usher:problem:mfa-enrolment-required");
    }
    let old_csrf = fresh.csrf.clone();
    let (_, codes) = enrol(&app, &mut fresh).await;
    assert_eq!(codes.len(), 10);
    assert_ne!(fresh.csrf, old_csrf, "the restricted session was replaced");
    assert_eq!(fresh.get("/api/v1/me/tokens").await.status, StatusCode::OK);
    assert_eq!(fresh.get("/api/v1/me/sessions").await.status, StatusCode::OK);
    let res =
        fresh.send(reqwest::Method::DELETE, "/api/v1/me/mfa/totp", Some(json!({ "password": USER_PASSWORD }))).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "cannot be turned off while required");

    // Signing out works while restricted too.
    app.create_user("eve", Some("eve@example.org"), USER_PASSWORD, &[Role::User]).await;
    let mut eve = app.signed_in("eve", USER_PASSWORD).await;
    assert_eq!(eve.post("/api/v1/auth/logout", json!({})).await.status, StatusCode::NO_CONTENT);

    let events = admin.get("/api/v1/audit-events?action=settings.mfa.updated").await.body;
    assert_eq!(events["items"][0]["details"]["after"], json!({ "required": true }));
}

#[tokio::test]
async fn administrators_see_and_reset_a_users_two_step_verification() {
    let app = TestApp::spawn().await;
    let (admin_user, mut admin) = app.admin().await;
    let (fay, mut c) = app.user("fay").await;
    enrol(&app, &mut c).await;
    app.create_user("manny", Some("manny@example.org"), USER_PASSWORD, &[Role::UserManager]).await;
    let mut manny = app.signed_in("manny", USER_PASSWORD).await;

    let res = admin.get(&format!("/api/v1/users/{}/security", fay.id)).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!((res.body["totp_enabled"].clone(), res.body["recovery_codes_left"].clone()), (json!(true), json!(10)));
    assert_eq!(res.body["locked_until"], Value::Null);

    // Others may not; a user manager may for users, not for an administrator.
    assert_eq!(c.post(&format!("/api/v1/users/{}/mfa/reset", fay.id), json!({})).await.status, StatusCode::FORBIDDEN);
    let res = manny.post(&format!("/api/v1/users/{}/mfa/reset", admin_user.id), json!({})).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let missing = uuid::Uuid::now_v7();
    assert_eq!(
        admin.post(&format!("/api/v1/users/{missing}/mfa/reset"), json!({})).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(admin.post("/api/v1/users/not-an-id/mfa/reset", json!({})).await.status, StatusCode::NOT_FOUND);

    assert_eq!(
        manny.post(&format!("/api/v1/users/{}/mfa/reset", fay.id), json!({})).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(admin.get(&format!("/api/v1/users/{}/security", fay.id)).await.body["totp_enabled"], false);
    let res = app.client().post("/api/v1/auth/login", json!({ "login": "fay", "password": USER_PASSWORD })).await;
    assert_eq!(res.body["user_id"], "fay", "password alone after the reset");
    let events = admin.get("/api/v1/audit-events?action=user.mfa.reset").await.body;
    assert_eq!(events["items"][0]["target_id"], json!(fay.id));
}

#[tokio::test]
async fn the_openapi_document_describes_two_step_sessions_and_locks() {
    let app = TestApp::spawn().await;
    let doc = app.client().get("/api/openapi.json").await.body;
    for path in [
        "/api/v1/auth/login/mfa",
        "/api/v1/me/mfa",
        "/api/v1/me/mfa/totp",
        "/api/v1/me/mfa/totp/confirm",
        "/api/v1/me/mfa/recovery-codes",
        "/api/v1/me/sessions",
        "/api/v1/me/sessions/{id}",
        "/api/v1/settings/mfa",
        "/api/v1/users/{id}/security",
        "/api/v1/users/{id}/mfa/reset",
        "/api/v1/users/{id}/unlock",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    assert!(doc["paths"]["/api/v1/auth/login"]["post"]["responses"]["429"].is_object());
    let params = doc["paths"]["/api/v1/me/sessions"]["delete"]["parameters"].to_string();
    assert!(params.contains("include_current"), "{params}");
}
