//! An empty database per test: a new SQLite file in a temporary directory, or
//! a PostgreSQL database of this suite emptied for the test.
//!
//! Creating and dropping a PostgreSQL database costs about half a second (the
//! drop waits for a checkpoint), several times what a test does. So PostgreSQL
//! tests run on databases kept between tests and runs,
//! `usher_test_conformance_<hash of the migrations>_<slot>`: a test holds its
//! slot with an advisory lock (so concurrent tests, in any process, never
//! share one), creates the database when the slot has none (the store
//! migrates it), and deletes every row of every table (audit triggers off)
//! before it starts. A test that fails drops its database, so nothing it did
//! reaches the next. Databases of other migrations are dropped when found
//! unused; `scripts/test` drops all `usher_test_` databases before it runs.

use std::{future::Future, sync::Arc};

use sqlx::{AssertSqlSafe, Connection, PgConnection};
use usher_core::Store;
use usher_store::{postgres::PostgresStore, sqlite::SqliteStore};

/// The engine a test runs on.
#[derive(Debug, Clone, Copy)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Runs `test` on a store of `engine` on an empty database of its own.
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
            let mut admin = server.admin().await;
            let slot = server.take_slot(&mut admin).await;
            let outcome = match PostgresStore::connect(&server.url(&slot)).await {
                Ok(store) => tokio::spawn(test(Arc::new(store))).await,
                Err(e) => {
                    let message = format!("open the PostgreSQL test database {slot}: {e}");
                    tokio::spawn(async move { panic!("{message}") }).await
                }
            };
            if outcome.is_err() {
                execute(&mut admin, &format!("DROP DATABASE IF EXISTS {slot} WITH (FORCE)")).await;
            }
            // Closing the admin connection frees the slot.
            drop(admin);
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
    /// The URL of the database through which test databases are made and dropped.
    admin_url: String,
}

/// The databases of this suite: `usher_test_conformance_<hash>_<slot>`.
const PREFIX: &str = "usher_test_conformance_";

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

    /// Locks the first free slot for the life of `admin` and answers its
    /// database, empty: made now, or emptied.
    async fn take_slot(&self, admin: &mut PgConnection) -> String {
        let hash = migrations_hash();
        for slot in 0..64 {
            if !try_lock(admin, hash, slot).await {
                continue;
            }
            let name = format!("{PREFIX}{hash:016x}_{slot}");
            let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                .bind(&name)
                .fetch_one(&mut *admin)
                .await
                .expect("look for the slot's database");
            if exists {
                self.empty(&name).await;
            } else {
                execute(admin, &format!("CREATE DATABASE {name}")).await;
                self.drop_unused_others(admin, hash).await;
            }
            return name;
        }
        panic!("no free PostgreSQL test slot among 64");
    }

    /// Deletes every row of every table but the migrations' own, with
    /// triggers (the append-only audit log's) off, and restarts sequences.
    async fn empty(&self, database: &str) {
        let mut conn = PgConnection::connect(&self.url(database))
            .await
            .unwrap_or_else(|e| panic!("connect to the test database {database}: {e}"));
        let reset = "BEGIN; SET LOCAL session_replication_role = replica; DO $$ DECLARE t record; BEGIN \
             FOR t IN SELECT schemaname, tablename FROM pg_tables \
                 WHERE schemaname NOT IN ('pg_catalog', 'information_schema') AND tablename <> '_sqlx_migrations' \
             LOOP EXECUTE format('DELETE FROM %I.%I', t.schemaname, t.tablename); END LOOP; \
             FOR t IN SELECT schemaname, sequencename FROM pg_sequences \
             LOOP EXECUTE format('ALTER SEQUENCE %I.%I RESTART', t.schemaname, t.sequencename); END LOOP; \
             END $$; COMMIT;";
        sqlx::raw_sql(reset).execute(&mut conn).await.unwrap_or_else(|e| panic!("empty {database}: {e}"));
        conn.close().await.ok();
    }

    /// Drops the databases of other migrations that no test holds.
    async fn drop_unused_others(&self, admin: &mut PgConnection, hash: u64) {
        let names: Vec<String> = sqlx::query_scalar("SELECT datname FROM pg_database WHERE starts_with(datname, $1)")
            .bind(PREFIX)
            .fetch_all(&mut *admin)
            .await
            .expect("list the test databases");
        for name in names {
            let Some((other, slot)) = name[PREFIX.len()..].split_once('_') else { continue };
            let (Ok(other), Ok(slot)) = (u64::from_str_radix(other, 16), slot.parse::<i32>()) else { continue };
            if other != hash && try_lock(admin, other, slot).await {
                execute(admin, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                unlock(admin, other, slot).await;
            }
        }
    }
}

/// The advisory lock of a slot: the migrations' hash (cut to 32 bits) and the slot number.
async fn try_lock(admin: &mut PgConnection, hash: u64, slot: i32) -> bool {
    sqlx::query_scalar("SELECT pg_try_advisory_lock($1, $2)")
        .bind(hash as i32)
        .bind(slot)
        .fetch_one(admin)
        .await
        .expect("try a slot's lock")
}

async fn unlock(admin: &mut PgConnection, hash: u64, slot: i32) {
    let query = sqlx::query("SELECT pg_advisory_unlock($1, $2)").bind(hash as i32).bind(slot);
    query.execute(admin).await.expect("release a slot's lock");
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
