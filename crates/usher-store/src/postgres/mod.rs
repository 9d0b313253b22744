//! Usher's [`Store`](usher_core::store::Store) on PostgreSQL: this engine's own
//! parts. The SQL both engines share is in `../sql/`, compiled here against
//! PostgreSQL's types (uuid, timestamptz, bytea, jsonb). What differs from
//! SQLite, each in one place:
//!
//! - id lists travel as one uuid array (`= ANY`, `unnest`: [`in_ids!`],
//!   [`id_rows!`], [`id_list`]), so a set is read or replaced in one statement
//!   whatever its size;
//! - locking: a transaction that decides on a set first locks its parent row
//!   ([`lock`]: the organization for role changes, the group or app for its
//!   members), and the outbox and reminder passes skip rows another node holds
//!   ([`skip_locked!`]);
//! - directory search through pg_trgm indexes (`search.rs`);
//! - the family of an audit action, the text before its first dot
//!   ([`action_family!`], with `split_part`);
//! - bulk load: column arrays, with the indexes rebuilt after a large import (`bulk.rs`);
//! - bearer-token lookups on their own few connections with a generic plan;
//! - keeping the pool sound when connections are lost (`health.rs`).

use std::time::Duration;

use sqlx::{
    Postgres, Transaction,
    postgres::{PgPool, PgPoolOptions, PgRow},
};
use usher_core::{conflict::constraint, store::StoreResult};
use uuid::Uuid;

/// The PostgreSQL store. Cheap to clone (a pool handle).
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// A few connections for bearer-token lookups only, which run with generic
    /// plans (see [`PostgresStore::connect`]).
    lookups: PgPool,
    losses: health::Losses,
}

type Db = PostgresStore;
type DbRow = PgRow;
type Engine = Postgres;

/// A pooled connection idle longer than this is checked before it is handed out.
const IDLE_PING_AFTER: Duration = Duration::from_secs(30);

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://…`) and applies pending
    /// migrations. Several nodes may start at once: the migrator holds an
    /// advisory lock while it runs.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let losses = health::Losses::default();
        let pool = pool_options(16, &losses).connect(url).await.map_err(backend)?;
        // The token lookup is the hot path of every integration, and batched
        // (`digest = ANY($1)` with a varying number of digests): PostgreSQL
        // would plan each execution anew, which costs more than running it.
        // Its connections keep one generic plan instead.
        let lookups = pool_options(4, &losses)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::Executor::execute(conn, "SET plan_cache_mode = force_generic_plan").await?;
                    Ok(())
                })
            })
            .connect_lazy(url)
            .map_err(backend)?;
        let store = Self { pool, lookups, losses };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies the migrations this build knows and the database lacks.
    pub async fn migrate(&self) -> StoreResult<()> {
        sqlx::migrate!("./migrations/postgres").run(&self.pool).await.map_err(backend)
    }

    /// The pool, for tests that read the database directly.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// A writing transaction.
    async fn write(&self) -> StoreResult<Transaction<'static, Postgres>> {
        self.pool.begin().await.map_err(map_err)
    }

    /// Where bearer-token lookups run: their own connections (see [`PostgresStore::connect`]).
    fn lookups(&self) -> &PgPool {
        &self.lookups
    }
}

/// A pool of at most `max` connections. sqlx pings a pooled connection before
/// every use by default: a second round trip per query. These ping only
/// connections that sat idle a while, or since a connection was found closed.
fn pool_options(max: u32, losses: &health::Losses) -> PgPoolOptions {
    let losses = losses.clone();
    PgPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(10))
        .test_before_acquire(false)
        .before_acquire(move |conn, meta| {
            let suspect = meta.idle_for > IDLE_PING_AFTER || losses.idle_since_loss(meta.idle_for);
            Box::pin(async move {
                if suspect {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
}

/// Locks one row until the transaction ends, so transactions that decide on
/// the same set (an organization's Administrators, a group's members, an
/// app's people) run one after the other and each sees the one before.
async fn lock(tx: &mut Transaction<'_, Postgres>, row: Lock, id: Uuid) -> StoreResult<()> {
    let sql = match row {
        Lock::Organization => "SELECT 1 FROM organizations WHERE id = $1 FOR UPDATE",
        Lock::Group => "SELECT 1 FROM groups WHERE id = $1 FOR UPDATE",
        Lock::App => "SELECT 1 FROM apps WHERE id = $1 FOR UPDATE",
    };
    sqlx::query(sql).bind(id).execute(&mut **tx).await.map_err(map_err)?;
    Ok(())
}

/// The lockout counts are a defence, not a record: their transactions commit
/// without waiting for the WAL to reach the disk (a crash of the database may
/// lose the last fraction of a second of counts), which takes the disk flush
/// off every sign-in step.
async fn relax_durability(tx: &mut Transaction<'_, Postgres>) -> StoreResult<()> {
    sqlx::query("SET LOCAL synchronous_commit TO OFF").execute(&mut **tx).await.map_err(map_err)?;
    Ok(())
}

/// The family of an audit event's action, its first word, written as the
/// expression index `audit_events_family` is (the planner uses the index only
/// for this very expression).
macro_rules! action_family {
    () => {
        "split_part(action, '.', 1)"
    };
}

/// `<column> = ANY(<the ids bound at $p>)`, the ids bound with [`id_list`].
macro_rules! in_ids {
    ($p:literal) => {
        concat!("= ANY(", $p, ")")
    };
}

/// The ids bound at `$p` as a table `ids (id)`, to insert from.
macro_rules! id_rows {
    ($p:literal) => {
        concat!("unnest(", $p, ") AS ids (id)")
    };
}

/// Row locks of a `SELECT` that other nodes' passes skip instead of waiting for.
macro_rules! skip_locked {
    () => {
        " FOR UPDATE SKIP LOCKED"
    };
    ($of:literal) => {
        concat!(" FOR UPDATE OF ", $of, " SKIP LOCKED")
    };
}

/// Ids (or digests) as the array [`in_ids!`] reads.
fn id_list<T>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    items.into_iter().collect()
}

/// The uniqueness rules by (words of) the names PostgreSQL gives them; the
/// rest go on by their own names, for the log.
const RULES: [(&str, &str); 4] = [
    ("groups_org_name_key", constraint::GROUP_NAME),
    ("apps_org_name_key", constraint::APP_NAME),
    ("email", constraint::EMAIL),
    ("user_id", constraint::USER_ID),
];

fn broken_rule(e: &dyn sqlx::error::DatabaseError) -> &str {
    e.constraint().unwrap_or_default()
}

mod bulk;
mod health;
#[cfg(test)]
mod plans;
mod search;

include!("../sql/shared.rs");

use rows::{Lock, backend, map_err};
