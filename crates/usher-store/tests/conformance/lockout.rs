//! Failed sign-ins counted per key, and the locks they set.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use usher_core::store::{FailureCount, LoginTicket, Store, ThrottleRow};

use crate::support::*;

/// An attempt on `key` at `now`: a 15-minute window, a 15-minute lock.
pub fn count(key: &str, now: DateTime<Utc>, threshold: u32) -> FailureCount<'_> {
    FailureCount { key, now, window_cutoff: now - minutes(15), threshold, lock_until: now + minutes(15) }
}

conformance!(
    attempts_count_until_a_key_locks,
    windows_and_locks_run_out,
    attempts_are_given_back_and_cleared,
    purges_remove_expired_tickets_and_idle_counts,
);

/// Each attempt counts on every key before the check; a key locks when
/// its count reaches its threshold, and then nothing is counted.
async fn attempts_count_until_a_key_locks(store: Arc<dyn Store>) {
    let s = &*store;
    let t = now();
    let keys = |at| [count("account:alice", at, 3), count("address:192.0.2.1", at, 10)];
    let first = s.take_attempt(&keys(t)).await.unwrap();
    assert!(first.admitted);
    assert_eq!(
        first.rows,
        [
            ThrottleRow {
                key: "account:alice".into(),
                failures: 1,
                window_start: t,
                last_failure_at: t,
                locked_until: None
            },
            ThrottleRow {
                key: "address:192.0.2.1".into(),
                failures: 1,
                window_start: t,
                last_failure_at: t,
                locked_until: None
            },
        ],
        "rows in the order of the keys"
    );
    assert_eq!(s.throttle_row("account:alice").await.unwrap(), Some(first.rows[0].clone()));

    let t2 = t + minutes(1);
    assert!(s.take_attempt(&keys(t2)).await.unwrap().admitted);
    let third = s.take_attempt(&keys(t2)).await.unwrap();
    assert!(third.admitted, "the attempt that reaches the threshold is checked");
    let locked = ThrottleRow {
        key: "account:alice".into(),
        failures: 3,
        window_start: t,
        last_failure_at: t2,
        locked_until: Some(t2 + minutes(15)),
    };
    assert_eq!(third.rows[0], locked);
    assert_eq!(third.rows[1].failures, 3);

    let refused = s.take_attempt(&keys(t2 + minutes(1))).await.unwrap();
    assert!(!refused.admitted, "a locked key admits nothing");
    assert_eq!(refused.rows.len(), 2);
    assert_eq!(s.throttle_row("account:alice").await.unwrap(), Some(locked), "nothing counted");
    assert_eq!(s.throttle_row("address:192.0.2.1").await.unwrap().unwrap().failures, 3, "not on the other key either");
    assert_eq!(s.throttle_row("account:bob").await.unwrap(), None);
}

/// A count starts again when its window is over, and after its lock runs out.
async fn windows_and_locks_run_out(store: Arc<dyn Store>) {
    let s = &*store;
    let t = now();
    for _ in 0..2 {
        assert!(s.take_attempt(&[count("window", t, 3)]).await.unwrap().admitted);
    }
    let later = t + minutes(20);
    let fresh = s.take_attempt(&[count("window", later, 3)]).await.unwrap();
    assert_eq!(
        fresh.rows[0],
        ThrottleRow {
            key: "window".into(),
            failures: 1,
            window_start: later,
            last_failure_at: later,
            locked_until: None
        }
    );

    for _ in 0..3 {
        assert!(s.take_attempt(&[count("lock", t, 3)]).await.unwrap().admitted);
    }
    assert!(!s.take_attempt(&[count("lock", t + minutes(14), 3)]).await.unwrap().admitted, "still locked");
    let after = t + minutes(16);
    let unlocked = s.take_attempt(&[count("lock", after, 3)]).await.unwrap();
    assert!(unlocked.admitted);
    assert_eq!(
        unlocked.rows[0],
        ThrottleRow {
            key: "lock".into(),
            failures: 1,
            window_start: after,
            last_failure_at: after,
            locked_until: None
        }
    );
}

/// A successful attempt is given back (lifting a lock below the
/// threshold), or its account key forgotten; counts can be cleared.
async fn attempts_are_given_back_and_cleared(store: Arc<dyn Store>) {
    let s = &*store;
    let t = now();
    let keys = [count("account:alice", t, 3), count("address:192.0.2.1", t, 10)];
    for _ in 0..3 {
        assert!(s.take_attempt(&keys).await.unwrap().admitted);
    }
    s.give_back_attempt(None, &keys[..1]).await.unwrap();
    let row = s.throttle_row("account:alice").await.unwrap().unwrap();
    assert_eq!((row.failures, row.locked_until), (2, None), "below the threshold, unlocked");
    assert_eq!(s.throttle_row("address:192.0.2.1").await.unwrap().unwrap().failures, 3);
    assert!(s.take_attempt(&keys).await.unwrap().admitted);

    s.give_back_attempt(Some("account:alice"), &keys[1..]).await.unwrap();
    assert_eq!(s.throttle_row("account:alice").await.unwrap(), None, "forgotten");
    assert_eq!(s.throttle_row("address:192.0.2.1").await.unwrap().unwrap().failures, 3);

    assert!(s.clear_throttle("address:192.0.2.1").await.unwrap());
    assert!(!s.clear_throttle("address:192.0.2.1").await.unwrap(), "nothing left");
    assert_eq!(s.throttle_row("address:192.0.2.1").await.unwrap(), None);
}

/// A purge deletes expired sign-in tickets and idle counts without a running lock.
async fn purges_remove_expired_tickets_and_idle_counts(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let alice = user(s, org.id, "alice").await;
    let t = now();
    let old = t - hours(2);
    let lapsed = LoginTicket {
        digest: b"lapsed".to_vec(),
        user: alice.id,
        created_at: old,
        expires_at: old + minutes(5),
        attempts: 0,
    };
    let live = LoginTicket {
        digest: b"live".to_vec(),
        user: alice.id,
        created_at: t,
        expires_at: t + minutes(5),
        attempts: 0,
    };
    s.insert_login_ticket(&lapsed).await.unwrap();
    s.insert_login_ticket(&live).await.unwrap();
    assert!(s.login_ticket(b"lapsed", old).await.unwrap().is_some());

    s.take_attempt(&[count("idle", old, 5)]).await.unwrap();
    let long_lock = FailureCount { lock_until: t + hours(1), ..count("locked", old, 1) };
    s.take_attempt(&[long_lock]).await.unwrap();
    s.take_attempt(&[count("recent", t, 5)]).await.unwrap();

    assert_eq!(s.purge_lockout(t, t - hours(1)).await.unwrap(), 2, "the lapsed ticket and the idle count");
    assert!(s.login_ticket(b"lapsed", old).await.unwrap().is_none());
    assert!(s.login_ticket(b"live", t).await.unwrap().is_some());
    assert_eq!(s.throttle_row("idle").await.unwrap(), None);
    assert!(s.throttle_row("locked").await.unwrap().is_some(), "a running lock stays");
    assert!(s.throttle_row("recent").await.unwrap().is_some());
    assert_eq!(s.purge_lockout(t, t - hours(1)).await.unwrap(), 0);
}
