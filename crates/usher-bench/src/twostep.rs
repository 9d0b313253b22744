//! Sign-ins with two-step verification: `POST /api/v1/auth/login` answers a
//! ticket, then `POST /api/v1/auth/login/mfa` with the ticket and the current
//! TOTP code opens the session.
//!
//! The server accepts a code once per user and 30-second time step (replay
//! protection), so the benchmark signs in many users in turn: before measuring,
//! each is signed in once and enrolled (`POST /api/v1/me/mfa/totp`, then
//! `.../confirm` with a first code), and their secrets stay in memory. Codes
//! are computed with `totp-lite`, an implementation independent of the server's
//! `totp-rs`. The users either exist already with the benchmark's password
//! (`usher-bench mfa-users` writes them for `usher users import`: one argon2id
//! hash computed once, so creating them costs the server nothing), or are
//! created through the administration API (`--create`: creation, a temporary
//! password, a first sign-in and a password change: three more argon2id hashes
//! per user).

use std::{
    io::Write as _,
    path::Path,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use anyhow::{Context, anyhow, bail};
use bytes::Bytes;
use http_body_util::Full;
use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::{
    hash::round,
    load::{Connection, LOGIN_PATH, REQUEST_TIMEOUT, SESSION_COOKIE, Target, USER_AGENT},
};

/// The second step of a sign-in.
pub const SECOND_STEP_PATH: &str = "/api/v1/auth/login/mfa";
/// TOTP's time step (RFC 6238's default, the server's).
const STEP_SECONDS: u64 = 30;
/// The last-step value of a user who never signed in with a code.
const NEVER: u64 = u64::MAX;
/// The argon2id salt of the imported users' hash (one hash for all of them).
const SALT: &[u8] = b"usher-bench-mfa-salt";

/// The seconds since the Unix epoch.
fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The code of a secret at a time step: 6 digits, HMAC-SHA1 (what the server issues).
fn code(secret: &[u8], step: u64) -> String {
    totp_lite::totp_custom::<totp_lite::Sha1>(STEP_SECONDS, 6, secret, step * STEP_SECONDS)
}

/// The user ID of the `i`-th benchmark user.
pub fn login_of(prefix: &str, i: usize) -> String {
    format!("{prefix}{i:06}")
}

/// Writes `users` users named `PREFIX000000`, `PREFIX000001`, ... as JSON lines
/// for `usher users import`, all with one argon2id hash (the server's cost) of
/// `password`.
pub fn write_users(path: &Path, users: usize, prefix: &str, password: &str) -> anyhow::Result<()> {
    use argon2::PasswordHasher;
    let params = argon2::Params::new(crate::hash::MEMORY_KIB, crate::hash::ITERATIONS, crate::hash::LANES, Some(32))
        .map_err(|e| anyhow!("argon2 parameters: {e}"))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let hash = argon.hash_password_with_salt(password.as_bytes(), SALT).map_err(|e| anyhow!("hashing: {e}"))?;
    let hash = hash.to_string();
    let file = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    for i in 0..users {
        let line = json!({
            "user_id": login_of(prefix, i),
            "first_name": "Bench",
            "last_name": format!("User {i}"),
            "roles": ["user"],
            "password_hash": hash,
        });
        serde_json::to_writer(&mut out, &line)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

/// One enrolled user: who, their TOTP secret, and the last time step used.
struct Enrolled {
    login: String,
    secret: Vec<u8>,
    last_step: AtomicU64,
}

/// The shared state of a two-step sign-in storm: the users, taken in turn, and
/// what the second steps took.
pub struct TwoStep {
    target: Target,
    password: String,
    users: Vec<Enrolled>,
    next: AtomicUsize,
    /// Times a worker found the next user already used in this time step and
    /// waited for the next step: more than 0 means too few users for the rate.
    waits: AtomicU64,
    /// When each successful second step started, and how long it took.
    second_steps: Mutex<Vec<(Instant, Duration)>>,
}

impl TwoStep {
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The next user whose last code is from an earlier time step, and the step
    /// to use now. With enough users the turn comes back after more than 30 s,
    /// so this never waits; when it would reuse a step it waits for the next one
    /// (and counts the wait).
    async fn take(&self) -> (&Enrolled, u64) {
        loop {
            let now = unix_now();
            let step = now / STEP_SECONDS;
            let user = &self.users[self.next.fetch_add(1, Ordering::Relaxed) % self.users.len()];
            let last = user.last_step.load(Ordering::Relaxed);
            if (last == NEVER || last < step)
                && user.last_step.compare_exchange(last, step, Ordering::Relaxed, Ordering::Relaxed).is_ok()
            {
                return (user, step);
            }
            self.waits.fetch_add(1, Ordering::Relaxed);
            let wait = (step + 1) * STEP_SECONDS - now;
            tokio::time::sleep(Duration::from_millis(wait * 1000 + 20)).await;
        }
    }

    fn post(&self, path: &str, body: &Value) -> Result<http::Request<Full<Bytes>>, String> {
        http::Request::post(path)
            .header(header::HOST, self.target.authority.as_str())
            .header(header::USER_AGENT, USER_AGENT)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|e| format!("building the request: {e}"))
    }

    /// One sign-in on the worker's connection: the password step, then the code.
    /// Answers the status and body of the last answer (a refused password step
    /// stops there); `Err` for a transport failure or a password step that
    /// answered 200 without a ticket.
    pub async fn exchange(&self, conn: &mut Connection) -> Result<(StatusCode, Bytes), String> {
        let (user, step) = self.take().await;
        let password = self.post(LOGIN_PATH, &json!({ "login": user.login, "password": self.password }))?;
        let (status, body) = within(conn.send(password)).await?;
        if status != StatusCode::OK {
            return Ok((status, body));
        }
        let answer: Value = serde_json::from_slice(&body).unwrap_or_default();
        let Some(ticket) = answer["ticket"].as_str().filter(|_| answer["mfa_required"] == true) else {
            return Err(format!(
                "the password step of {} answered no ticket: {}",
                user.login,
                String::from_utf8_lossy(&body).chars().take(200).collect::<String>()
            ));
        };
        let second = self.post(SECOND_STEP_PATH, &json!({ "ticket": ticket, "code": code(&user.secret, step) }))?;
        let start = Instant::now();
        let (status, body) = within(conn.send(second)).await?;
        if status == StatusCode::OK
            && let Ok(mut steps) = self.second_steps.lock()
        {
            steps.push((start, start.elapsed()));
        }
        Ok((status, body))
    }

    /// What the run's record adds: the users, the waits for a fresh time step,
    /// and the second steps' latency (those that started from `measure_from`).
    pub fn extra(&self, measure_from: Instant) -> Value {
        let mut took: Vec<Duration> = match self.second_steps.lock() {
            Ok(steps) => steps.iter().filter(|(at, _)| *at >= measure_from).map(|(_, d)| *d).collect(),
            Err(_) => Vec::new(),
        };
        took.sort_unstable();
        let ms = |p: f64| {
            if took.is_empty() {
                return 0.0;
            }
            let rank = (p * took.len() as f64).ceil() as usize;
            round(took[rank.clamp(1, took.len()) - 1].as_secs_f64() * 1000.0, 2)
        };
        json!({
            "users": self.users.len(),
            "user_waits": self.waits.load(Ordering::Relaxed),
            "second_step_p50_ms": ms(0.50),
            "second_step_p99_ms": ms(0.99),
        })
    }
}

async fn within<T>(f: impl Future<Output = Result<T, String>>) -> Result<T, String> {
    tokio::time::timeout(REQUEST_TIMEOUT, f).await.unwrap_or(Err("timed out".into()))
}

/// How the benchmark users come to exist.
pub enum Source {
    /// They exist with the benchmark's password (imported from `write_users`' file).
    Existing,
    /// Created through the administration API with this administrator's session.
    Create { admin_cookie: String },
}

/// What the set-up did.
pub struct Setup {
    pub two_step: TwoStep,
    /// Creating (with `--create`) and enrolling every user.
    pub seconds: f64,
    /// The wait after that for the next time step, so that every user may sign in.
    pub waited: f64,
}

/// A session of the set-up: cookie and CSRF token.
struct Session {
    cookie: String,
    csrf: String,
}

struct Api {
    client: reqwest::Client,
    base: String,
}

impl Api {
    async fn send(&self, req: reqwest::RequestBuilder, what: &str, expect: StatusCode) -> anyhow::Result<Response> {
        let res = req.send().await.with_context(|| what.to_owned())?;
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.with_context(|| format!("{what}: reading the answer"))?;
        if status != expect {
            bail!("{what} answered {status}: {}", text.chars().take(300).collect::<String>());
        }
        let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::Null) };
        Ok(Response { headers, body })
    }

    fn with(&self, req: reqwest::RequestBuilder, session: &Session) -> reqwest::RequestBuilder {
        req.header(header::COOKIE, format!("{SESSION_COOKIE}={}", session.cookie)).header("x-csrf-token", &session.csrf)
    }

    /// Signs in without a second step: the session.
    async fn sign_in(&self, login: &str, password: &str) -> anyhow::Result<Session> {
        let req = self
            .client
            .post(format!("{}{LOGIN_PATH}", self.base))
            .json(&json!({ "login": login, "password": password }));
        let res = self.send(req, &format!("signing in {login}"), StatusCode::OK).await?;
        if res.body["mfa_required"] == true {
            bail!(
                "{login} already has two-step verification on: use new users (another --prefix, or a fresh database)"
            );
        }
        res.session().with_context(|| format!("signing in {login}"))
    }

    /// The CSRF token of an existing session (`GET /api/v1/me` sends it).
    async fn csrf_of(&self, cookie: &str) -> anyhow::Result<Session> {
        let req = self
            .client
            .get(format!("{}/api/v1/me", self.base))
            .header(header::COOKIE, format!("{SESSION_COOKIE}={cookie}"));
        let res = self.send(req, "reading the administrator's session", StatusCode::OK).await?;
        let csrf = res.header("x-csrf-token").context("the administrator's session has no CSRF token")?;
        Ok(Session { cookie: cookie.to_owned(), csrf })
    }

    /// Creates a user with `password` through the administration API.
    async fn create(&self, admin: &Session, login: &str, i: usize, password: &str) -> anyhow::Result<()> {
        let body = json!({ "user_id": login, "first_name": "Bench", "last_name": format!("User {i}") });
        let req = self.with(self.client.post(format!("{}/api/v1/users", self.base)), admin).json(&body);
        let created = self.send(req, &format!("creating {login}"), StatusCode::CREATED).await?;
        let id = created.body["id"].as_str().with_context(|| format!("creating {login}: no id"))?;
        let url = format!("{}/api/v1/users/{id}/password-reset", self.base);
        let req = self.with(self.client.post(url), admin).json(&json!({ "mode": "temporary" }));
        let reset = self.send(req, &format!("giving {login} a temporary password"), StatusCode::OK).await?;
        let temporary = reset.body["temporary_password"].as_str().context("no temporary password")?.to_owned();
        let session = self.sign_in(login, &temporary).await?;
        let req = self
            .with(self.client.put(format!("{}/api/v1/me/password", self.base)), &session)
            .json(&json!({ "current_password": temporary, "new_password": password }));
        self.send(req, &format!("changing the password of {login}"), StatusCode::NO_CONTENT).await?;
        Ok(())
    }

    /// Signs a user in and turns two-step verification on: their secret and the
    /// time step of the code that confirmed it.
    async fn enrol(&self, login: &str, password: &str) -> anyhow::Result<Enrolled> {
        let session = self.sign_in(login, password).await?;
        let req = self.with(self.client.post(format!("{}/api/v1/me/mfa/totp", self.base)), &session).json(&json!({}));
        let started = self.send(req, &format!("starting the enrolment of {login}"), StatusCode::OK).await?;
        let base32: String =
            started.body["secret"].as_str().context("no secret")?.chars().filter(|c| !c.is_whitespace()).collect();
        let secret = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, &base32)
            .with_context(|| format!("the secret of {login} is not base32"))?;
        let step = unix_now() / STEP_SECONDS;
        let req = self
            .with(self.client.post(format!("{}/api/v1/me/mfa/totp/confirm", self.base)), &session)
            .json(&json!({ "code": code(&secret, step) }));
        self.send(req, &format!("confirming the enrolment of {login}"), StatusCode::OK).await?;
        Ok(Enrolled { login: login.to_owned(), secret, last_step: AtomicU64::new(step) })
    }
}

