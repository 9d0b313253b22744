//! The cost of the lockout check on the sign-in hot path, on SQLite.
//!
//! Every sign-in step (`Usher::login` and, with two-step verification,
//! `Usher::login_second_step`) takes its attempt on the account and address keys
//! before checking the password (`LockoutStore::take_attempt`, one transaction
//! of two upserts) and a successful one gives it back
//! (`LockoutStore::give_back_attempt`). This times that pair of store calls, for
//! keys with no failures (the usual sign-in) and for keys with 3 recent failures
//! each (below the lock threshold), in a table holding 10 000 other keys, on a
//! fresh database in a temporary folder.
//!
//! `cargo bench -p usher-store --bench lockout_sqlite` (see BENCHMARKS.md).

use std::hint::black_box;

use chrono::{Duration, Utc};
use criterion::Criterion;
use usher_core::store::{FailureCount, LockoutStore};
use usher_store::sqlite::SqliteStore;
use uuid::Uuid;

/// Other keys in the table, so the lookups go through a real index.
const OTHER_KEYS: usize = 10_000;
/// Failures of the "some failures" keys: below the default threshold (5).
const FAILURES: u32 = 3;

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
async fn fail(store: &SqliteStore, key: &str, n: u32) {
    for _ in 0..n {
        let attempt = store.take_attempt(&[rule(key)]).await.expect("count a failure");
        assert!(attempt.admitted);
    }
}

fn main() {
    let dir = std::env::temp_dir().join(format!("usher-lockout-bench-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("create a temporary folder");
    // The server runs on tokio's multi-threaded runtime, so does the benchmark.
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let url = format!("sqlite://{}", dir.join("lockout.db").display());
    let store = runtime.block_on(async {
        let store = SqliteStore::connect(&url).await.expect("open a fresh SQLite database");
        for i in 0..OTHER_KEYS {
            let key =
                if i % 2 == 0 { format!("u:{}", Uuid::now_v7()) } else { format!("a:10.{}.{}.1", i / 256, i % 256) };
            fail(&store, &key, 1).await;
        }
        store
    });
    // The keys of `protection::Keys::of_user`: `u:<user id>` and `a:<client address>`.
    let clean = (format!("u:{}", Uuid::now_v7()), "a:127.0.0.1".to_owned());
    let failing = (format!("u:{}", Uuid::now_v7()), "a:192.0.2.7".to_owned());
    runtime.block_on(async {
        fail(&store, &failing.0, FAILURES).await;
        fail(&store, &failing.1, FAILURES).await;
        assert!(store.throttle_row(&clean.0).await.unwrap().is_none());
        assert_eq!(store.throttle_row(&failing.0).await.unwrap().map(|r| r.failures), Some(FAILURES));
    });

    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group("sqlite_lockout_check");
    for (name, (account, address)) in [("no_failures", &clean), ("3_failures", &failing)] {
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter(|| async {
                let keys = [rule(black_box(account)), rule(black_box(address))];
                let attempt = store.take_attempt(&keys).await.expect("take the attempt");
                store.give_back_attempt(None, &keys).await.expect("give it back");
                black_box(attempt)
            })
        });
    }
    group.finish();
    criterion.final_summary();

    runtime.block_on(store.pool().close());
    let _ = std::fs::remove_dir_all(&dir);
}
