//! Cursor stability: paging through a list while rows are added between the
//! pages shows no row twice, and every row that existed at the start once.

use std::{collections::HashSet, fmt::Debug, hash::Hash, sync::Arc};

use usher_core::{
    Store,
    directory::{Filter, Seek, SortColumn},
    store::{AuditQuery, NewUser, Profile, TokenFilter},
};
use usher_domain::{fold, identifier_key};

use crate::support::*;

/// Rows added while paging: at most this many, half sorting before the
/// cursor and half after it.
const ADDED: usize = 6;

#[track_caller]
fn once_each<K: Eq + Hash + Debug + Copy>(list: &str, seen: &[K], initial: &[K]) {
    let distinct: HashSet<K> = seen.iter().copied().collect();
    assert_eq!(distinct.len(), seen.len(), "{list}: a row was seen twice");
    let missed: Vec<&K> = initial.iter().filter(|k| !distinct.contains(k)).collect();
    assert!(missed.is_empty(), "{list}: rows of the start were skipped: {missed:?}");
}

/// A name that sorts before every starting name (even `i`) or after them (odd).
fn added_name(i: usize) -> String {
    format!("{}-added-{i}", if i.is_multiple_of(2) { "a" } else { "z" })
}

conformance!(
    name_ordered_lists_are_stable_under_inserts,
    newest_first_lists_are_stable_under_inserts,
    exports_are_stable_under_inserts,
);

/// Lists in name or user-ID order, and the directory walk, resume after a
/// key: rows added on either side of it do not disturb the walk.
async fn name_ordered_lists_are_stable_under_inserts(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let team = insert_group(s, org.id, "m-team").await;
    let mut initial_users = Vec::new();
    for i in 0..7 {
        let u = insert(
            s,
            NewUser {
                profile: Profile { last_name: Some(format!("m-last-{i}")), ..Profile::default() },
                ..new_user(org.id, &format!("m-user-{i}"))
            },
        )
        .await;
        s.add_group_member(team.id, u.id, now()).await.unwrap();
        initial_users.push(u.id);
    }
    let mut initial_groups = vec![team.id];
    let mut initial_apps = Vec::new();
    for i in 0..6 {
        initial_groups.push(insert_group(s, org.id, &format!("m-group-{i}")).await.id);
        initial_apps.push(insert_app(s, org.id, &format!("m-app-{i}"), None).await.id);
    }

    let (mut seen, mut after, mut added) = (Vec::new(), None::<String>, 0);
    loop {
        let page = s.users_page(org.id, after.as_deref(), 2).await.unwrap();
        seen.extend(page.iter().map(|u| u.id));
        let Some(last) = page.last() else { break };
        after = Some(identifier_key(&last.user_id));
        if added < ADDED {
            user(s, org.id, &added_name(added)).await;
            added += 1;
        }
    }
    once_each("users_page", &seen, &initial_users);

    let (mut seen, mut after, mut added) = (Vec::new(), None::<String>, 0);
    loop {
        let page = s.group_members(team.id, after.as_deref(), 2).await.unwrap();
        seen.extend(page.iter().map(|u| u.id));
        let Some(last) = page.last() else { break };
        after = Some(identifier_key(&last.user_id));
        if added < ADDED {
            let newcomer = user(s, org.id, &format!("member-{}", added_name(added))).await;
            s.add_group_member(team.id, newcomer.id, now()).await.unwrap();
            added += 1;
        }
    }
    once_each("group_members", &seen, &initial_users);

    let (mut seen, mut after, mut added) = (Vec::new(), None::<String>, 0);
    loop {
        let page = s.groups_page(org.id, after.as_deref(), 2).await.unwrap();
        seen.extend(page.iter().map(|g| g.id));
        let Some(last) = page.last() else { break };
        after = Some(fold(&last.name));
        if added < ADDED {
            insert_group(s, org.id, &added_name(added)).await;
            added += 1;
        }
    }
    once_each("groups_page", &seen, &initial_groups);

    let (mut seen, mut after, mut added) = (Vec::new(), None::<String>, 0);
    loop {
        let page = s.apps_page(org.id, after.as_deref(), 2).await.unwrap();
        seen.extend(page.iter().map(|a| a.id));
        let Some(last) = page.last() else { break };
        after = Some(fold(&last.name));
        if added < ADDED {
            insert_app(s, org.id, &added_name(added), None).await;
            added += 1;
        }
    }
    once_each("apps_page", &seen, &initial_apps);

    let (mut seen, mut after, mut added) = (Vec::new(), None, 0);
    loop {
        let seek = Seek {
            org_id: org.id,
            filter: &Filter::All,
            sort: SortColumn::LastName,
            descending: false,
            after,
            limit: 2,
        };
        let page = s.users_sorted(&seek).await.unwrap();
        seen.extend(page.iter().map(|(u, _)| u.id));
        let Some((last, key)) = page.last() else { break };
        after = Some((key.clone(), last.id));
        if added < ADDED {
            let name = added_name(added);
            insert(
                s,
                NewUser {
                    profile: Profile { last_name: Some(name.clone()), ..Profile::default() },
                    ..new_user(org.id, &format!("walk-{name}"))
                },
            )
            .await;
            added += 1;
        }
    }
    once_each("users_sorted", &seen, &initial_users);
}

