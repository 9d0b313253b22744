//! The cost of the lockout check on the sign-in hot path, on SQLite and on
//! PostgreSQL.
//!
//! Every sign-in step (`Usher::login` and, with two-step verification,
//! `Usher::login_second_step`) takes its attempt on the account and address keys
//! before checking the password (`LockoutStore::take_attempt`, one transaction
//! of two upserts) and a successful one gives it back
//! (`LockoutStore::give_back_attempt`). This times that pair of store calls, for
//! keys with no failures (the usual sign-in) and for keys with 3 recent failures
//! each (below the lock threshold), in a table holding 10 000 other keys.
//!
//! SQLite runs on a fresh database in a temporary folder; PostgreSQL on a fresh
//! database `usher_lockout_bench_<random>` created on the server of
//! `$USHER_BENCH_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`)
//! and dropped at the end (skipped when there is no server).
//!
//! `cargo bench -p usher-store --bench lockout` (see BENCHMARKS.md).

use std::{hint::black_box, sync::Arc};

use chrono::{Duration, Utc};
use criterion::Criterion;
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use usher_core::store::{FailureCount, Store};
use usher_store::{postgres::PostgresStore, sqlite::SqliteStore};
use uuid::Uuid;

/// Other keys in the table, so the lookups go through a real index.
const OTHER_KEYS: usize = 10_000;
/// Failures of the "some failures" keys: below the default threshold (5).
const FAILURES: u32 = 3;

fn admin_url() -> String {
    std::env::var("USHER_BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// The fresh PostgreSQL database: dropped when this goes out of scope, even after a panic.
struct FreshDatabase {
    name: String,
    runtime: tokio::runtime::Handle,
}

impl FreshDatabase {
    async fn create(runtime: tokio::runtime::Handle) -> Result<Self, sqlx::Error> {
        let name = format!("usher_lockout_bench_{}", Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&admin_url()).await?;
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await?;
        Ok(Self { name, runtime })
    }

    fn url(&self) -> String {
        let admin = admin_url();
        let server = admin.rsplit_once('/').map_or(admin.as_str(), |(server, _)| server);
        format!("{server}/{}", self.name)
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let dropped = self.runtime.block_on(async {
            let mut admin = PgConnection::connect(&admin_url()).await?;
            sqlx::query(AssertSqlSafe(drop)).execute(&mut admin).await
        });
        if let Err(e) = dropped {
            eprintln!("could not drop the database {}: {e}", self.name);
        }
    }
}

/// The counting rule of `Usher::take_attempt` with the default policy.
fn rule(key: &str) -> FailureCount<'_> {
    let now = Utc::now();
    FailureCount {
        key,
        now,
        window_cutoff: now - Duration::minutes(15),
        threshold: 5,
        lock_until: now + Duration::minutes(15),
    }
}

/// Counts `n` failed attempts of `key` as a failed sign-in does.
async fn fail(store: &dyn Store, key: &str, n: u32) {
    for _ in 0..n {
        let attempt = store.take_attempt(&[rule(key)]).await.expect("count a failure");
        assert!(attempt.admitted);
    }
}

/// Fills the table (then runs `filled`), and times the pair for a clean and a failing account.
fn bench(
    criterion: &mut Criterion,
    runtime: &tokio::runtime::Runtime,
    engine: &str,
    store: Arc<dyn Store>,
    filled: impl FnOnce(),
) {
    runtime.block_on(async {
        for i in 0..OTHER_KEYS {
            let key =
                if i % 2 == 0 { format!("u:{}", Uuid::now_v7()) } else { format!("a:10.{}.{}.1", i / 256, i % 256) };
            fail(&*store, &key, 1).await;
        }
    });
    filled();
    // The keys of `protection::Keys::of_user`: `u:<user id>` and `a:<client address>`.
    let clean = (format!("u:{}", Uuid::now_v7()), "a:127.0.0.1".to_owned());
    let failing = (format!("u:{}", Uuid::now_v7()), "a:192.0.2.7".to_owned());
    runtime.block_on(async {
        fail(&*store, &failing.0, FAILURES).await;
        fail(&*store, &failing.1, FAILURES).await;
        assert!(store.throttle_row(&clean.0).await.unwrap().is_none());
        assert_eq!(store.throttle_row(&failing.0).await.unwrap().map(|r| r.failures), Some(FAILURES));
    });
    let mut group = criterion.benchmark_group(format!("{engine}_lockout_check"));
    for (name, (account, address)) in [("no_failures", &clean), ("3_failures", &failing)] {
        group.bench_function(name, |b| {
            b.to_async(runtime).iter(|| async {
                let keys = [rule(black_box(account)), rule(black_box(address))];
                let attempt = store.take_attempt(&keys).await.expect("take the attempt");
                store.give_back_attempt(None, &keys).await.expect("give it back");
                black_box(attempt)
            })
        });
    }
    group.finish();
}

fn main() {
    // The server runs on tokio's multi-threaded runtime, so does the benchmark.
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let mut criterion = Criterion::default().configure_from_args();

    let dir = std::env::temp_dir().join(format!("usher-lockout-bench-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("create a temporary folder");
    let url = format!("sqlite://{}", dir.join("lockout.db").display());
    let sqlite = runtime.block_on(SqliteStore::connect(&url)).expect("open a fresh SQLite database");
    bench(&mut criterion, &runtime, "sqlite", Arc::new(sqlite.clone()), || ());
    runtime.block_on(sqlite.pool().close());
    let _ = std::fs::remove_dir_all(&dir);

    match runtime.block_on(FreshDatabase::create(runtime.handle().clone())) {
        Ok(database) => {
            let postgres = runtime.block_on(PostgresStore::connect(&database.url())).expect("open the fresh database");
            let analyze = || {
                runtime.block_on(sqlx::query("ANALYZE login_throttle").execute(postgres.pool())).expect("analyze");
            };
            bench(&mut criterion, &runtime, "postgres", Arc::new(postgres.clone()), analyze);
            runtime.block_on(postgres.pool().close());
            drop(database);
        }
        Err(e) => eprintln!("PostgreSQL skipped: no server to create a database on ({}): {e}", admin_url()),
    }
    criterion.final_summary();
}