struct Response {
    headers: header::HeaderMap,
    body: Value,
}

impl Response {
    fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
    }

    fn session(&self) -> anyhow::Result<Session> {
        let cookie = self
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok()?.split(';').next()?.split_once('='))
            .find(|(name, value)| *name == SESSION_COOKIE && !value.is_empty())
            .map(|(_, value)| value.to_owned())
            .context("no session cookie")?;
        let csrf = self.header("x-csrf-token").context("no CSRF token")?;
        Ok(Session { cookie, csrf })
    }
}

/// Readies `users` users named from `prefix` for two-step sign-ins (creating
/// them first with [`Source::Create`]), `concurrency` at a time.
pub async fn set_up(
    base: &str,
    prefix: &str,
    users: usize,
    password: &str,
    source: Source,
    concurrency: usize,
) -> anyhow::Result<Setup> {
    let started = Instant::now();
    let api = Arc::new(Api { client: crate::load::client()?, base: base.to_owned() });
    let admin = match &source {
        Source::Existing => None,
        Source::Create { admin_cookie } => Some(Arc::new(api.csrf_of(admin_cookie).await?)),
    };
    let next = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..concurrency.min(users))
        .map(|_| {
            let (api, admin, next, prefix, password) =
                (api.clone(), admin.clone(), next.clone(), prefix.to_owned(), password.to_owned());
            tokio::spawn(async move {
                let mut done = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= users {
                        return anyhow::Ok(done);
                    }
                    let login = login_of(&prefix, i);
                    if let Some(admin) = &admin {
                        api.create(admin, &login, i, &password).await?;
                    }
                    done.push((i, api.enrol(&login, &password).await?));
                }
            })
        })
        .collect();
    let mut enrolled = Vec::with_capacity(users);
    for worker in workers {
        enrolled.extend(worker.await.context("a set-up worker panicked")??);
    }
    enrolled.sort_unstable_by_key(|(i, _)| *i);
    let seconds = started.elapsed().as_secs_f64();
    // A code is accepted once per step: the users enrolled in the last step may
    // sign in from the next one. Waiting for it (at most 30 s) lets the storm
    // start with every user free.
    let last = enrolled.iter().map(|(_, e)| e.last_step.load(Ordering::Relaxed)).max().unwrap_or(0);
    let waiting = Instant::now();
    while unix_now() / STEP_SECONDS <= last {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let two_step = TwoStep {
        target: Target::new(base, LOGIN_PATH),
        password: password.to_owned(),
        users: enrolled.into_iter().map(|(_, e)| e).collect(),
        next: AtomicUsize::new(0),
        waits: AtomicU64::new(0),
        second_steps: Mutex::new(Vec::new()),
    };
    Ok(Setup { two_step, seconds, waited: waiting.elapsed().as_secs_f64() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_rfc_6238() {
        // RFC 6238, appendix B: SHA-1, T = 59 s, 8 digits 94287082; 6 digits are its last six.
        let secret = b"12345678901234567890";
        assert_eq!(code(secret, 59 / STEP_SECONDS), "287082");
        assert_eq!(code(secret, 1_111_111_109 / STEP_SECONDS), "081804");
    }

    #[test]
    fn users_are_numbered_in_order() {
        assert_eq!(login_of("bench-mfa-", 7), "bench-mfa-000007");
        assert!(login_of("p", 10) > login_of("p", 9));
    }

    #[tokio::test]
    async fn a_user_is_not_taken_twice_in_one_time_step() {
        let step = unix_now() / STEP_SECONDS;
        let user = |login: &str, last: u64| Enrolled {
            login: login.into(),
            secret: vec![1; 20],
            last_step: AtomicU64::new(last),
        };
        let two_step = TwoStep {
            target: Target::new("http://127.0.0.1:1", LOGIN_PATH),
            password: String::new(),
            users: vec![user("a", step - 1), user("b", NEVER), user("c", step)],
            next: AtomicUsize::new(0),
            waits: AtomicU64::new(0),
            second_steps: Mutex::new(Vec::new()),
        };
        let (a, _) = two_step.take().await;
        let (b, _) = two_step.take().await;
        assert_eq!((a.login.as_str(), b.login.as_str()), ("a", "b"));
        assert_eq!(two_step.waits.load(Ordering::Relaxed), 0);
        assert!(a.last_step.load(Ordering::Relaxed) >= step);
    }
}
