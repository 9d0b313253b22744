//! The append-only audit log.

use std::{collections::HashSet, sync::Arc};

use usher_core::store::{AuditEvent, AuditQuery, Store};
use usher_domain::EventId;

use crate::support::*;

fn ids(events: &[AuditEvent]) -> Vec<EventId> {
    events.iter().map(|e| e.id).collect()
}

conformance!(entries_are_newest_first_and_filtered, pages_have_no_gaps_or_repeats, entries_are_append_only,);

/// Entries come back whole, newest first, filtered by action, actor and
/// target (together), one organization at a time.
async fn entries_are_newest_first_and_filtered(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let other = organization(s, "other").await;
    let alice = user(s, org.id, "alice").await;
    let bob = user(s, org.id, "bob").await;
    let mut events = Vec::new();
    for (action, actor, target) in [
        ("user.created", Some(&alice), Some(bob.id.uuid())),
        ("auth.login.succeeded", Some(&alice), None),
        ("user.created", Some(&alice), Some(alice.id.uuid())),
        ("auth.login.succeeded", Some(&bob), None),
        ("user.created", None, Some(alice.id.uuid())),
    ] {
        let entry = event(org.id, action, actor, target);
        s.append_audit(&entry).await.unwrap();
        events.push(entry);
    }
    let stray = event(other.id, "user.created", Some(&alice), Some(bob.id.uuid()));
    s.append_audit(&stray).await.unwrap();

    let all = AuditQuery { limit: 100, ..AuditQuery::default() };
    let newest_first: Vec<AuditEvent> = events.iter().rev().cloned().collect();
    assert_eq!(s.audit_events(org.id, &all).await.unwrap(), newest_first);
    let query = |q: AuditQuery| async move { ids(&s.audit_events(org.id, &q).await.unwrap()) };
    let created = AuditQuery { action: Some("user.created".into()), ..all.clone() };
    assert_eq!(query(created).await, [events[4].id, events[2].id, events[0].id]);
    let by_alice = AuditQuery { actor_id: Some(alice.id), ..all.clone() };
    assert_eq!(query(by_alice).await, [events[2].id, events[1].id, events[0].id]);
    let about_alice = AuditQuery { target_id: Some(alice.id.uuid()), ..all.clone() };
    assert_eq!(query(about_alice).await, [events[4].id, events[2].id]);
    let together = AuditQuery {
        action: Some("user.created".into()),
        actor_id: Some(alice.id),
        target_id: Some(alice.id.uuid()),
        ..all.clone()
    };
    assert_eq!(query(together).await, [events[2].id]);
    let nothing = AuditQuery { action: Some("no.such.action".into()), ..all.clone() };
    assert!(query(nothing).await.is_empty());
    assert_eq!(query(AuditQuery { limit: 2, ..all.clone() }).await, [events[4].id, events[3].id]);
    assert_eq!(s.audit_events(other.id, &all).await.unwrap(), [stray]);
}

/// The `before` cursor pages through the log without gaps or repeats,
/// also under a filter.
async fn pages_have_no_gaps_or_repeats(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let alice = user(s, org.id, "alice").await;
    let mut events = Vec::new();
    for i in 0..23 {
        let action = if i % 3 == 0 { "session.ended" } else { "user.updated" };
        let entry = event(org.id, action, Some(&alice), None);
        s.append_audit(&entry).await.unwrap();
        events.push(entry);
    }
    events.reverse();

    for (filter, want) in [
        (None, ids(&events)),
        (Some("session.ended"), events.iter().filter(|e| e.action == "session.ended").map(|e| e.id).collect()),
    ] {
        let mut seen = Vec::new();
        let mut before = None;
        loop {
            let q = AuditQuery { action: filter.map(str::to_owned), before, limit: 4, ..AuditQuery::default() };
            let page = s.audit_events(org.id, &q).await.unwrap();
            assert!(page.len() <= 4);
            let Some(last) = page.last() else { break };
            before = Some(last.id);
            seen.extend(ids(&page));
        }
        assert_eq!(seen, want, "every entry once, newest first ({filter:?})");
    }
}

/// An entry is never overwritten, and outlives the people it names;
/// `events_about` reads the newest entries of one action about a user.
async fn entries_are_append_only(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let root = admin(s, org.id, "root").await;
    let bob = user(s, org.id, "bob").await;
    let carol = user(s, org.id, "carol").await;
    let mut about_bob = Vec::new();
    for _ in 0..3 {
        let entry = event(org.id, "password.reset_sent", Some(&bob), Some(bob.id.uuid()));
        s.append_audit(&entry).await.unwrap();
        about_bob.push(entry);
    }
    let other_action = event(org.id, "user.updated", Some(&root), Some(bob.id.uuid()));
    let about_carol = event(org.id, "password.reset_sent", Some(&bob), Some(carol.id.uuid()));
    s.append_audit(&other_action).await.unwrap();
    s.append_audit(&about_carol).await.unwrap();

    let tampered = AuditEvent { action: "tampered".into(), details: serde_json::json!({}), ..about_bob[0].clone() };
    assert!(s.append_audit(&tampered).await.is_err(), "an entry's id cannot be written twice");
    let all = AuditQuery { limit: 100, ..AuditQuery::default() };
    let before: Vec<AuditEvent> = s.audit_events(org.id, &all).await.unwrap();
    assert_eq!(before.len(), 5);
    assert!(before.contains(&about_bob[0]), "the first entry is unchanged");

    let newest: Vec<AuditEvent> = about_bob.iter().rev().cloned().collect();
    assert_eq!(s.events_about(bob.id, "password.reset_sent", 10).await.unwrap(), newest);
    assert_eq!(s.events_about(bob.id, "password.reset_sent", 2).await.unwrap(), newest[..2]);
    assert_eq!(s.events_about(bob.id, "user.updated", 10).await.unwrap(), [other_action]);
    assert!(s.events_about(root.id, "password.reset_sent", 10).await.unwrap().is_empty());

    let deleted = event(org.id, "user.deleted", Some(&root), Some(bob.id.uuid()));
    s.delete_user(org.id, bob.id, &deleted, &[]).await.unwrap();
    let after = s.audit_events(org.id, &all).await.unwrap();
    assert_eq!(after[1..], before[..], "entries by and about a deleted user stay as they were");
    assert_eq!(after[0], deleted);
    assert_eq!(s.events_about(bob.id, "password.reset_sent", 10).await.unwrap(), newest);
    let by_bob = AuditQuery { actor_id: Some(bob.id), ..all };
    let kept: HashSet<EventId> = ids(&s.audit_events(org.id, &by_bob).await.unwrap()).into_iter().collect();
    assert_eq!(kept.len(), 4, "his own entries keep naming him");
}
