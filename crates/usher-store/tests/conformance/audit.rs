//! The append-only audit log.

use std::{collections::HashSet, sync::Arc};

use chrono::{DateTime, TimeZone as _, Utc};
use usher_core::{
    audit::family_of,
    store::{AuditEvent, AuditQuery, Store, User},
};
use usher_domain::{EventId, OrgId};
use uuid::Uuid;

use crate::support::*;

fn ids(events: &[AuditEvent]) -> Vec<EventId> {
    events.iter().map(|e| e.id).collect()
}

conformance!(
    entries_are_newest_first_and_filtered,
    pages_have_no_gaps_or_repeats,
    entries_are_append_only,
    every_combination_of_filters_selects_what_it_says,
    time_ranges_follow_the_times_not_the_ids,
);

/// An entry at `at` whose id was made `lag` after it (as the core makes ids
/// from the event's time: `lag` zero; older entries' ids came a moment later).
fn event_at(org_id: OrgId, action: &str, actor: Option<&User>, target: Option<Uuid>, at: DateTime<Utc>) -> AuditEvent {
    lagging(org_id, action, actor, target, at, chrono::Duration::zero())
}

fn lagging(
    org_id: OrgId,
    action: &str,
    actor: Option<&User>,
    target: Option<Uuid>,
    at: DateTime<Utc>,
    lag: chrono::Duration,
) -> AuditEvent {
    let made = at + lag;
    let time = uuid::Timestamp::from_unix_time(made.timestamp() as u64, made.timestamp_subsec_nanos(), 0, 0);
    AuditEvent { id: EventId::from_uuid(Uuid::new_v7(time)), at: micros(at), ..event(org_id, action, actor, target) }
}

/// What `q` should select from `events`, newest first.
fn expected(events: &[AuditEvent], q: &AuditQuery) -> Vec<EventId> {
    let mut found: Vec<&AuditEvent> = events
        .iter()
        .filter(|e| q.action.as_ref().is_none_or(|a| e.action == *a))
        .filter(|e| q.family.as_ref().is_none_or(|f| family_of(&e.action) == f))
        .filter(|e| q.actor_id.is_none_or(|a| e.actor_id == Some(a)))
        .filter(|e| q.target_id.is_none_or(|t| e.target_id == Some(t)))
        .filter(|e| q.since.is_none_or(|s| e.at >= s) && q.until.is_none_or(|u| e.at < u))
        .filter(|e| q.before.is_none_or(|b| e.id < b))
        .collect();
    found.sort_by_key(|e| std::cmp::Reverse(e.id));
    found.into_iter().take(q.limit as usize).map(|e| e.id).collect()
}

/// Every combination of action or family, actor, target, time range and
/// cursor selects exactly the entries it names, newest first: families are
/// whole first words (`user` is not `users`), an action and a family
/// disagreeing select nothing.
async fn every_combination_of_filters_selects_what_it_says(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let other = organization(s, "other").await;
    let alice = user(s, org.id, "alice").await;
    let bob = user(s, org.id, "bob").await;
    let actions = ["auth.login.succeeded", "auth.login.failed", "user.created", "user.mfa.enabled", "users.imported"];
    let people = [Some(&alice), Some(&bob), None];
    let start = Utc.with_ymd_and_hms(2026, 4, 1, 9, 30, 0).unwrap();
    let mut events = Vec::new();
    for i in 0..45usize {
        let at = start + chrono::Duration::hours(7 * i as i64);
        let (actor, target) = (people[i % 3], people[(i / 3) % 3].map(|u| u.id.uuid()));
        let entry = event_at(org.id, actions[i % actions.len()], actor, target, at);
        s.append_audit(&entry).await.unwrap();
        events.push(entry);
    }
    s.append_audit(&event_at(other.id, "auth.login.failed", Some(&alice), None, start)).await.unwrap();

    let day = |d: u32| Some(Utc.with_ymd_and_hms(2026, 4, d, 0, 0, 0).unwrap());
    let mut checked = 0;
    for (action, family) in [(None, None), (Some("auth.login.failed"), None), (None, Some("auth"))]
        .into_iter()
        .chain([(None, Some("user")), (None, Some("users")), (Some("user.created"), Some("user"))])
        .chain([(Some("user.created"), Some("auth")), (None, Some("app"))])
    {
        for actor in [None, Some(alice.id), Some(bob.id)] {
            for target in [None, Some(bob.id.uuid())] {
                for (since, until) in [(None, None), (day(3), None), (None, day(9)), (day(3), day(9)), (day(5), day(5))]
                {
                    for before in [None, Some(events[30].id)] {
                        let q = AuditQuery {
                            action: action.map(str::to_owned),
                            family: family.map(str::to_owned),
                            actor_id: actor,
                            target_id: target,
                            since,
                            until,
                            before,
                            limit: 7,
                        };
                        let got = ids(&s.audit_events(org.id, &q).await.unwrap());
                        assert_eq!(got, expected(&events, &q), "{q:?}");
                        checked += usize::from(!got.is_empty());
                    }
                }
            }
        }
    }
    assert!(checked > 100, "most combinations find something ({checked})");
    let imports = AuditQuery { family: Some("users".into()), limit: 100, ..AuditQuery::default() };
    assert_eq!(s.audit_events(org.id, &imports).await.unwrap().len(), 9, "users.imported only");
}

