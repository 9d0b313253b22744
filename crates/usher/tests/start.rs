//! `usher serve` refuses to start on a database it cannot write (where every
//! sign-in would fail), and its start-up errors name the database.

use std::{
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

const BIN: &str = env!("CARGO_BIN_EXE_usher");

/// The uid and gid of `nobody`, which the test runs the server as when it runs
/// as root (root writes any file whatever its permissions).
const NOBODY: u32 = 65534;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs `usher serve` and waits for it to exit (a server that starts is killed
/// after a while, and the test fails on its exit status).
fn serve(args: &[&str], as_user: Option<u32>) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("USHER_DATABASE_URL")
        .env_remove("USHER_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(id) = as_user {
        use std::os::unix::process::CommandExt;
        cmd.uid(id).gid(id);
    }
    let mut child = cmd.spawn().expect("usher serve starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().expect("wait for usher").is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    child.wait_with_output().expect("usher output")
}

/// A database in use: migrated, with an administrator (so a start writes nothing).
fn set_up(args: &[&str]) {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .args(["admin", "create", "--user-id", "root", "--email", "root@example.org", "--password-stdin"])
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("USHER_DATABASE_URL")
        .env_remove("USHER_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("usher admin create runs");
    child.stdin.take().unwrap().write_all(b"correct horse battery staple\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn serve_refuses_a_read_only_sqlite_database_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.to_str().unwrap();
    set_up(&["--data-dir", data_arg]);
    let db = data.join("usher.db");
    // The database file becomes read-only for the server, its folder stays
    // writable (SQLite then opens the file read-only and every write fails).
    // As root, the server runs as `nobody`, who owns the folder but not the file.
    let as_user = if std::os::unix::fs::chown(&data, Some(NOBODY), Some(NOBODY)).is_ok() {
        std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        for entry in std::fs::read_dir(&data).unwrap() {
            let path = entry.unwrap().path();
            if path != db {
                std::os::unix::fs::chown(&path, Some(NOBODY), Some(NOBODY)).unwrap();
            }
        }
        Some(NOBODY)
    } else {
        std::fs::set_permissions(&db, std::os::unix::fs::PermissionsExt::from_mode(0o444)).unwrap();
        None
    };
    let out = serve(&["--data-dir", data_arg], as_user);
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "a server on a read-only database must not start: {stderr}");
    assert!(stderr.contains(&db.display().to_string()), "the error names the file: {stderr}");
    assert!(stderr.contains("does not accept writes"), "{stderr}");
}

#[test]
fn an_sqlite_database_that_cannot_be_opened_is_named() {
    let dir = tempfile::tempdir().unwrap();
    // A folder where the database file should be.
    let db = dir.path().join("usher.db");
    std::fs::create_dir(&db).unwrap();
    let url = format!("sqlite://{}", db.display());
    let out = serve(&["--database-url", &url], None);
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains(&format!("opening the SQLite database {}", db.display())), "{stderr}");
}

#[tokio::test]
async fn serve_refuses_a_postgres_role_that_may_only_read_and_names_the_database() {
    if std::env::var("USHER_TEST_DATABASE").as_deref() != Ok("postgres") {
        return; // needs the test PostgreSQL server
    }
    use sqlx::Connection;
    let admin_url =
        std::env::var("USHER_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let (server, _) = admin_url.rsplit_once('/').expect("USHER_TEST_POSTGRES_URL ends with /DATABASE");
    let name = format!("usher_cli_{}", std::process::id());
    let reader = format!("{name}_reader");
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.expect("connect to the test PostgreSQL server");
    for sql in [
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        format!("DROP ROLE IF EXISTS {reader}"),
        format!("CREATE DATABASE {name}"),
        format!("CREATE ROLE {reader} LOGIN"),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut admin).await.expect("set up");
    }
    let db_url = format!("{server}/{name}");
    set_up(&["--database-url", &db_url]);
    let mut db = sqlx::PgConnection::connect(&db_url).await.expect("connect to the new database");
    for sql in [
        // Enough to find the schema up to date (sqlx creates its table "if not exists").
        format!("GRANT USAGE, CREATE ON SCHEMA public TO {reader}"),
        format!("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {reader}"),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut db).await.expect("grant");
    }
    db.close().await.ok();
    let reader_url = db_url.replacen("postgres://postgres@", &format!("postgres://{reader}@"), 1);
    assert_ne!(reader_url, db_url, "USHER_TEST_POSTGRES_URL must sign in as postgres");

    let out = tokio::task::spawn_blocking(move || serve(&["--database-url", &reader_url], None)).await.unwrap();
    let stderr = text(&out.stderr);
    for sql in [format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"), format!("DROP ROLE IF EXISTS {reader}")] {
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut admin).await.ok();
    }
    assert!(!out.status.success(), "a server whose role may only read must not start: {stderr}");
    assert!(stderr.contains(&format!("the PostgreSQL database {name}")), "the error names the database: {stderr}");
    assert!(stderr.contains("does not accept writes"), "{stderr}");
}
