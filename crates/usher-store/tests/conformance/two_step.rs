//! Two-step verification: a user's TOTP authenticator and recovery codes.

use std::sync::Arc;

use usher_core::{Store, conflict::constraint, store::TotpRecord};

use crate::support::*;

fn codes(prefix: &str, n: usize) -> Vec<Vec<u8>> {
    (0..n).map(|i| format!("{prefix}-{i}").into_bytes()).collect()
}

conformance!(
    authenticators_are_enrolled_then_confirmed,
    time_steps_are_accepted_once_in_order,
    recovery_codes_work_once,
);

/// An authenticator waits for its first code, is confirmed once with new
/// recovery codes, and while confirmed no other may be added.
async fn authenticators_are_enrolled_then_confirmed(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let alice = user(s, org.id, "alice").await;
    let bob = user(s, org.id, "bob").await;
    assert_eq!(s.totp(alice.id).await.unwrap(), None);

    let t = now();
    s.put_pending_totp(alice.id, b"first secret", t).await.unwrap();
    let pending = TotpRecord {
        user: alice.id,
        secret: b"first secret".to_vec(),
        created_at: t,
        confirmed_at: None,
        last_step: None,
        recovery_codes_left: 0,
    };
    assert_eq!(s.totp(alice.id).await.unwrap(), Some(pending));
    s.put_pending_totp(alice.id, b"second secret", t + minutes(1)).await.unwrap();
    assert_eq!(s.totp(alice.id).await.unwrap().unwrap().secret, b"second secret", "a pending one is replaced");

    assert!(s.confirm_totp(alice.id, 1000, &codes("alice", 3), t + minutes(2)).await.unwrap());
    let confirmed = TotpRecord {
        user: alice.id,
        secret: b"second secret".to_vec(),
        created_at: t + minutes(1),
        confirmed_at: Some(t + minutes(2)),
        last_step: Some(1000),
        recovery_codes_left: 3,
    };
    assert_eq!(s.totp(alice.id).await.unwrap(), Some(confirmed.clone()));
    assert!(!s.confirm_totp(alice.id, 2000, &codes("again", 2), t + minutes(3)).await.unwrap(), "nothing pending");
    assert_eq!(conflict(s.put_pending_totp(alice.id, b"third secret", t).await), constraint::MFA_ENABLED);
    assert_eq!(s.totp(alice.id).await.unwrap(), Some(confirmed), "refused changes change nothing");

    assert!(!s.confirm_totp(bob.id, 1000, &codes("bob", 2), t).await.unwrap());
    assert_eq!(s.totp(bob.id).await.unwrap(), None);

    assert!(s.delete_totp(alice.id).await.unwrap());
    assert_eq!(s.totp(alice.id).await.unwrap(), None);
    assert!(!s.delete_totp(alice.id).await.unwrap(), "nothing left to delete");
    s.put_pending_totp(alice.id, b"fresh", t).await.unwrap();
    assert_eq!(s.totp(alice.id).await.unwrap().unwrap().confirmed_at, None);
}

/// A code's time step is accepted only when newer than the last accepted
/// one, and only for a confirmed authenticator.
async fn time_steps_are_accepted_once_in_order(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let alice = user(s, org.id, "alice").await;
    let bob = user(s, org.id, "bob").await;
    assert!(!s.use_totp_step(alice.id, 5).await.unwrap(), "no authenticator");
    s.put_pending_totp(alice.id, b"secret", now()).await.unwrap();
    assert!(!s.use_totp_step(alice.id, 5).await.unwrap(), "a pending authenticator takes no codes");

    assert!(s.confirm_totp(alice.id, 1000, &[], now()).await.unwrap());
    assert!(!s.use_totp_step(alice.id, 1000).await.unwrap(), "the confirming code's step is used");
    assert!(!s.use_totp_step(alice.id, 999).await.unwrap());
    assert!(s.use_totp_step(alice.id, 1001).await.unwrap());
    assert!(!s.use_totp_step(alice.id, 1001).await.unwrap(), "a code works once");
    assert!(s.use_totp_step(alice.id, 1005).await.unwrap());
    assert!(!s.use_totp_step(alice.id, 1003).await.unwrap(), "older steps are refused");
    assert_eq!(s.totp(alice.id).await.unwrap().unwrap().last_step, Some(1005));
    assert!(!s.use_totp_step(bob.id, 2000).await.unwrap());
}

/// A recovery code works once; replacing them voids the old ones; turning
/// two-step off removes them.
async fn recovery_codes_work_once(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let alice = user(s, org.id, "alice").await;
    let bob = user(s, org.id, "bob").await;
    s.put_pending_totp(alice.id, b"secret", now()).await.unwrap();
    let first = codes("first", 2);
    assert!(s.confirm_totp(alice.id, 1, &first, now()).await.unwrap());
    s.put_pending_totp(bob.id, b"bob secret", now()).await.unwrap();
    assert!(s.confirm_totp(bob.id, 1, &first, now()).await.unwrap());

    assert!(s.use_recovery_code(alice.id, &first[0], now()).await.unwrap());
    assert!(!s.use_recovery_code(alice.id, &first[0], now()).await.unwrap(), "a code works once");
    assert!(!s.use_recovery_code(alice.id, b"unknown", now()).await.unwrap());
    assert_eq!(s.totp(alice.id).await.unwrap().unwrap().recovery_codes_left, 1);
    assert_eq!(s.totp(bob.id).await.unwrap().unwrap().recovery_codes_left, 2, "codes are per user");
    assert!(s.use_recovery_code(bob.id, &first[0], now()).await.unwrap());

    let second = codes("second", 3);
    s.replace_recovery_codes(alice.id, &second, now()).await.unwrap();
    assert_eq!(s.totp(alice.id).await.unwrap().unwrap().recovery_codes_left, 3);
    assert!(!s.use_recovery_code(alice.id, &first[1], now()).await.unwrap(), "replaced codes are void");
    assert!(s.use_recovery_code(alice.id, &second[2], now()).await.unwrap());
    assert_eq!(s.totp(alice.id).await.unwrap().unwrap().recovery_codes_left, 2);

    assert!(s.delete_totp(alice.id).await.unwrap());
    assert!(!s.use_recovery_code(alice.id, &second[0], now()).await.unwrap(), "no codes without two-step");
    assert!(s.use_recovery_code(bob.id, &first[1], now()).await.unwrap(), "bob keeps his");
}
