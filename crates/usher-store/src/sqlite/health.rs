//! Keeping pooled connections sound when the disk fills or the database turns
//! read-only, telling such states apart from bugs, and checking that the
//! database takes writes.

use std::sync::{
    Arc,
    atomic::{AtomicU32, Ordering},
};

use sqlx::{Connection, SqliteConnection, pool::PoolConnectionMetadata};
use usher_core::store::StoreResult;

use super::SqliteStore;

/// SQLite's primary result codes (the low byte of an extended code) that say
/// "not now" rather than "wrong": the disk is full, the file is read-only,
/// another writer held the lock past the busy timeout.
const SQLITE_BUSY: i32 = 5;
const SQLITE_LOCKED: i32 = 6;
const SQLITE_READONLY: i32 = 8;
const SQLITE_FULL: i32 = 13;

/// Whether an engine error means the database cannot serve writes for now
/// (worth a 503 and a retry) rather than a bug (a 500).
pub(crate) fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|code| code.parse::<i32>().ok())
            .is_some_and(|code| matches!(code & 0xff, SQLITE_BUSY | SQLITE_LOCKED | SQLITE_READONLY | SQLITE_FULL)),
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) => true,
        _ => false,
    }
}

/// Run when a connection goes back to the pool. A transaction whose statement
/// or `COMMIT` failed on a full disk may already have been rolled back by
/// SQLite itself; sqlx's rollback on drop then fails and leaves the connection
/// counting an open transaction, so every later `BEGIN IMMEDIATE` on it would
/// fail. Such a connection is closed (the pool opens a fresh one) instead of
/// being handed out again. Costs nothing for connections outside a transaction.
pub(crate) async fn release_sound(conn: &mut SqliteConnection, _: PoolConnectionMetadata) -> sqlx::Result<bool> {
    if !conn.is_in_transaction() {
        return Ok(true);
    }
    // The rollback queued by a dropped transaction runs before this ping (the
    // connection's worker takes commands in order).
    conn.ping().await?;
    if conn.is_in_transaction() {
        tracing::warn!("closing a database connection left inside a transaction");
        return Ok(false);
    }
    Ok(true)
}

/// The largest `max_page_count` SQLite accepts: no limit.
const NO_PAGE_LIMIT: u32 = 4_294_967_294;

/// A cap on the database size in pages shared by every connection of a store:
/// SQLite keeps `max_page_count` per connection, so new connections apply it
/// when they open.
#[derive(Clone, Default)]
pub(crate) struct PageLimit(Arc<AtomicU32>);

impl PageLimit {
    pub(crate) async fn apply(&self, conn: &mut SqliteConnection) -> sqlx::Result<()> {
        let pages = self.0.load(Ordering::Acquire);
        if pages != 0 {
            sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA max_page_count = {pages}"))).execute(conn).await?;
        }
        Ok(())
    }
}

impl SqliteStore {
    /// Caps the database at its current size (`Some`) or lifts the cap
    /// (`None`) on every connection: SQLite then answers writes that need more
    /// space with `SQLITE_FULL`, exactly as on a full disk. For tests of how
    /// Usher behaves on a full disk and recovers once space is back.
    #[doc(hidden)]
    pub async fn limit_pages(&self, pages: Option<u32>) -> StoreResult<()> {
        let pages = pages.unwrap_or(NO_PAGE_LIMIT).max(1);
        self.page_limit.0.store(pages, Ordering::Release);
        // Hold every connection the pool may have, so each gets the new cap.
        let mut held = Vec::new();
        for _ in 0..self.pool.options().get_max_connections() {
            held.push(self.pool.acquire().await.map_err(super::map_err)?);
        }
        for conn in &mut held {
            self.page_limit.apply(conn).await.map_err(super::map_err)?;
        }
        Ok(())
    }

    /// Begins a write, creates a table and fills more pages than the free list
    /// holds (so the file would have to grow), then rolls it all back: nothing
    /// reaches the disk, but a full or read-only database, or one whose write
    /// lock is held past the busy timeout, fails here.
    pub(crate) async fn probe_write(&self) -> StoreResult<()> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(super::map_err)?;
        let free: i64 =
            sqlx::query_scalar("PRAGMA freelist_count").fetch_one(&mut *tx).await.map_err(super::map_err)?;
        let page_size: i64 =
            sqlx::query_scalar("PRAGMA page_size").fetch_one(&mut *tx).await.map_err(super::map_err)?;
        sqlx::query("CREATE TABLE usher_write_probe (pad BLOB)").execute(&mut *tx).await.map_err(super::map_err)?;
        sqlx::query("INSERT INTO usher_write_probe (pad) VALUES (zeroblob(?))")
            .bind((free + 1).saturating_mul(page_size))
            .execute(&mut *tx)
            .await
            .map_err(super::map_err)?;
        tx.rollback().await.map_err(super::map_err)
    }
}
