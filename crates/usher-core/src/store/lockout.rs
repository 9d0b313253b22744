//! Failed sign-ins counted per key (an account, a client address), and the
//! locks they set (see [`crate::protection`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreResult;

/// Failed sign-ins counted under one key (an account or a client address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottleRow {
    pub key: String,
    /// Failures since `window_start`.
    pub failures: u32,
    pub window_start: DateTime<Utc>,
    pub last_failure_at: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
}

/// The outcome of [`LockoutStore::take_attempt`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// Whether the attempt may be checked (it was counted); otherwise a key is
    /// locked and nothing was counted.
    pub admitted: bool,
    /// Each key's row as counted (or, when not admitted, as it would have been).
    pub rows: Vec<ThrottleRow>,
}

/// One attempt to count: the key, and the rule that may lock it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureCount<'a> {
    pub key: &'a str,
    pub now: DateTime<Utc>,
    /// Failures at or before this time no longer count (the window restarts).
    pub window_cutoff: DateTime<Utc>,
    /// How many failures in the window lock the key.
    pub threshold: u32,
    /// Until when a lock set by this failure holds.
    pub lock_until: DateTime<Utc>,
}

#[async_trait]
pub trait LockoutStore: Send + Sync {
    /// Takes one attempt on every key (the account and the address) in one
    /// atomic step, *before* the password or code is checked: each count grows by
    /// one (restarting when its window or an old lock is over) and a key locks
    /// when its count reaches its threshold. When a key is locked, or this
    /// attempt would go past its threshold, nothing is counted and the answer is
    /// not admitted. So of any number of concurrent attempts, on any number of
    /// nodes, at most the threshold are ever checked. Rows are returned in the
    /// order of `keys`.
    async fn take_attempt(&self, keys: &[FailureCount<'_>]) -> StoreResult<Attempt>;
    /// Gives back an admitted attempt that succeeded: one less on each key, and
    /// its lock lifted when the count falls below the threshold again; with
    /// `forget`, that key's failures and lock are deleted instead. One
    /// transaction. (The counts are a defence, not a record: on PostgreSQL this
    /// and [`LockoutStore::take_attempt`] commit without waiting for the disk.)
    async fn give_back_attempt(&self, forget: Option<&str>, keys: &[FailureCount<'_>]) -> StoreResult<()>;
    async fn throttle_row(&self, key: &str) -> StoreResult<Option<ThrottleRow>>;
    /// Forgets a key's failures and lock; false when there was nothing.
    async fn clear_throttle(&self, key: &str) -> StoreResult<bool>;
    /// Deletes expired sign-in tickets and the counts with no failure since
    /// `idle_before` and no running lock; returns how many rows went.
    async fn purge_lockout(&self, now: DateTime<Utc>, idle_before: DateTime<Utc>) -> StoreResult<u64>;
}
