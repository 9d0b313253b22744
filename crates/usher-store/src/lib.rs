//! Usher's [`usher_core::store::Store`] on SQLite and on PostgreSQL.
//!
//! Each engine is a module (`sqlite`, `postgres`) with its own migrations
//! (`migrations/<engine>`, native types).

pub mod postgres;
pub mod sqlite;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;
