//! What the authorization matrices share (`authz` for the API, `web_authz` for
//! the web pages, `edges` for the two side by side): one caller per column,
//! each signed in once, and fresh users, groups and apps for the paths that
//! name one, made by a separate Administrator so no call depends on another.

use reqwest::StatusCode;
use serde_json::json;
use usher_core::{RequestContext, accounts::NewAccount};
use usher_domain::{Email, LoginName, OrgId, Role, ShortText};
use uuid::Uuid;

use crate::helpers::{ADMIN_PASSWORD, Client, TestApp, USER_PASSWORD, hidden};

/// The callers, in the order of the tables' columns.
pub const WHO: [&str; 6] = ["anonymous", "user", "developer", "user_manager", "administrator", "app_owner"];

/// Who is signed in for each column after the first (anonymous). The App
/// Owner is a User who owns every app the fixtures make.
const LOGINS: [(&str, Role); 5] = [
    ("ursula", Role::User),
    ("devon", Role::Developer),
    ("manon", Role::UserManager),
    ("ada", Role::Administrator),
    ("owen", Role::User),
];

/// One column's caller.
pub struct Caller {
    pub client: Client,
    /// The sign-in form's token, from a sign-in page opened before signing in
    /// (as in another tab): the web's sign-in forms need it.
    pub login_csrf: String,
}

impl Caller {
    /// Opens the sign-in page, then signs in through the API (unless anonymous).
    async fn new(app: &TestApp, column: usize) -> Self {
        let mut client = Client::not_following(&app.base);
        let page = client.get("/login").await;
        assert_eq!(page.status, StatusCode::OK);
        let login_csrf = hidden(page.body.as_str().unwrap_or(""), "csrf_token");
        if column > 0 {
            client = app.sign_in(client, LOGINS[column - 1].0, USER_PASSWORD).await;
        }
        Self { client, login_csrf }
    }
}

/// The callers of every column and the fixtures of one `TestApp`.
pub struct Matrix<'a> {
    pub app: &'a TestApp,
    pub callers: Vec<Caller>,
    pub fx: Fixtures<'a>,
}

impl<'a> Matrix<'a> {
    pub async fn new(app: &'a TestApp) -> Self {
        let org = app.usher.organization(None).await.unwrap().unwrap().id;
        app.create_user("root", Some("root@example.org"), ADMIN_PASSWORD, &[Role::Administrator]).await;
        let root = app.signed_in("root", ADMIN_PASSWORD).await;
        let mut owner = String::new();
        for (login, role) in LOGINS {
            let user = app.create_user(login, Some(&format!("{login}@example.org")), USER_PASSWORD, &[role]).await;
            if login == "owen" {
                owner = user.id.to_string();
            }
        }
        let mut fx = Fixtures { app, root, org, owner, n: 0 };
        fx.owned_app().await;
        let mut callers = Vec::new();
        for column in 0..WHO.len() {
            callers.push(Caller::new(app, column).await);
        }
        Self { app, callers, fx }
    }

    /// Signs column `i` in again, after a call that ended its session.
    pub async fn sign_in_again(&mut self, i: usize) {
        self.callers[i] = Caller::new(self.app, i).await;
    }
}

/// Fresh resources for the paths that name one.
pub struct Fixtures<'a> {
    app: &'a TestApp,
    pub root: Client,
    org: OrgId,
    owner: String,
    n: u32,
}

impl Fixtures<'_> {
    pub fn next(&mut self) -> u32 {
        self.n += 1;
        self.n
    }

    /// A user without a password (no hashing: the matrices make many): id and user ID.
    pub async fn person(&mut self) -> (String, String) {
        let n = self.next();
        let login = format!("target{n}");
        let account = NewAccount {
            user_id: LoginName::parse(&login).unwrap(),
            email: Some(Email::parse(&format!("{login}@example.org")).unwrap()),
            first_name: ShortText::parse("first_name", "Target").unwrap(),
            last_name: ShortText::parse("last_name", &n.to_string()).unwrap(),
            roles: vec![Role::User],
            password: None,
        };
        let user = self.app.usher.create_user(&RequestContext::default(), None, self.org, account).await.unwrap();
        (user.id.to_string(), login)
    }

    pub async fn user(&mut self) -> String {
        self.person().await.0
    }

    pub async fn group(&mut self) -> String {
        let n = self.next();
        let res = self.root.post("/api/v1/groups", json!({ "name": format!("Group {n}") })).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
        res.body["id"].as_str().unwrap().to_owned()
    }

    /// An app owned by the App Owner caller.
    pub async fn owned_app(&mut self) -> String {
        let n = self.next();
        let res = self.root.post("/api/v1/apps", json!({ "name": format!("App {n}"), "owners": [self.owner] })).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
        res.body["id"].as_str().unwrap().to_owned()
    }

    /// The path with real ids for the resources it names, on either edge
    /// (`/api/v1/users/{id}` or `/admin/users/{id}`, and so on).
    pub async fn path(&mut self, template: &str) -> String {
        let mut path = template.to_owned();
        let rest = template.strip_prefix("/api/v1").or_else(|| template.strip_prefix("/admin")).unwrap_or("");
        if rest.starts_with("/users/{id}") {
            path = path.replacen("{id}", &self.user().await, 1);
        } else if rest.starts_with("/groups/{id}") {
            let group = self.group().await;
            if template.contains("{user_id}") {
                let user = self.user().await;
                let res = self.root.post(&format!("/api/v1/groups/{group}/members"), json!({ "user_id": user })).await;
                assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.body);
                path = path.replacen("{user_id}", &user, 1);
            }
            path = path.replacen("{id}", &group, 1);
        } else if rest.starts_with("/apps/{id}") {
            let app = self.owned_app().await;
            if template.contains("{user_id}") {
                // Someone who holds the app role the path names.
                let user = self.user().await;
                let change = if template.contains("/app_owner/") {
                    json!({ "owners": [self.owner, user] })
                } else {
                    json!({ "developers": [user] })
                };
                let res = self.root.patch(&format!("/api/v1/apps/{app}"), change).await;
                assert_eq!(res.status, StatusCode::OK, "{}", res.body);
                path = path.replacen("{user_id}", &user, 1);
            }
            path = path.replacen("{id}", &app, 1);
        }
        // Anything else (token, session and invitation ids, link tokens) need
        // not exist: the check comes before the lookup.
        while let Some(start) = path.find('{') {
            let end = path[start..].find('}').map_or(path.len(), |e| start + e + 1);
            path.replace_range(start..end, &Uuid::now_v7().to_string());
        }
        path
    }
}
