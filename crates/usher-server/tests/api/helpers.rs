//! The test harness: a real server on port 0 with a fresh database, and a typed
//! client that keeps its cookies and CSRF token like a browser would.

use std::{path::PathBuf, sync::Arc};

use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use usher_core::{RequestContext, TestClock, Usher, accounts::NewAccount, store::User};
use usher_domain::{Email, LoginName, Role, ShortText};
use usher_server::{Config, Overrides};

#[allow(unused_imports)] // `ReceivedMail` is there for tests that name the type.
pub use crate::mailbox::{MailBox, ReceivedMail};

/// Which engine the suite runs on, from `USHER_TEST_DATABASE` (`sqlite` or `postgres`).
pub fn engine() -> String {
    std::env::var("USHER_TEST_DATABASE").unwrap_or_else(|_| "sqlite".into())
}

/// The PostgreSQL server used to create per-test databases.
pub fn postgres_admin_url() -> String {
    std::env::var("USHER_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A fresh, empty database: a temporary SQLite file or a new PostgreSQL database.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_name: Option<String>,
}

impl TestDb {
    pub async fn new() -> Self {
        if engine() == "postgres" {
            use sqlx::Connection;
            let name = format!("usher_test_{}", uuid::Uuid::new_v4().simple());
            let admin = postgres_admin_url();
            let mut conn = sqlx::PgConnection::connect(&admin).await.expect("connect to the test PostgreSQL server");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await
                .expect("create test database");
            let url = match admin.rsplit_once('/') {
                Some((server, _)) => format!("{server}/{name}"),
                None => panic!("USHER_TEST_POSTGRES_URL must end with /DATABASE"),
            };
            Self { url, _dir: None, pg_name: Some(name) }
        } else {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}", dir.path().join("usher.db").display());
            Self { url, _dir: Some(dir), pg_name: None }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else { return };
        let admin = postgres_admin_url();
        // Dropping runs outside the test's runtime, which is shutting down.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            rt.block_on(async {
                use sqlx::Connection;
                let mut conn = sqlx::PgConnection::connect(&admin).await.ok()?;
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                    .execute(&mut conn)
                    .await
                    .ok()
            })
        })
        .join();
    }
}

/// A running server on a fresh database.
pub struct TestApp {
    pub base: String,
    pub setup_link: Option<String>,
    pub usher: Usher,
    /// The server's clock: tests move it instead of rewriting stored times or
    /// waiting (it runs with the real time otherwise).
    pub clock: Arc<TestClock>,
    pub db_url: String,
    /// The SQLite store the server runs on (`None` on PostgreSQL), for tests
    /// that change how the database behaves under it (e.g. a full disk).
    pub sqlite: Option<usher_store::sqlite::SqliteStore>,
    /// The SMTP server this app delivers its email to.
    pub mail: MailBox,
    _db: TestDb,
    _shutdown: oneshot::Sender<()>,
}

pub const ADMIN_PASSWORD: &str = "correct horse battery staple";
pub const USER_PASSWORD: &str = "Velvet-Otter-Marmalade-42";

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(&[]).await
    }

    /// Spawns with extra `USHER_*` settings (they win over the defaults here,
    /// e.g. another `USHER_SMTP_URL`).
    pub async fn spawn_with(extra_env: &[(&str, &str)]) -> Self {
        let db = TestDb::new().await;
        let mail = MailBox::start();
        let mut env = vec![
            ("USHER_DATABASE_URL".to_string(), db.url.clone()),
            ("USHER_LISTEN".to_string(), "127.0.0.1:0".to_string()),
            ("USHER_SMTP_URL".to_string(), mail.url()),
        ];
        env.extend(extra_env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let (config, _) = Config::load(None, env, Overrides::default()).expect("config");
        let sqlite = if engine() == "postgres" {
            None
        } else {
            Some(usher_store::sqlite::SqliteStore::connect(&db.url).await.expect("open the test database"))
        };
        let clock = Arc::new(TestClock::new());
        let mut server = usher_server::Server::builder(config).clock(clock.clone());
        if let Some(store) = &sqlite {
            server = server.store(Arc::new(store.clone()));
        }
        let server = server.build().await.expect("server starts");
        let base = format!("http://{}", server.addr);
        let setup_link = server.setup_link.clone();
        let usher = server.state.usher.clone();
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(server.run_until(async move {
            let _ = rx.await;
        }));
        Self { base, setup_link, usher, clock, db_url: db.url.clone(), sqlite, mail, _db: db, _shutdown: tx }
    }

    /// Another node of this deployment: a server on the same database and
    /// clock, built from `config`.
    pub async fn node(&self, config: Config) -> usher_server::Server {
        usher_server::Server::builder(config).clock(self.clock.clone()).build().await.expect("another node starts")
    }

    /// A client with no session.
    pub fn client(&self) -> Client {
        Client::new(&self.base)
    }

    /// Creates a user directly through the services.
    pub async fn create_user(&self, user_id: &str, email: Option<&str>, password: &str, roles: &[Role]) -> User {
        let account = NewAccount {
            user_id: LoginName::parse(user_id).unwrap(),
            email: email.map(|e| Email::parse(e).unwrap()),
            first_name: ShortText::parse("first_name", "Test").unwrap(),
            last_name: ShortText::parse("last_name", user_id).unwrap(),
            roles: roles.to_vec(),
            password: Some(password.to_owned()),
        };
        let org = self.usher.organization(None).await.unwrap().unwrap();
        self.usher.create_user(&RequestContext::default(), None, org.id, account).await.expect("create user")
    }

    pub async fn admin(&self) -> (User, Client) {
        let user = self.create_user("admin", Some("admin@example.org"), ADMIN_PASSWORD, &[Role::Administrator]).await;
        let client = self.signed_in("admin", ADMIN_PASSWORD).await;
        (user, client)
    }

    pub async fn user(&self, user_id: &str) -> (User, Client) {
        let user =
            self.create_user(user_id, Some(&format!("{user_id}@example.org")), USER_PASSWORD, &[Role::User]).await;
        let client = self.signed_in(user_id, USER_PASSWORD).await;
        (user, client)
    }

    pub async fn signed_in(&self, login: &str, password: &str) -> Client {
        self.sign_in(self.client(), login, password).await
    }

    /// Signs `client` in through the API (its session also opens the web pages).
    pub async fn sign_in(&self, mut client: Client, login: &str, password: &str) -> Client {
        let res = client.post("/api/v1/auth/login", json!({ "login": login, "password": password })).await;
        assert_eq!(res.status, StatusCode::OK, "sign-in of {login}: {}", res.body);
        client
    }
}

