//! Sessions, sign-ins and the tickets a correct password earns while a second
//! step is due.

use std::sync::Arc;

use serde_json::json;
use usher_core::store::{AuditQuery, LoginTicket, Session, SignInFacts, Store};
use usher_domain::{SessionId, UserId};

use crate::support::*;

fn ticket(user: UserId, digest: &[u8]) -> LoginTicket {
    let t = now();
    LoginTicket { digest: digest.to_vec(), user, created_at: t, expires_at: t + minutes(5), attempts: 0 }
}

conformance!(
    sessions_read_back_touched_and_deleted,
    sign_in_records_time_session_and_entry,
    live_sessions_are_newest_first,
    users_end_their_own_sessions,
    sign_in_facts_read_settings_and_authenticator,
    login_tickets_expire_count_and_are_taken_once,
    reveals_are_taken_once_by_their_session,
);

/// A session is found by its digest with its user, whatever its state;
/// touching records activity; deleting ends it.
async fn sessions_read_back_touched_and_deleted(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let alice = user(s, org.id, "alice").await;
    let mut live = session(alice.id, &[0xde, 0xad, 0xbe, 0xef, 0x00, 0xff]);
    s.insert_session(&live).await.unwrap();
    let (got, owner) = s.session_by_digest(&live.secret_digest).await.unwrap().expect("found");
    assert_session(&got, &live);
    assert_user(&owner, &alice);
    assert!(s.session_by_digest(b"unknown").await.unwrap().is_none());

    live.last_active_at += minutes(5);
    s.touch_session(live.id, live.last_active_at).await.unwrap();
    assert_session(&s.session_by_digest(&live.secret_digest).await.unwrap().unwrap().0, &live);

    let t = now();
    let expired = Session {
        created_at: t - hours(9),
        last_active_at: t - hours(9),
        expires_at: t - hours(1),
        ..session(alice.id, b"expired")
    };
    s.insert_session(&expired).await.unwrap();
    let (got, _) = s.session_by_digest(b"expired").await.unwrap().expect("expired sessions are still found");
    assert_session(&got, &expired);

    s.delete_session(live.id).await.unwrap();
    assert!(s.session_by_digest(&live.secret_digest).await.unwrap().is_none());
    assert!(s.session_by_digest(b"expired").await.unwrap().is_some(), "only that session ended");
}

/// A sign-in writes the user's last sign-in time, the session and its
/// audit entry together.
async fn sign_in_records_time_session_and_entry(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let mut alice = user(s, org.id, "alice").await;
    // Signed in with a password to change: the session keeps when it was proved.
    let at = now() + minutes(1);
    let login = Session { created_at: at, forced_change_proof: Some(at), ..session(alice.id, b"login") };
    let entry = event(org.id, "auth.login.succeeded", Some(&alice), Some(alice.id.uuid()));
    s.sign_in(&login, &entry).await.unwrap();

    alice.last_login_at = Some(login.created_at);
    assert_user(&reload(s, alice.id).await, &alice);
    assert_session(&s.session_by_digest(b"login").await.unwrap().unwrap().0, &login);
    let all = AuditQuery { limit: 10, ..AuditQuery::default() };
    assert_eq!(s.audit_events(org.id, &all).await.unwrap(), [entry]);

    // A session that cannot be written (its id is taken) leaves no sign-in behind.
    let again = Session { secret_digest: b"again".to_vec(), created_at: now() + minutes(2), ..login.clone() };
    let entry2 = event(org.id, "auth.login.succeeded", Some(&alice), Some(alice.id.uuid()));
    assert!(s.sign_in(&again, &entry2).await.is_err());
    assert_user(&reload(s, alice.id).await, &alice);
    assert_eq!(s.audit_events(org.id, &all).await.unwrap().len(), 1);
}

