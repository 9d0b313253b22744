//! Usher's [`Store`](usher_core::store::Store) on SQLite (embedded, WAL): this
//! engine's own parts. The SQL both engines share is in `../sql/`, compiled here
//! against SQLite's types. What differs from PostgreSQL, each in one place:
//!
//! - id lists travel as one JSON array of hex strings, read with `json_each`
//!   and `unhex` ([`in_ids!`], [`id_rows!`], [`id_list`]);
//! - locking: every writing transaction starts with `BEGIN IMMEDIATE`
//!   ([`SqliteStore::write`]), which takes the database's one write lock up
//!   front (waiting up to the busy timeout, where a deferred transaction that
//!   read first would fail at once with `SQLITE_BUSY`), so writers are already
//!   serialized and [`lock`] has nothing to do;
//! - directory search through FTS5 trigram indexes (`search.rs`);
//! - the family of an audit action, the text before its first dot
//!   ([`action_family!`], with `instr`);
//! - bulk load: import batches bound as one JSON array each (`bulk.rs`);
//! - keeping the pool sound (`health.rs`).

use std::{str::FromStr, time::Duration};

use sqlx::{
    Sqlite, Transaction,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow, SqliteSynchronous},
};
use usher_core::{conflict::constraint, store::StoreResult};
use uuid::Uuid;

/// The SQLite store. Cheap to clone (a pool handle).
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    page_limit: health::PageLimit,
}

type Db = SqliteStore;
type DbRow = SqliteRow;
type Engine = Sqlite;

impl SqliteStore {
    /// Opens (creating if needed) the database at `url` (`sqlite://path`) and
    /// applies pending migrations.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(backend)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        // A file on this machine cannot hang up: skip sqlx's ping before every
        // use, a round trip through the connection's worker thread per query.
        let page_limit = health::PageLimit::default();
        let limit = page_limit.clone();
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .test_before_acquire(false)
            .after_connect(move |conn, _| {
                let limit = limit.clone();
                Box::pin(async move { limit.apply(conn).await })
            })
            .after_release(|conn, meta| Box::pin(health::release_sound(conn, meta)))
            .connect_with(options)
            .await
            .map_err(backend)?;
        let store = Self { pool, page_limit };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies the migrations this build knows and the database lacks.
    pub async fn migrate(&self) -> StoreResult<()> {
        sqlx::migrate!("./migrations/sqlite").run(&self.pool).await.map_err(backend)
    }

    /// The pool, for tests that read the database directly.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// A writing transaction, holding the database's write lock from its start.
    async fn write(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(map_err)
    }

    /// Runs a read once: a file does not hang up.
    async fn read<T, F, Fut>(&self, run: F) -> Result<T, sqlx::Error>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, sqlx::Error>>,
    {
        run().await
    }

    /// Where bearer-token lookups run: the one pool.
    fn lookups(&self) -> &SqlitePool {
        &self.pool
    }
}

/// Nothing to do: `BEGIN IMMEDIATE` already made this the only writer.
async fn lock(_: &mut Transaction<'_, Sqlite>, _: Lock, _: Uuid) -> StoreResult<()> {
    Ok(())
}

/// Nothing to do: in WAL mode with `synchronous = NORMAL`, no commit waits for the disk.
async fn relax_durability(_: &mut Transaction<'_, Sqlite>) -> StoreResult<()> {
    Ok(())
}

/// The family of an audit event's action, its first word, written as the
/// expression index `audit_events_family` is (the planner uses the index only
/// for this very expression).
macro_rules! action_family {
    () => {
        "substr(action, 1, instr(action || '.', '.') - 1)"
    };
}

/// `<column> IN <the ids bound at $p>`, the ids bound with [`id_list`].
macro_rules! in_ids {
    ($p:literal) => {
        concat!("IN (SELECT unhex(value) FROM json_each(", $p, "))")
    };
}

/// The ids bound at `$p` as a table `ids (id)`, to insert from.
macro_rules! id_rows {
    ($p:literal) => {
        concat!("(SELECT unhex(value) AS id FROM json_each(", $p, ")) ids")
    };
}

/// Row locks of a `SELECT` that other writers skip: none, writers are serialized.
macro_rules! skip_locked {
    ($($of:literal)?) => {
        ""
    };
}

/// Ids (or digests) as the JSON array of hex strings [`in_ids!`] reads.
fn id_list<T: AsRef<[u8]>>(items: impl IntoIterator<Item = T>) -> String {
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    serde_json::Value::Array(items.into_iter().map(|i| serde_json::Value::String(hex(i.as_ref()))).collect())
        .to_string()
}

/// The uniqueness rules by the words SQLite's message names them with (the
/// table and columns), and the rest by the whole message, for the log.
const RULES: [(&str, &str); 5] = [
    ("invitations.email_key", constraint::INVITATION_PENDING),
    ("groups.name_key", constraint::GROUP_NAME),
    ("apps.name_key", constraint::APP_NAME),
    ("email_key", constraint::EMAIL),
    ("user_id_key", constraint::USER_ID),
];

fn broken_rule(e: &dyn sqlx::error::DatabaseError) -> &str {
    e.message()
}

mod bulk;
mod health;
#[cfg(test)]
mod plans;
mod search;

include!("../sql/shared.rs");

use rows::{Lock, backend, map_err};
