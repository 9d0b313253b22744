//! When the database fails under a running server: a full disk (or a database
//! turned read-only) answers 503 with `Retry-After` and recovers at once;
//! losing every database connection costs no failed read.

use reqwest::StatusCode;
use serde_json::json;
use sqlx::Connection;

use crate::helpers::{ADMIN_PASSWORD, Client, Res, TestApp, engine, postgres_admin_url};

/// A connection to the PostgreSQL server (not the test database, which the
/// tests turn read-only), as the superuser.
async fn pg_admin() -> sqlx::PgConnection {
    sqlx::PgConnection::connect(&postgres_admin_url()).await.expect("connect to the test PostgreSQL server")
}

fn pg_database_name(app: &TestApp) -> String {
    app.db_url.rsplit('/').next().unwrap_or_default().to_owned()
}

/// Ends every session on the test database, as a restart or failover would.
async fn cut_connections(conn: &mut sqlx::PgConnection, app: &TestApp) {
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind(pg_database_name(app))
    .execute(conn)
    .await
    .expect("terminate backends");
}

/// Makes the database refuse writes that need space, or lifts that. SQLite:
/// the file may not grow (`max_page_count` on every connection: SQLite then
/// answers `SQLITE_FULL`, as on a full disk). PostgreSQL: the database turns
/// read-only with its connections cut, as after a failover to a standby.
async fn refuse_writes(app: &TestApp, refuse: bool) {
    match &app.sqlite {
        Some(store) => store.limit_pages(refuse.then_some(1)).await.expect("limit the database size"),
        None => {
            let mut conn = pg_admin().await;
            let setting =
                if refuse { "SET default_transaction_read_only = on" } else { "RESET default_transaction_read_only" };
            let sql = format!("ALTER DATABASE {} {setting}", pg_database_name(app));
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await.expect("alter database");
            cut_connections(&mut conn, app).await;
        }
    }
}

fn assert_unavailable(res: &Res, what: &str) {
    assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE, "{what}: {}", res.body);
    assert_eq!(res.content_type(), "application/problem+json", "{what}");
    assert_eq!(res.body["type"], "urn:usher:problem:unavailable", "{what}: {}", res.body);
    let retry: u64 = res.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry > 0, "{what}: Retry-After {retry}");
}

async fn create_user(admin: &mut Client, user_id: &str) -> Res {
    let long = "Marmalade".repeat(10);
    admin.post("/api/v1/users", json!({ "user_id": user_id, "first_name": long, "last_name": long })).await
}

#[tokio::test]
async fn full_disk_answers_503_with_retry_after_and_writes_recover_at_once() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let mut anonymous = app.client();
    assert_eq!(anonymous.get("/readyz").await.status, StatusCode::OK);

    refuse_writes(&app, true).await;
    // Write until the database is full: every refusal is a 503, never a 500.
    let mut refused = 0;
    for i in 0..400 {
        let res = create_user(&mut admin, &format!("filler{i}")).await;
        if res.status == StatusCode::CREATED {
            assert_eq!(refused, 0, "a write after the database was full succeeded");
            continue;
        }
        assert_unavailable(&res, "creating a user on a full database");
        refused += 1;
        if refused == 20 {
            break;
        }
    }
    assert_eq!(refused, 20, "the database never filled up");
    // Other writes may still fit in the pages the database has; none fails otherwise.
    for i in 0..10 {
        let mut client = app.client();
        let res = client.post("/api/v1/auth/login", json!({ "login": "admin", "password": ADMIN_PASSWORD })).await;
        if res.status != StatusCode::OK {
            assert_unavailable(&res, "signing in on a full database");
        }
        let res = admin.patch("/api/v1/me", json!({ "first_name": format!("Ada{i}").repeat(10) })).await;
        if res.status != StatusCode::OK {
            assert_unavailable(&res, "changing a profile on a full database");
        }
    }
    let ready = anonymous.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE, "{}", ready.body);
    assert!(ready.headers.contains_key("retry-after"));
    assert_eq!(anonymous.get("/healthz").await.status, StatusCode::OK, "the process is alive");
    assert_eq!(admin.get("/api/v1/users").await.status, StatusCode::OK, "reads still work");

    // Space is back: the very next writes and sign-ins succeed, on every pooled connection.
    refuse_writes(&app, false).await;
    for i in 0..24 {
        let res = create_user(&mut admin, &format!("after{i}")).await;
        assert_eq!(res.status, StatusCode::CREATED, "write {i} once space is back: {}", res.body);
        let mut client = app.client();
        let res = client.post("/api/v1/auth/login", json!({ "login": "admin", "password": ADMIN_PASSWORD })).await;
        assert_eq!(res.status, StatusCode::OK, "sign-in {i} once space is back: {}", res.body);
    }
    assert_eq!(anonymous.get("/readyz").await.status, StatusCode::OK);
}

#[tokio::test]
async fn reads_survive_losing_every_database_connection() {
    if engine() != "postgres" {
        return; // an embedded SQLite file has no connection to lose
    }
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let token = admin.post("/api/v1/me/tokens", json!({ "description": "ci", "scopes": ["read"] })).await.body["token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let http = reqwest::Client::new();
    let bearer_get = |path: &str| {
        let req = http.get(format!("{}{path}", app.base)).bearer_auth(&token);
        async move { req.send().await.expect("request").status() }
    };
    // `n` token-authenticated reads of `path` at once.
    let concurrent = |path: &str, n: usize| {
        let mut reads = tokio::task::JoinSet::new();
        for _ in 0..n {
            let req = http.get(format!("{}{path}", app.base)).bearer_auth(&token);
            reads.spawn(async move { req.send().await.expect("request").status() });
        }
        reads.join_all()
    };
    let mut conn = pg_admin().await;
    for round in 0..3 {
        // Open several pooled connections (main pool and token lookups), then cut them all.
        for status in concurrent("/api/v1/users", 12).await {
            assert_eq!(status, StatusCode::OK);
        }
        cut_connections(&mut conn, &app).await;
        assert_eq!(bearer_get("/api/v1/me").await, StatusCode::OK, "round {round}: token read after the cut");
        assert_eq!(admin.get("/api/v1/users").await.status, StatusCode::OK, "round {round}: session read");
        for status in concurrent("/api/v1/users", 12).await {
            assert_eq!(status, StatusCode::OK, "round {round}: concurrent reads after the cut");
        }
        let res = create_user(&mut admin, &format!("after{round}")).await;
        assert_eq!(res.status, StatusCode::CREATED, "round {round}: a write after the cut: {}", res.body);
    }
}
