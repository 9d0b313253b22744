//! Uniqueness and one-time rules under concurrency: many callers at once,
//! released together, and exactly the allowed number of them succeed.

use std::{collections::HashSet, sync::Arc};

use usher_core::{
    Store,
    conflict::constraint,
    invitations::NewInvitation,
    store::{LoginTicket, NewUser, StoreError, StoreResult},
};
use usher_domain::{Role, UserId, identifier_key};
use uuid::Uuid;

use crate::{lockout::count, support::*};

/// How many of the results are `Ok`; every other must be the conflict `rule`.
#[track_caller]
fn one_winner<T: std::fmt::Debug>(results: Vec<StoreResult<T>>, rule: &str) {
    let mut winners = 0;
    for result in results {
        match result {
            Ok(_) => winners += 1,
            Err(StoreError::Conflict { constraint }) => assert_eq!(constraint, rule),
            Err(other) => panic!("expected Ok or the conflict {rule}, got {other:?}"),
        }
    }
    assert_eq!(winners, 1, "exactly one caller wins ({rule})");
}

/// How many callers got `true` (or `Some`).
fn wins(results: impl IntoIterator<Item = bool>) -> usize {
    results.into_iter().filter(|won| *won).count()
}

conformance!(
    concurrent_users_share_no_user_id_or_email,
    concurrent_invitations_leave_one_pending,
    one_time_secrets_have_one_winner,
    concurrent_attempts_never_pass_the_threshold,
    concurrent_demotions_keep_an_administrator,
    concurrent_claims_lease_each_message_once,
    concurrent_nodes_agree_on_a_server_secret,
);

/// 200 users inserted at once with one user ID (in different cases), then
/// with one email: one is stored, every other is a conflict of that rule.
async fn concurrent_users_share_no_user_id_or_email(store: Arc<dyn Store>) {
    let org = organization(&*store, "acme").await.id;
    let inserted = race(&store, 200, move |s, i| async move {
        let id = if i.is_multiple_of(2) { "Racer" } else { "racer" };
        let email = format!("racer{i}@example.org");
        let new = NewUser { email_key: Some(identifier_key(&email)), email: Some(email), ..new_user(org, id) };
        s.insert_user(&new).await
    })
    .await;
    one_winner(inserted, constraint::USER_ID);

    let inserted = race(&store, 200, move |s, i| async move {
        let email = if i.is_multiple_of(2) { "Shared@Example.org" } else { "shared@example.org" };
        let new = NewUser {
            email: Some(email.into()),
            email_key: Some("shared@example.org".into()),
            ..new_user(org, &format!("sharer{i}"))
        };
        s.insert_user(&new).await
    })
    .await;
    one_winner(inserted, constraint::EMAIL);
    let users = store.users_page(org, None, 500).await.unwrap();
    assert_eq!(user_ids(&users).len(), 2, "one racer and one sharer are stored: {:?}", user_ids(&users));
}

/// Fifty invitations of one address at once: one is pending.
async fn concurrent_invitations_leave_one_pending(store: Arc<dyn Store>) {
    let org = organization(&*store, "acme").await.id;
    let written = race(&store, 50, move |s, i| async move {
        let invited = invitation(org, "wanted@example.org", format!("wanted-{i}").as_bytes());
        let entry = event(org, "invitation.created", None, Some(invited.id.uuid()));
        let new = NewInvitation { invitation: &invited, now: now(), replace_pending: false, event: &entry, mail: None };
        s.insert_invitation(&new).await
    })
    .await;
    one_winner(written, constraint::INVITATION_PENDING);
    assert_eq!(store.invitations_page(org, None, 100).await.unwrap().len(), 1);
}

/// Fifty callers take one setup link, invitation, reset link or sign-in
/// ticket at once, or use one time step or recovery code: one wins each.
async fn one_time_secrets_have_one_winner(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let alice = user(s, org.id, "alice").await;
    let t = now();
    s.insert_setup_token(b"setup", org.id, t + hours(1)).await.unwrap();
    invite(s, &invitation(org.id, "one@example.org", b"invitation")).await.unwrap();
    s.insert_password_reset(b"reset", alice.id, t, t + hours(1)).await.unwrap();
    let ticket = LoginTicket {
        digest: b"ticket".to_vec(),
        user: alice.id,
        created_at: t,
        expires_at: t + minutes(5),
        attempts: 0,
    };
    s.insert_login_ticket(&ticket).await.unwrap();
    s.put_pending_totp(alice.id, b"sealed", t).await.unwrap();
    assert!(s.confirm_totp(alice.id, 10, &[b"code".to_vec()], t).await.unwrap());

    let setup =
        race(&store, 50, move |s, _| async move { s.take_setup_token(b"setup", t).await.unwrap().is_some() }).await;
    assert_eq!(wins(setup), 1, "setup link");
    let taken =
        race(&store, 50, move |s, _| async move { s.take_invitation(b"invitation", t).await.unwrap().is_some() }).await;
    assert_eq!(wins(taken), 1, "invitation");
    let reset =
        race(&store, 50, move |s, _| async move { s.take_password_reset(b"reset", t).await.unwrap().is_some() }).await;
    assert_eq!(wins(reset), 1, "reset link");
    let tickets = race(&store, 50, move |s, _| async move { s.take_login_ticket(b"ticket", t).await.unwrap() }).await;
    assert_eq!(wins(tickets), 1, "sign-in ticket");
    let user = alice.id;
    let steps = race(&store, 50, move |s, _| async move { s.use_totp_step(user, 11).await.unwrap() }).await;
    assert_eq!(wins(steps), 1, "time step");
    let codes = race(&store, 50, move |s, _| async move { s.use_recovery_code(user, b"code", t).await.unwrap() }).await;
    assert_eq!(wins(codes), 1, "recovery code");
}

