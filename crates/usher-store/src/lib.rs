//! Usher's [`usher_core::store::Store`] on SQLite and on PostgreSQL.
//!
//! The SQL is written once, in `sql/`; each engine is a module (`sqlite`,
//! `postgres`) that includes those files, so each query is compiled once per
//! engine against its native types, next to what really differs between the
//! engines. Migrations are per engine (`migrations/<engine>`).

// Each file of `sql/` is a module of both engines, on purpose.
#![allow(clippy::duplicate_mod)]

pub mod postgres;
pub mod sqlite;

// The engines `include!` the shared files, which rustfmt does not follow:
// this declaration, never compiled, is how `cargo fmt` reaches them.
#[cfg(any())]
#[path = "sql/shared.rs"]
mod shared_sql_for_rustfmt;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;
