//! A fresh database per test: a SQLite file in a temporary directory, or a
//! PostgreSQL database created for the test and dropped after it (also when
//! the test fails).
//!
//! Migrating a PostgreSQL database takes most of a test's time, so each test
//! database is a copy of a migrated template, `usher_test_conformance_tpl_<hash
//! of the migrations>_<day>`, made by the first test that finds none and kept
//! for later runs; templates of other migrations are dropped after a day. (The
//! `usher_test_` names are those `scripts/test` drops when an interrupted run
//! left them.)

use std::{future::Future, sync::Arc, time::SystemTime};

use sqlx::{AssertSqlSafe, Connection, PgConnection};
use usher_core::Store;
use usher_store::{postgres::PostgresStore, sqlite::SqliteStore};
use uuid::Uuid;

/// The engine a test runs on.
#[derive(Debug, Clone, Copy)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Runs `test` on a store of `engine` on a database of its own.
pub async fn on<F, Fut>(engine: Engine, test: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    match engine {
        Engine::Sqlite => {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let url = format!("sqlite://{}", dir.path().join("usher.db").display());
            let store = SqliteStore::connect(&url).await.expect("open a fresh SQLite database");
            finish(tokio::spawn(test(Arc::new(store))).await);
        }
        Engine::Postgres => {
            let server = Server::from_env();
            let (mut admin, name) =
                (server.admin().await, format!("usher_test_conformance_{}", Uuid::new_v4().simple()));
            server.create_from_template(&mut admin, &name).await;
            let outcome = match PostgresStore::connect(&server.url(&name)).await {
                Ok(store) => tokio::spawn(test(Arc::new(store))).await,
                Err(e) => tokio::spawn(async move { panic!("open the PostgreSQL test database: {e}") }).await,
            };
            execute(&mut admin, &format!("DROP DATABASE {name} WITH (FORCE)")).await;
            finish(outcome);
        }
    }
}

/// Passes a failed test's panic on, once its database is cleaned up.
fn finish(outcome: Result<(), tokio::task::JoinError>) {
    if let Err(e) = outcome {
        match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("the test did not finish: {e}"),
        }
    }
}

/// The PostgreSQL server of `USHER_TEST_POSTGRES_URL`.
struct Server {
    /// The URL of the database test databases are created and dropped through.
    admin_url: String,
}

/// Makers of templates (in any test process) take turns on this advisory lock.
const TEMPLATE_LOCK: i64 = 0x7573_6865_725f_7470;

impl Server {
    fn from_env() -> Self {
        let admin_url = std::env::var("USHER_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        assert!(admin_url.rsplit_once('/').is_some(), "USHER_TEST_POSTGRES_URL ends with /DATABASE");
        Self { admin_url }
    }

    async fn admin(&self) -> PgConnection {
        PgConnection::connect(&self.admin_url).await.unwrap_or_else(|e| {
            panic!(
                "the PostgreSQL conformance tests need the server of USHER_TEST_POSTGRES_URL ({}): {e}",
                self.admin_url
            )
        })
    }

    fn url(&self, database: &str) -> String {
        let (server, _) = self.admin_url.rsplit_once('/').expect("checked in from_env");
        format!("{server}/{database}")
    }

    /// Creates `name` as a copy of the template, making the template first if needed.
    async fn create_from_template(&self, admin: &mut PgConnection, name: &str) {
        let mut template = self.template(admin).await;
        for attempt in 0..3 {
            let created = sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name} TEMPLATE {template}")))
                .execute(&mut *admin)
                .await;
            match created {
                Ok(_) => return,
                // Another run dropped an old template meanwhile: make it again.
                Err(e) if attempt < 2 => {
                    eprintln!("copying {template} failed ({e}); making the template again");
                    template = self.template(admin).await;
                }
                Err(e) => panic!("create the test database from {template}: {e}"),
            }
        }
    }

    /// The name of the migrated template of this build's migrations, made now
    /// when it does not exist.
    async fn template(&self, admin: &mut PgConnection) -> String {
        let prefix = format!("usher_test_conformance_tpl_{:016x}_", migrations_hash());
        if let Some(name) = database_like(admin, &prefix).await {
            return name;
        }
        let lock = sqlx::query("SELECT pg_advisory_lock($1)").bind(TEMPLATE_LOCK).execute(&mut *admin).await;
        lock.expect("take the template lock");
        let name = match database_like(admin, &prefix).await {
            Some(name) => name,
            None => self.make_template(admin, &prefix).await,
        };
        let unlock = sqlx::query("SELECT pg_advisory_unlock($1)").bind(TEMPLATE_LOCK).execute(&mut *admin).await;
        unlock.expect("release the template lock");
        name
    }

    /// Migrates a new database, closes it to connections and publishes it
    /// under its template name; drops templates of other migrations older
    /// than a day.
    async fn make_template(&self, admin: &mut PgConnection, prefix: &str) -> String {
        let today = days_since_epoch();
        let name = format!("{prefix}{today}");
        let building = format!("{name}_building");
        execute(admin, &format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)")).await;
        execute(admin, &format!("CREATE DATABASE {building}")).await;
        let store = PostgresStore::connect(&self.url(&building)).await.expect("migrate the template database");
        drop(store);
        execute(admin, &format!("ALTER DATABASE {building} WITH ALLOW_CONNECTIONS false")).await;
        // The dropped store's connections close in the background: end them now.
        let end = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1";
        sqlx::query(end).bind(&building).execute(&mut *admin).await.expect("end the template's connections");
        execute(admin, &format!("ALTER DATABASE {building} RENAME TO {name}")).await;

        let templates: Vec<String> = sqlx::query_scalar(
            "SELECT datname FROM pg_database WHERE datname LIKE 'usher\\_test\\_conformance\\_tpl\\_%'",
        )
        .fetch_all(&mut *admin)
        .await
        .expect("list the templates");
        for stale in templates.iter().filter(|t| !t.starts_with(prefix)) {
            let day = stale.trim_end_matches("_building").rsplit('_').next().and_then(|d| d.parse::<u64>().ok());
            if day.is_none_or(|day| day + 1 < today) {
                execute(admin, &format!("DROP DATABASE IF EXISTS {stale} WITH (FORCE)")).await;
            }
        }
        name
    }
}

/// The database whose name starts with `prefix`, if any.
async fn database_like(admin: &mut PgConnection, prefix: &str) -> Option<String> {
    sqlx::query_scalar(
        "SELECT datname FROM pg_database WHERE starts_with(datname, $1) AND datname NOT LIKE '%\\_building' \
         ORDER BY datname DESC LIMIT 1",
    )
    .bind(prefix)
    .fetch_optional(admin)
    .await
    .expect("look for the template")
}

/// Runs one statement made of names this harness chose.
async fn execute(admin: &mut PgConnection, sql: &str) {
    sqlx::query(AssertSqlSafe(sql.to_owned())).execute(admin).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// A fingerprint (FNV-1a) of the PostgreSQL migrations: their names and text.
fn migrations_hash() -> u64 {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.expect("a migration").path())
        .collect();
    files.sort();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for path in files {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let text = std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        for byte in name.bytes().chain([0]).chain(text) {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

fn days_since_epoch() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs() / 86_400).unwrap_or(0)
}