/// Sixty attempts at once on an account and an address: exactly the
/// threshold are admitted, and the account ends locked.
async fn concurrent_attempts_never_pass_the_threshold(store: Arc<dyn Store>) {
    let t = now();
    let attempts = race(&store, 60, move |s, _| async move {
        s.take_attempt(&[count("account:alice", t, 5), count("address:192.0.2.1", t, 50)]).await.unwrap().admitted
    })
    .await;
    assert_eq!(wins(attempts), 5, "at most the threshold are checked");
    let row = store.throttle_row("account:alice").await.unwrap().unwrap();
    assert_eq!((row.failures, row.locked_until), (5, Some(t + minutes(15))));
    assert_eq!(
        store.throttle_row("address:192.0.2.1").await.unwrap().unwrap().failures,
        5,
        "refused attempts count nowhere"
    );
}

/// Two Administrators demoted, disabled or deleted at the same moment:
/// one change passes, the other finds it would leave none.
async fn concurrent_demotions_keep_an_administrator(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await.id;
    let mut sole: Option<UserId> = None;
    for round in 0..6 {
        let admins =
            [admin(s, org, &format!("first{round}")).await.id, admin(s, org, &format!("second{round}")).await.id];
        if let Some(previous) = sole {
            s.replace_roles(org, previous, &[Role::User], &[], now()).await.unwrap();
        }
        let results = race(&store, 2, move |s, i| async move {
            let t = now();
            match round % 3 {
                0 => s.replace_roles(org, admins[i], &[Role::User], &[], t).await.map(drop),
                1 => s.set_user_status(org, admins[i], true, t).await.map(drop),
                _ => {
                    s.delete_user(org, admins[i], &event(org, "user.deleted", None, Some(admins[i].uuid())), &[]).await
                }
            }
        })
        .await;
        one_winner(results, constraint::LAST_ADMINISTRATOR);
        let left = s.active_users_with_role(org, Role::Administrator).await.unwrap();
        assert_eq!(left.len(), 1, "round {round}: one active Administrator is left");
        assert!(admins.contains(&left[0].id));
        sole = Some(left[0].id);
    }
}

/// Six nodes claim thirty messages at once: each message is leased once.
async fn concurrent_claims_lease_each_message_once(store: Arc<dyn Store>) {
    let org = organization(&*store, "acme").await.id;
    let mut all = HashSet::new();
    for i in 0..30 {
        let message = mail(org, &format!("reader{i}@example.org"));
        store.insert_mail(&message).await.unwrap();
        all.insert(message.id);
    }
    let t = now() + minutes(1);
    let claims =
        race(&store, 6, move |s, _| async move { s.claim_mail(Uuid::new_v4(), t, t + minutes(5), 10).await.unwrap() })
            .await;
    let claimed: Vec<_> = claims.iter().flatten().map(|m| m.id).collect();
    let distinct: HashSet<_> = claimed.iter().copied().collect();
    assert_eq!(distinct.len(), claimed.len(), "no message leased twice");
    assert_eq!(distinct, all, "every due message leased");
}

/// Twenty nodes ask for one server secret at once, each with its own
/// candidate: all get the same value, one of the candidates.
async fn concurrent_nodes_agree_on_a_server_secret(store: Arc<dyn Store>) {
    let answers =
        race(&store, 20, |s, i| async move { s.server_secret("cursor", &[i as u8; 32]).await.unwrap() }).await;
    let distinct: HashSet<&Vec<u8>> = answers.iter().collect();
    assert_eq!(distinct.len(), 1, "every node gets the same secret");
    assert!((0..20u8).any(|i| answers[0] == vec![i; 32]), "one of the candidates");
    assert_eq!(store.server_secret("cursor", &[99; 32]).await.unwrap(), answers[0]);
}