/// Newest-first lists resume before an id: rows added meanwhile are newer
/// and never shift the pages still to come.
async fn newest_first_lists_are_stable_under_inserts(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let alice = user(s, org.id, "alice").await;
    let (mut tokens, mut sessions, mut invitations, mut events) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..7 {
        let token = api_token(&alice, format!("token-{i}").as_bytes());
        s.insert_token(&token).await.unwrap();
        tokens.push(token.id);
        let live = session(alice.id, format!("session-{i}").as_bytes());
        s.insert_session(&live).await.unwrap();
        sessions.push(live.id);
        let invited = invitation(org.id, &format!("person{i}@example.org"), format!("invitation-{i}").as_bytes());
        invite(s, &invited).await.unwrap();
        invitations.push(invited.id);
    }
    let all = AuditQuery { limit: 100, ..AuditQuery::default() };
    events.extend(s.audit_events(org.id, &all).await.unwrap().into_iter().map(|e| e.id));

    let (mut seen, mut before, mut added) = (Vec::new(), None, 0);
    loop {
        let page = s.tokens(alice.id, TokenFilter::All, now(), before, 2).await.unwrap();
        seen.extend(page.iter().map(|t| t.id));
        let Some(last) = page.last() else { break };
        before = Some(last.id);
        if added < ADDED {
            s.insert_token(&api_token(&alice, format!("added-token-{added}").as_bytes())).await.unwrap();
            added += 1;
        }
    }
    once_each("tokens", &seen, &tokens);

    let (mut seen, mut before, mut added) = (Vec::new(), None, 0);
    let (t, idle_since) = (now(), now() - hours(1));
    loop {
        let page = s.live_sessions(alice.id, t, idle_since, before, 2).await.unwrap();
        seen.extend(page.iter().map(|x| x.id));
        let Some(last) = page.last() else { break };
        before = Some(last.id);
        if added < ADDED {
            s.insert_session(&session(alice.id, format!("added-session-{added}").as_bytes())).await.unwrap();
            added += 1;
        }
    }
    once_each("live_sessions", &seen, &sessions);

    let (mut seen, mut before, mut added) = (Vec::new(), None, 0);
    loop {
        let page = s.invitations_page(org.id, before, 2).await.unwrap();
        seen.extend(page.iter().map(|i| i.id));
        let Some(last) = page.last() else { break };
        before = Some(last.id);
        if added < ADDED {
            invite(
                s,
                &invitation(
                    org.id,
                    &format!("added{added}@example.org"),
                    format!("added-invitation-{added}").as_bytes(),
                ),
            )
            .await
            .unwrap();
            added += 1;
        }
    }
    once_each("invitations_page", &seen, &invitations);

    let (mut seen, mut before, mut added) = (Vec::new(), None, 0);
    loop {
        let q = AuditQuery { before, limit: 2, ..AuditQuery::default() };
        let page = s.audit_events(org.id, &q).await.unwrap();
        seen.extend(page.iter().map(|e| e.id));
        let Some(last) = page.last() else { break };
        before = Some(last.id);
        if added < ADDED {
            s.append_audit(&event(org.id, "added.entry", Some(&alice), None)).await.unwrap();
            added += 1;
        }
    }
    assert_eq!(events.len(), 7, "one entry per invitation");
    once_each("audit_events", &seen, &events);
}

/// An export resumes after an id: users added meanwhile come at the end,
/// once.
async fn exports_are_stable_under_inserts(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let mut initial = Vec::new();
    for i in 0..7 {
        initial.push(user(s, org.id, &format!("user-{i}")).await.id);
    }
    let (mut seen, mut after, mut added) = (Vec::new(), None, 0);
    loop {
        let page = s.export_users(org.id, after, 2).await.unwrap();
        seen.extend(page.iter().map(|e| e.user.id));
        let Some(last) = page.last() else { break };
        after = Some(last.user.id);
        if added < ADDED {
            user(s, org.id, &added_name(added)).await;
            added += 1;
        }
    }
    once_each("export_users", &seen, &initial);
    assert_eq!(seen.len(), initial.len() + ADDED, "users added during the export are exported too");
}
