//! Failed sign-ins counted per key, and the locks they set. An upsert or a
//! guarded UPDATE checks and changes a count atomically; the counts are a
//! defence, not a record, so their transactions relax durability (PostgreSQL).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;
use usher_core::store::{Attempt, FailureCount, LockoutStore, StoreResult, ThrottleRow};

use super::{Db, DbRow, map_err, relax_durability, rows, rows::run};

/// One attempt on a key: $1 key, $2 now, $3 threshold, $4 lock until, $5 window
/// cutoff. A running lock keeps the row as it is but answers a count past the
/// threshold (the caller then rolls back); an old lock or window starts afresh.
const TAKE_ATTEMPT: &str = "INSERT INTO login_throttle (key, failures, window_start, last_failure_at, locked_until) \
     VALUES ($1, 1, $2, $2, CASE WHEN $3 <= 1 THEN $4 END) \
     ON CONFLICT (key) DO UPDATE SET \
       failures = CASE WHEN login_throttle.locked_until > $2 THEN \
           (CASE WHEN login_throttle.failures > $3 THEN login_throttle.failures ELSE $3 END) + 1 \
         WHEN login_throttle.locked_until IS NOT NULL OR login_throttle.window_start <= $5 THEN 1 \
         ELSE login_throttle.failures + 1 END, \
       window_start = CASE WHEN login_throttle.locked_until > $2 THEN login_throttle.window_start \
         WHEN login_throttle.locked_until IS NOT NULL OR login_throttle.window_start <= $5 THEN $2 \
         ELSE login_throttle.window_start END, \
       last_failure_at = $2, \
       locked_until = CASE WHEN login_throttle.locked_until > $2 THEN login_throttle.locked_until \
         WHEN (CASE WHEN login_throttle.locked_until IS NOT NULL OR login_throttle.window_start <= $5 THEN 1 \
           ELSE login_throttle.failures + 1 END) >= $3 THEN $4 \
         ELSE NULL END \
     RETURNING key, failures, window_start, last_failure_at, locked_until";

/// Gives one failure back: $1 key, $2 threshold.
const GIVE_BACK: &str = "UPDATE login_throttle SET failures = CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END, \
     locked_until = CASE WHEN failures - 1 < $2 THEN NULL ELSE locked_until END WHERE key = $1";

const ONE: &str =
    "SELECT key, failures, window_start, last_failure_at, locked_until FROM login_throttle WHERE key = $1";
const DELETE: &str = "DELETE FROM login_throttle WHERE key = $1";

/// $1 idle before, $2 now.
const PURGE: &str =
    "DELETE FROM login_throttle WHERE last_failure_at <= $1 AND (locked_until IS NULL OR locked_until <= $2)";

fn throttle(row: &DbRow) -> rows::Read<ThrottleRow> {
    Ok(ThrottleRow {
        key: row.try_get("key")?,
        failures: u32::try_from(row.try_get::<i32, _>("failures")?).unwrap_or(0),
        window_start: row.try_get("window_start")?,
        last_failure_at: row.try_get("last_failure_at")?,
        locked_until: row.try_get("locked_until")?,
    })
}

#[async_trait]
impl LockoutStore for Db {
    async fn take_attempt(&self, keys: &[FailureCount<'_>]) -> StoreResult<Attempt> {
        // One transaction: each upsert locks its row until the end (SQLite: the
        // write lock is taken first), so attempts on the same key, from any node,
        // are counted one after the other.
        let mut tx = self.write().await?;
        relax_durability(&mut tx).await?;
        let mut counted = Vec::with_capacity(keys.len());
        for k in keys {
            let query = sqlx::query(TAKE_ATTEMPT).bind(k.key).bind(k.now).bind(i64::from(k.threshold));
            let row = query.bind(k.lock_until).bind(k.window_cutoff).fetch_one(&mut *tx).await.map_err(map_err)?;
            counted.push(throttle(&row).map_err(map_err)?);
        }
        let admitted = counted.iter().zip(keys).all(|(row, k)| row.failures <= k.threshold);
        let end = if admitted { tx.commit().await } else { tx.rollback().await };
        end.map_err(map_err)?;
        Ok(Attempt { admitted, rows: counted })
    }

    async fn give_back_attempt(&self, forget: Option<&str>, keys: &[FailureCount<'_>]) -> StoreResult<()> {
        let mut tx = self.write().await?;
        relax_durability(&mut tx).await?;
        if let Some(key) = forget {
            run(&mut *tx, sqlx::query(DELETE).bind(key)).await?;
        }
        for k in keys {
            run(&mut *tx, sqlx::query(GIVE_BACK).bind(k.key).bind(i64::from(k.threshold))).await?;
        }
        tx.commit().await.map_err(map_err)
    }

    async fn throttle_row(&self, key: &str) -> StoreResult<Option<ThrottleRow>> {
        self.one(|| sqlx::query(ONE).bind(key), throttle).await
    }

    async fn clear_throttle(&self, key: &str) -> StoreResult<bool> {
        Ok(run(&self.pool, sqlx::query(DELETE).bind(key)).await? > 0)
    }

    async fn purge_lockout(&self, now: DateTime<Utc>, idle_before: DateTime<Utc>) -> StoreResult<u64> {
        let tickets = sqlx::query("DELETE FROM login_tickets WHERE expires_at <= $1").bind(now);
        Ok(run(&self.pool, tickets).await? + run(&self.pool, sqlx::query(PURGE).bind(idle_before).bind(now)).await?)
    }
}
