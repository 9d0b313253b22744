//! The email outbox and the reminders that fill it.

use std::sync::{Arc, Mutex};

use chrono::Duration;
use usher_core::{
    Store,
    mail::{Mail, OutboxMessage},
    store::{ApiToken, NewUser, ReminderScope, User, UserStatus},
};
use usher_domain::{MailId, Role, TokenId};
use uuid::Uuid;

use crate::support::*;

fn ids(messages: &[OutboxMessage]) -> Vec<MailId> {
    sorted(messages.iter().map(|m| m.id).collect())
}

conformance!(
    due_messages_are_leased_to_one_node,
    failed_messages_are_retried_or_given_up,
    token_reminders_are_queued_once,
    password_reminders_are_claimed_once_per_password,
);

/// Due messages are leased to one node at a time, and a sent message is
/// never leased again.
async fn due_messages_are_leased_to_one_node(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let other = organization(s, "other").await;
    let (node_a, node_b) = (Uuid::new_v4(), Uuid::new_v4());
    let first = mail(org.id, "first@example.org");
    let later = OutboxMessage { next_attempt_at: first.created_at + hours(1), ..mail(org.id, "later@example.org") };
    let elsewhere = mail(other.id, "elsewhere@example.org");
    for message in [&first, &later, &elsewhere] {
        s.insert_mail(message).await.unwrap();
    }

    let t = now() + minutes(1);
    let leased = s.claim_mail(node_a, t, t + minutes(5), 10).await.unwrap();
    assert_eq!(ids(&leased), ids(&[first.clone(), elsewhere.clone()]), "due messages of every organization");
    assert!(leased.contains(&first), "read back whole");
    assert!(s.claim_mail(node_b, t, t + minutes(5), 10).await.unwrap().is_empty(), "leased messages wait");

    assert!(!s.mark_mail_sent(first.id, node_b, t).await.unwrap(), "node B holds no lease on it");
    assert!(s.mark_mail_sent(first.id, node_a, t).await.unwrap());
    let after_lease = t + minutes(6);
    assert_eq!(
        s.claim_mail(node_b, after_lease, after_lease + minutes(5), 10).await.unwrap(),
        std::slice::from_ref(&elsewhere),
        "an ended lease frees the message; a sent one stays sent"
    );
    assert!(!s.mark_mail_sent(elsewhere.id, node_a, after_lease).await.unwrap(), "node A lost its lease");
    assert!(s.mark_mail_sent(elsewhere.id, node_b, after_lease).await.unwrap());

    let due_later = first.created_at + hours(2);
    let one = s.claim_mail(node_a, due_later, due_later + minutes(5), 1).await.unwrap();
    assert_eq!(one, std::slice::from_ref(&later));
    assert!(s.mark_mail_sent(later.id, node_a, due_later).await.unwrap());
    assert!(s.claim_mail(node_b, due_later + hours(1), due_later + hours(2), 10).await.unwrap().is_empty());
}

/// A failed attempt is counted with its error and retried at its time,
/// or given up for good.
async fn failed_messages_are_retried_or_given_up(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let (node_a, node_b) = (Uuid::new_v4(), Uuid::new_v4());
    let message = mail(org.id, "flaky@example.org");
    s.insert_mail(&message).await.unwrap();
    let t = now() + minutes(1);
    assert_eq!(s.claim_mail(node_a, t, t + minutes(5), 10).await.unwrap().len(), 1);

    s.mark_mail_failed(message.id, node_b, "not mine", t, Some(t)).await.unwrap();
    assert!(s.claim_mail(node_b, t, t + minutes(5), 10).await.unwrap().is_empty(), "only the holder records a failure");
    let retry = t + minutes(10);
    s.mark_mail_failed(message.id, node_a, "421 try again", t, Some(retry)).await.unwrap();
    assert!(
        s.claim_mail(node_b, t + minutes(5), t + minutes(20), 10).await.unwrap().is_empty(),
        "not before its retry time"
    );
    let again = s.claim_mail(node_b, retry, retry + minutes(5), 10).await.unwrap();
    let counted = OutboxMessage {
        attempts: 1,
        next_attempt_at: retry,
        last_error: Some("421 try again".into()),
        ..message.clone()
    };
    assert_eq!(again, [counted]);

    s.mark_mail_failed(message.id, node_b, "550 no such user", retry, None).await.unwrap();
    let much_later = retry + days(30);
    assert!(s.claim_mail(node_a, much_later, much_later + minutes(5), 10).await.unwrap().is_empty(), "given up");
    assert!(!s.mark_mail_sent(message.id, node_b, much_later).await.unwrap());
}