/// Live sessions are neither expired nor idle, newest first, paged by id.
async fn live_sessions_are_newest_first(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let alice = user(s, org.id, "alice").await;
    let bob = user(s, org.id, "bob").await;
    let t = now();
    let idle_since = t - minutes(30);
    let s1 = session(alice.id, b"s1");
    let expired = Session { expires_at: t - minutes(1), ..session(alice.id, b"expired") };
    let idle = Session { last_active_at: t - hours(1), ..session(alice.id, b"idle") };
    let s2 = session(alice.id, b"s2");
    let s3 = session(alice.id, b"s3");
    let theirs = session(bob.id, b"bob");
    for one in [&s1, &expired, &idle, &s2, &s3, &theirs] {
        s.insert_session(one).await.unwrap();
    }

    let ids = |sessions: Vec<Session>| sessions.into_iter().map(|x| x.id).collect::<Vec<SessionId>>();
    let all = s.live_sessions(alice.id, t, idle_since, None, 10).await.unwrap();
    assert_eq!(all.len(), 3);
    assert_session(&all[0], &s3);
    assert_eq!(ids(all), [s3.id, s2.id, s1.id]);
    assert_eq!(ids(s.live_sessions(alice.id, t, idle_since, None, 2).await.unwrap()), [s3.id, s2.id]);
    assert_eq!(ids(s.live_sessions(alice.id, t, idle_since, Some(s2.id), 2).await.unwrap()), [s1.id]);
    assert!(s.live_sessions(alice.id, t, idle_since, Some(s1.id), 2).await.unwrap().is_empty());
    assert_eq!(
        ids(s.live_sessions(alice.id, t, t - hours(2), None, 10).await.unwrap()),
        [s3.id, s2.id, idle.id, s1.id]
    );
    assert_eq!(
        ids(s.live_sessions(alice.id, t + hours(9), idle_since, None, 10).await.unwrap()),
        Vec::<SessionId>::new()
    );
}

/// A user ends one of their sessions (never another user's), or all but one.
async fn users_end_their_own_sessions(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let alice = user(s, org.id, "alice").await;
    let bob = user(s, org.id, "bob").await;
    let (a1, a2, a3, b1) =
        (session(alice.id, b"a1"), session(alice.id, b"a2"), session(alice.id, b"a3"), session(bob.id, b"b1"));
    for one in [&a1, &a2, &a3, &b1] {
        s.insert_session(one).await.unwrap();
    }

    assert!(!s.delete_own_session(alice.id, b1.id).await.unwrap(), "not hers");
    assert!(s.session_by_digest(b"b1").await.unwrap().is_some());
    assert!(s.delete_own_session(alice.id, a1.id).await.unwrap());
    assert!(!s.delete_own_session(alice.id, a1.id).await.unwrap(), "already ended");
    assert!(s.session_by_digest(b"a1").await.unwrap().is_none());

    assert_eq!(s.delete_sessions_except(alice.id, Some(a2.id)).await.unwrap(), 1);
    assert!(s.session_by_digest(b"a2").await.unwrap().is_some(), "the kept session stays");
    assert!(s.session_by_digest(b"a3").await.unwrap().is_none());
    assert_eq!(s.delete_sessions_except(alice.id, None).await.unwrap(), 1);
    assert_eq!(s.delete_sessions_except(alice.id, None).await.unwrap(), 0);
    assert!(s.session_by_digest(b"b1").await.unwrap().is_some(), "other users keep theirs");
}

/// The facts a sign-in needs: a confirmed authenticator and the
/// organization's own two-step and password settings.
async fn sign_in_facts_read_settings_and_authenticator(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let other = organization(s, "other").await;
    let alice = user(s, org.id, "alice").await;
    assert_eq!(s.sign_in_facts(org.id, alice.id).await.unwrap(), SignInFacts::default());

    let mfa = json!({"required": true});
    let policy = json!({"min_length": 12, "classes": ["upper", "digit"]});
    s.put_setting(org.id, "mfa", &mfa, now()).await.unwrap();
    s.put_setting(org.id, "password_policy", &policy, now()).await.unwrap();
    s.put_pending_totp(alice.id, b"sealed", now()).await.unwrap();
    let facts = s.sign_in_facts(org.id, alice.id).await.unwrap();
    assert_eq!(
        facts,
        SignInFacts { totp: false, mfa_setting: Some(mfa.clone()), password_policy: Some(policy.clone()) },
        "a pending authenticator is not one"
    );

    assert!(s.confirm_totp(alice.id, 100, &[], now()).await.unwrap());
    let facts = s.sign_in_facts(org.id, alice.id).await.unwrap();
    assert_eq!(facts, SignInFacts { totp: true, mfa_setting: Some(mfa), password_policy: Some(policy) });
    let elsewhere = s.sign_in_facts(other.id, alice.id).await.unwrap();
    assert_eq!((elsewhere.mfa_setting, elsewhere.password_policy), (None, None), "settings are per organization");
}