impl TestApp {
    /// Calls the API with a bearer token.
    pub async fn bearer(&self, method: Method, path: &str, token: &str, body: Option<Value>) -> Res {
        let mut req = reqwest::Client::new().request(method, format!("{}{path}", self.base)).bearer_auth(token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        Client::new(&self.base).read(res).await
    }
}

/// A response read whole.
#[derive(Debug)]
pub struct Res {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Res {
    /// The `code`s of the problem's field errors.
    pub fn error_codes(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| a.iter().map(|e| e["code"].as_str().unwrap_or("").to_owned()).collect())
            .unwrap_or_default()
    }

    pub fn content_type(&self) -> &str {
        self.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("")
    }
}

/// An HTTP client that keeps cookies and sends the CSRF token on changes.
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub csrf: Option<String>,
}

impl Client {
    pub fn new(base: &str) -> Self {
        Self::with_redirects(base, reqwest::redirect::Policy::default())
    }

    /// A client that reports redirects instead of following them, to see
    /// where a web page sends its visitor (e.g. to sign in).
    pub fn not_following(base: &str) -> Self {
        Self::with_redirects(base, reqwest::redirect::Policy::none())
    }

    fn with_redirects(base: &str, policy: reqwest::redirect::Policy) -> Self {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(policy)
            .user_agent("usher-tests/1.0")
            .build()
            .unwrap();
        Self { http, base: base.to_owned(), csrf: None }
    }

    pub async fn send(&mut self, method: Method, path: &str, body: Option<Value>) -> Res {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(csrf) = &self.csrf {
            req = req.header("x-csrf-token", csrf);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.expect("request");
        self.read(res).await
    }

    pub async fn read(&mut self, res: reqwest::Response) -> Res {
        let status = res.status();
        let headers = res.headers().clone();
        if let Some(csrf) = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()) {
            self.csrf = Some(csrf.to_owned());
        }
        let text = res.text().await.unwrap_or_default();
        let body =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        Res { status, headers, body }
    }

    pub async fn get(&mut self, path: &str) -> Res {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&mut self, path: &str, body: Value) -> Res {
        self.send(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&mut self, path: &str, body: Value) -> Res {
        self.send(Method::PATCH, path, Some(body)).await
    }

    pub async fn put(&mut self, path: &str, body: Value) -> Res {
        self.send(Method::PUT, path, Some(body)).await
    }

    /// Posts an HTML form, as a browser does.
    pub async fn form(&mut self, path: &str, fields: &[(String, String)]) -> Res {
        let res = self.http.post(format!("{}{path}", self.base)).form(fields).send().await.expect("request");
        self.read(res).await
    }

    /// A raw request with a body and content type of the test's choosing.
    pub async fn raw(&mut self, method: Method, path: &str, content_type: &str, body: Vec<u8>) -> Res {
        let mut req =
            self.http.request(method, format!("{}{path}", self.base)).header("content-type", content_type).body(body);
        if let Some(csrf) = &self.csrf {
            req = req.header("x-csrf-token", csrf);
        }
        let res = req.send().await.expect("request");
        self.read(res).await
    }
}

/// The value of a hidden input in a page.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {name} in {html}")) + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// Where test artifacts (screenshots) go.
pub fn artifacts_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("artifacts");
    std::fs::create_dir_all(&dir).ok();
    dir
}