/// Tokens of active users expiring within the horizon are marked reminded
/// once, with the mail the renderer makes for each.
async fn token_reminders_are_queued_once(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let alice = user(s, org.id, "alice").await;
    let carol = user(s, org.id, "carol").await;
    let bob = insert(s, NewUser { status: UserStatus::Disabled, ..new_user(org.id, "bob") }).await;
    let t = now();
    let soon = ApiToken { expires_at: Some(t + days(2)), ..api_token(&alice, b"soon") };
    let quiet = ApiToken { expires_at: Some(t + days(3)), ..api_token(&carol, b"quiet") };
    let also_soon = ApiToken { expires_at: Some(t + days(4)), ..api_token(&alice, b"also soon") };
    let skipped = [
        ApiToken { expires_at: Some(t + days(10)), ..api_token(&alice, b"far") },
        ApiToken { expires_at: Some(t + days(2)), revoked_at: Some(t), ..api_token(&alice, b"revoked") },
        ApiToken { expires_at: Some(t - days(1)), ..api_token(&alice, b"expired") },
        ApiToken { expires_at: None, ..api_token(&alice, b"forever") },
        ApiToken { expires_at: Some(t + days(2)), ..api_token(&bob, b"disabled owner") },
    ];
    for token in [&soon, &quiet, &also_soon].into_iter().chain(&skipped) {
        s.insert_token(token).await.unwrap();
    }

    // The renderer outlives no call, but the store takes a `'static` one.
    let rendered: Arc<Mutex<Vec<(TokenId, String)>>> = Arc::default();
    let log = rendered.clone();
    let render = move |token: &ApiToken, owner: &User| {
        log.lock().unwrap().push((token.id, owner.user_id.clone()));
        let to = owner.email.clone()?;
        (owner.user_id != "carol").then(|| {
            let mut m = mail(owner.org_id, &to);
            m.mail = Mail { to, subject: format!("{} expires", token.description), text: "Renew it.".into() };
            m
        })
    };
    let horizon = t + days(7);
    let second = Duration::seconds(1);
    assert_eq!(s.queue_token_reminders(t, horizon, 2, &render).await.unwrap(), 2, "at most `limit`");
    assert_eq!(s.queue_token_reminders(t + second, horizon, 10, &render).await.unwrap(), 1);
    let third = s.queue_token_reminders(t + second * 2, horizon, 10, &render).await.unwrap();
    assert_eq!(third, 0, "each token is reminded once");
    let mut got = rendered.lock().unwrap().clone();
    got.sort();
    let mut want =
        vec![(soon.id, "alice".to_owned()), (quiet.id, "carol".to_owned()), (also_soon.id, "alice".to_owned())];
    want.sort();
    assert_eq!(got, want, "one mail made per marked token");

    let queued = s.claim_mail(Uuid::new_v4(), t + minutes(1), t + minutes(5), 10).await.unwrap();
    let mut subjects: Vec<_> = queued.iter().map(|m| (m.mail.to.as_str(), m.mail.subject.as_str())).collect();
    subjects.sort();
    let expected =
        [("alice@example.org", "token 616c736f20736f6f6e expires"), ("alice@example.org", "token 736f6f6e expires")];
    assert_eq!(subjects, expected, "no mail where the renderer made none");

    // Passes at one instant (two nodes, or a test clock that stands still)
    // mark each token and make its mail once.
    let late =
        [4, 5].map(|d| ApiToken { expires_at: Some(t + days(d)), ..api_token(&alice, format!("late {d}").as_bytes()) });
    for token in &late {
        s.insert_token(token).await.unwrap();
    }
    let at = t + second * 3;
    assert_eq!(s.queue_token_reminders(at, horizon, 1, &render).await.unwrap(), 1);
    assert_eq!(s.queue_token_reminders(at, horizon, 10, &render).await.unwrap(), 1);
    let made: Vec<TokenId> = rendered.lock().unwrap().iter().skip(3).map(|(id, _)| *id).collect();
    assert_eq!(sorted(made), sorted(late.iter().map(|t| t.id).collect()), "one mail made per token");
    let queued = s.claim_mail(Uuid::new_v4(), at + minutes(1), at + minutes(5), 10).await.unwrap();
    assert_eq!(queued.len(), 2, "one mail per new token: {queued:?}");
}

