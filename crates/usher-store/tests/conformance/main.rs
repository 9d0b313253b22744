//! The store conformance suite: one set of tests over the `Store` trait, each
//! run on SQLite and on PostgreSQL, so the two engines keep one behaviour.
//!
//! Every test body is written once, as an `async fn` taking the store, and
//! listed in its module's [`conformance!`], which stamps it into a `sqlite` and
//! a `postgres` test on an empty database of its own (see [`harness`]).
//! PostgreSQL comes from `USHER_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`); when it cannot be reached the
//! PostgreSQL tests fail, they are never skipped.
//!
//! [`coverage`] fails when a method of a store trait is called nowhere here, so
//! a new store method cannot land without its test.

/// Stamps each named test body (an `async fn(Arc<dyn Store>)` of the module)
/// into a `sqlite` and a `postgres` test, in a module of its name:
/// `users::passwords_keep_their_history::postgres`. A body left out of the
/// list is dead code, which the lints refuse.
macro_rules! conformance {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                crate::harness::on(crate::harness::Engine::Sqlite, super::$name).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                crate::harness::on(crate::harness::Engine::Postgres, super::$name).await;
            }
        }
    )+};
}

mod harness;
mod support;

mod access;
mod apps;
mod audit;
mod cascades;
mod concurrency;
mod coverage;
mod cursors;
mod directory;
mod import;
mod invitations;
mod lockout;
mod mail;
mod organizations;
mod sessions;
mod settings;
mod store;
mod tokens;
mod two_step;
mod users;
