//! Surviving lost connections (a restarted or failed-over server, killed
//! backends), telling "not now" apart from bugs, and checking that the
//! database takes writes.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use usher_core::store::StoreResult;

use super::PostgresStore;

/// Whether an engine error means the database cannot serve this for now
/// (worth a 503 and a retry) rather than a bug (a 500).
pub(crate) fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => db.code().is_some_and(|code| unavailable_code(&code)),
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) => true,
        _ => false,
    }
}

/// SQLSTATEs of a database that cannot serve now but may soon: class 53
/// (insufficient resources: 53100 disk full, 53200 out of memory, 53300 too
/// many connections), 25006 (a read-only transaction: a standby, or
/// `default_transaction_read_only`), 57P01–57P03 (the server is shutting down,
/// crashed or starting) and class 08 (connection failures).
pub(crate) fn unavailable_code(code: &str) -> bool {
    code.starts_with("53") || code.starts_with("08") || matches!(code, "25006" | "57P01" | "57P02" | "57P03")
}

/// Whether the connection a statement ran on turned out closed before the
/// statement could run (a killed backend answers its next query with 57P01,
/// then hangs up), so an idempotent read may run again on another one.
pub(crate) fn connection_lost(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) => true,
        sqlx::Error::Database(db) => {
            db.code().is_some_and(|code| code.starts_with("08") || matches!(&*code, "57P01" | "57P02"))
        }
        _ => false,
    }
}

/// When a connection was last found closed. Connections that sat idle in a
/// pool since then were most likely closed by the same event (a restart, a
/// failover, killed backends), so each is pinged once before its next use;
/// the others are not (no round trip on the hot path).
#[derive(Clone)]
pub(crate) struct Losses(Arc<LossClock>);

struct LossClock {
    start: Instant,
    /// Milliseconds after `start`; 0: never.
    last_ms: AtomicU64,
}

impl Default for Losses {
    fn default() -> Self {
        Self(Arc::new(LossClock { start: Instant::now(), last_ms: AtomicU64::new(0) }))
    }
}

impl Losses {
    fn record(&self) {
        let ms = u64::try_from(self.0.start.elapsed().as_millis()).unwrap_or(u64::MAX).max(1);
        self.0.last_ms.store(ms, Ordering::Release);
    }

    /// Whether a connection idle for `idle_for` was already idle at the last loss.
    pub(crate) fn idle_since_loss(&self, idle_for: Duration) -> bool {
        let last = self.0.last_ms.load(Ordering::Acquire);
        last != 0 && self.0.start.elapsed().saturating_sub(Duration::from_millis(last)) < idle_for
    }
}

impl PostgresStore {
    /// Runs an idempotent read; when its connection turns out closed, runs it
    /// once more on another (checked) connection, so losing the server's
    /// connections costs no failed request. Nothing more on success.
    pub(crate) async fn read<T, F, Fut>(&self, run: F) -> Result<T, sqlx::Error>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, sqlx::Error>>,
    {
        match run().await {
            Err(e) if connection_lost(&e) => {
                self.losses.record();
                tracing::info!(error = %e, "database connection lost; reading again on another connection");
                run().await
            }
            done => done,
        }
    }

    /// A write the database refuses for lack of space or rights fails here;
    /// it writes no row (the insert selects none) and takes no lock.
    pub(crate) async fn probe_write(&self) -> StoreResult<()> {
        self.read(|| sqlx::query("INSERT INTO sessions SELECT * FROM sessions WHERE false").execute(&self.pool))
            .await
            .map_err(super::map_err)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_disk_read_only_and_shutdowns_are_unavailable_others_are_not() {
        for code in ["53100", "53200", "53300", "25006", "57P01", "57P03", "08006", "08003"] {
            assert!(unavailable_code(code), "{code}");
        }
        for code in ["23505", "23503", "42P01", "42501", "40001", "22001"] {
            assert!(!unavailable_code(code), "{code}");
        }
    }

    #[test]
    fn only_connections_idle_at_the_last_loss_are_checked() {
        let losses = Losses::default();
        assert!(!losses.idle_since_loss(Duration::from_secs(3600)), "no loss yet");
        losses.record();
        assert!(losses.idle_since_loss(Duration::from_secs(3600)), "idle since before the loss");
        assert!(!losses.idle_since_loss(Duration::ZERO), "used after the loss");
    }
}
