//! A fresh database per test: a SQLite file in a temporary directory, or a
//! PostgreSQL database created for the test and dropped after it (also when
//! the test fails).

use std::{future::Future, sync::Arc};

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

/// The PostgreSQL database test databases are created from and dropped through.
fn postgres_admin_url() -> String {
    std::env::var("USHER_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
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
            let admin_url = postgres_admin_url();
            let mut admin = PgConnection::connect(&admin_url).await.unwrap_or_else(|e| {
                panic!("the PostgreSQL conformance tests need a server at USHER_TEST_POSTGRES_URL ({admin_url}): {e}")
            });
            let name = format!("usher_conformance_{}", Uuid::new_v4().simple());
            sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut admin)
                .await
                .expect("create the test database");
            let (server, _) = admin_url.rsplit_once('/').expect("USHER_TEST_POSTGRES_URL ends with /DATABASE");
            let url = format!("{server}/{name}");
            let outcome = match PostgresStore::connect(&url).await {
                Ok(store) => tokio::spawn(test(Arc::new(store))).await,
                Err(e) => tokio::spawn(async move { panic!("open the PostgreSQL test database: {e}") }).await,
            };
            sqlx::query(AssertSqlSafe(format!("DROP DATABASE {name} WITH (FORCE)")))
                .execute(&mut admin)
                .await
                .expect("drop the test database");
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
