//! The store as a whole: reachability and the write probe.

use std::sync::Arc;

use usher_core::store::{AuditQuery, Store};

use crate::support::*;

conformance!(ping_and_write_probe_leave_nothing_behind,);

/// A fresh store answers a ping and takes writes; the write probe keeps nothing.
async fn ping_and_write_probe_leave_nothing_behind(store: Arc<dyn Store>) {
    let s = &*store;
    s.ping().await.unwrap();
    s.check_writable().await.unwrap();
    assert_eq!(s.default_organization().await.unwrap(), None, "the probe created no organization");

    let org = organization(s, "acme").await;
    let alice = user(s, org.id, "alice").await;
    for _ in 0..3 {
        s.check_writable().await.unwrap();
        s.ping().await.unwrap();
    }
    assert_eq!(user_ids(&s.users_page(org.id, None, 10).await.unwrap()), ["alice"]);
    assert_user(&reload(s, alice.id).await, &alice);
    let all = AuditQuery { limit: 10, ..AuditQuery::default() };
    assert!(s.audit_events(org.id, &all).await.unwrap().is_empty(), "the probe wrote no audit entry");
}