/// A time range selects by the entries' times: an entry whose id was made a
/// moment after its time (as ids were before they came from the time) falls
/// on the side of the range its time says, also at the edges, and a cursor
/// pages through a family in a range without gaps or repeats.
async fn time_ranges_follow_the_times_not_the_ids(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let alice = user(s, org.id, "alice").await;
    let midnight = Utc.with_ymd_and_hms(2026, 6, 2, 0, 0, 0).unwrap();
    let ms = chrono::Duration::milliseconds;
    let just_before = lagging(org.id, "auth.logout", Some(&alice), None, midnight - ms(1), ms(40));
    let at_midnight = event_at(org.id, "auth.logout", Some(&alice), None, midnight);
    let late = lagging(org.id, "auth.logout", Some(&alice), None, midnight + ms(2), chrono::Duration::seconds(20));
    for e in [&just_before, &at_midnight, &late] {
        s.append_audit(e).await.unwrap();
    }
    let q = |since: Option<DateTime<Utc>>, until: Option<DateTime<Utc>>| AuditQuery {
        family: Some("auth".into()),
        since,
        until,
        limit: 10,
        ..AuditQuery::default()
    };
    let read = |q: AuditQuery| async move { ids(&s.audit_events(org.id, &q).await.unwrap()) };
    assert_eq!(read(q(Some(midnight), None)).await, [late.id, at_midnight.id]);
    assert_eq!(read(q(None, Some(midnight))).await, [just_before.id]);
    // The entry just before midnight has the later id: its id lags its time.
    assert_eq!(read(q(None, Some(midnight + ms(1)))).await, [just_before.id, at_midnight.id]);
    assert_eq!(read(q(Some(midnight), Some(midnight))).await, Vec::<EventId>::new());

    let mut events = Vec::new();
    for i in 0..17 {
        let action = if i % 2 == 0 { "token.created" } else { "auth.login.succeeded" };
        let entry = event_at(org.id, action, Some(&alice), None, midnight + chrono::Duration::minutes(10 * i));
        s.append_audit(&entry).await.unwrap();
        events.push(entry);
    }
    let (since, until) = (midnight + chrono::Duration::minutes(25), midnight + chrono::Duration::minutes(135));
    let want: Vec<EventId> = events
        .iter()
        .rev()
        .filter(|e| e.action == "token.created" && e.at >= since && e.at < until)
        .map(|e| e.id)
        .collect();
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = AuditQuery {
            family: Some("token".into()),
            since: Some(since),
            until: Some(until),
            before,
            limit: 2,
            ..AuditQuery::default()
        };
        let page = read(page).await;
        let Some(last) = page.last() else { break };
        before = Some(*last);
        seen.extend(page);
    }
    assert_eq!(seen, want, "every entry once, newest first");
    assert_eq!(want.len(), 5);
}

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