/// A ticket is read with its user until it expires, dies after too many
/// wrong codes, and is taken once.
async fn login_tickets_expire_count_and_are_taken_once(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let alice = user(s, org.id, "alice").await;
    let first = ticket(alice.id, b"first");
    s.insert_login_ticket(&first).await.unwrap();
    let (got, owner) = s.login_ticket(b"first", now()).await.unwrap().expect("found");
    assert_eq!(got, first);
    assert_user(&owner, &alice);
    assert!(s.login_ticket(b"first", first.expires_at).await.unwrap().is_none(), "expired");
    assert!(s.login_ticket(b"other", now()).await.unwrap().is_none());

    s.login_ticket_failed(b"first", 3).await.unwrap();
    s.login_ticket_failed(b"first", 3).await.unwrap();
    assert_eq!(s.login_ticket(b"first", now()).await.unwrap().unwrap().0.attempts, 2);
    s.login_ticket_failed(b"first", 3).await.unwrap();
    assert!(s.login_ticket(b"first", now()).await.unwrap().is_none(), "deleted at the third wrong code");
    assert!(!s.take_login_ticket(b"first", now()).await.unwrap());
    s.login_ticket_failed(b"unknown", 3).await.unwrap();

    let second = ticket(alice.id, b"second");
    s.insert_login_ticket(&second).await.unwrap();
    assert!(
        !s.take_login_ticket(b"second", second.expires_at + minutes(1)).await.unwrap(),
        "expired tickets are not taken"
    );
    assert!(s.take_login_ticket(b"second", now()).await.unwrap());
    assert!(!s.take_login_ticket(b"second", now()).await.unwrap(), "a ticket is taken once");
    assert!(s.login_ticket(b"second", now()).await.unwrap().is_none());
}

/// A sealed secret is taken once, by the session that made it, before it
/// expires; it goes with its session; the purge removes the expired ones.
async fn reveals_are_taken_once_by_their_session(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let ann = user(s, org.id, "ann").await;
    let (mine, other) = (session(ann.id, b"mine"), session(ann.id, b"other"));
    s.insert_session(&mine).await.unwrap();
    s.insert_session(&other).await.unwrap();
    let t = now();
    let (a, b, c) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    s.insert_reveal(a, mine.id, b"sealed a", t + minutes(5)).await.unwrap();
    s.insert_reveal(b, mine.id, b"sealed b", t + minutes(5)).await.unwrap();
    s.insert_reveal(c, other.id, b"sealed c", t + minutes(5)).await.unwrap();

    assert_eq!(s.take_reveal(a, other.id, t).await.unwrap(), None, "another session cannot take it");
    assert_eq!(s.take_reveal(a, mine.id, t + minutes(6)).await.unwrap(), None, "not after it expires");
    assert_eq!(s.take_reveal(a, mine.id, t).await.unwrap(), Some(b"sealed a".to_vec()));
    assert_eq!(s.take_reveal(a, mine.id, t).await.unwrap(), None, "once");
    assert_eq!(s.take_reveal(uuid::Uuid::now_v7(), mine.id, t).await.unwrap(), None);

    s.delete_session(other.id).await.unwrap();
    assert_eq!(s.take_reveal(c, other.id, t).await.unwrap(), None, "gone with its session");
    assert_eq!(s.purge_reveals(t).await.unwrap(), 0, "b has not expired yet");
    assert_eq!(s.purge_reveals(t + minutes(5)).await.unwrap(), 1);
    assert_eq!(s.take_reveal(b, mine.id, t).await.unwrap(), None, "purged");

    // Two page views racing (a double click, a reload): one of them shows it.
    let d = uuid::Uuid::now_v7();
    s.insert_reveal(d, mine.id, b"sealed d", t + minutes(5)).await.unwrap();
    let session = mine.id;
    let taken = race(&store, 100, move |s, _| async move { s.take_reveal(d, session, t).await.unwrap() }).await;
    assert_eq!(taken.iter().flatten().count(), 1, "taken once among 100 racing views");
}