/// Users whose password is old enough are claimed once per password, by
/// scope: an organization's non-Administrators, or every Administrator.
async fn password_reminders_are_claimed_once_per_password(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let other = organization(s, "other").await;
    let t = now();
    let old = t - days(100);
    let aged = |o, name: &str| NewUser { created_at: old, ..new_user(o, name) };
    let alice = insert(s, aged(org.id, "alice")).await;
    insert(s, aged(org.id, "amber")).await;
    insert(s, new_user(org.id, "recent")).await;
    insert(s, NewUser { status: UserStatus::Disabled, ..aged(org.id, "disabled") }).await;
    insert(s, NewUser { roles: vec![Role::Administrator], ..aged(org.id, "root") }).await;
    insert(s, NewUser { roles: vec![Role::Administrator], ..aged(other.id, "their-root") }).await;
    insert(s, aged(other.id, "their-user")).await;

    let cutoff = t - days(90);
    let scope = ReminderScope::NonAdministrators(org.id);
    let first = s.claim_password_reminders(scope, cutoff, Uuid::new_v4(), t, 1).await.unwrap();
    let second = s.claim_password_reminders(scope, cutoff, Uuid::new_v4(), t, 10).await.unwrap();
    let mut claimed: Vec<User> = first.iter().chain(&second).cloned().collect();
    claimed.sort_by(|a, b| a.user_id.cmp(&b.user_id));
    assert_eq!((first.len(), user_ids(&claimed)), (1, vec!["alice", "amber"]));
    assert_user(&claimed[0], &alice);
    assert!(
        s.claim_password_reminders(scope, cutoff, Uuid::new_v4(), t, 10).await.unwrap().is_empty(),
        "once per password"
    );

    let mut admins =
        s.claim_password_reminders(ReminderScope::Administrators, cutoff, Uuid::new_v4(), t, 10).await.unwrap();
    admins.sort_by(|a, b| a.user_id.cmp(&b.user_id));
    assert_eq!(user_ids(&admins), ["root", "their-root"]);
    assert!(
        s.claim_password_reminders(ReminderScope::Administrators, cutoff, Uuid::new_v4(), t, 10)
            .await
            .unwrap()
            .is_empty()
    );

    s.set_password(alice.id, "changed", t - days(95), 5).await.unwrap();
    let again = s.claim_password_reminders(scope, cutoff, Uuid::new_v4(), t, 10).await.unwrap();
    assert_eq!(user_ids(&again), ["alice"], "a new password is reminded about again");
    s.set_password(alice.id, "fresh", t, 5).await.unwrap();
    assert!(
        s.claim_password_reminders(scope, cutoff, Uuid::new_v4(), t, 10).await.unwrap().is_empty(),
        "a fresh password is not due"
    );
}
