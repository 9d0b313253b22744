//! Invitations and password-reset links.

use std::sync::Arc;

use usher_core::{
    Store,
    conflict::constraint,
    invitations::{Invitation, InvitationStatus, NewInvitation},
    store::{AuditQuery, NewUser, Profile, UserStatus},
};
use usher_domain::{InvitationId, OrgId, Role};

use crate::support::*;

/// An invitation that expired yesterday.
fn expired(org_id: OrgId, email: &str, digest: &[u8]) -> Invitation {
    let t = now();
    Invitation { created_at: t - days(8), expires_at: t - days(1), ..invitation(org_id, email, digest) }
}

conformance!(
    invitations_read_back_with_entry_and_email,
    one_invitation_per_address_is_pending,
    invitations_are_withdrawn_and_renewed,
    invitations_are_taken_once,
    invitations_are_listed_newest_first,
    reset_links_are_taken_once_for_all,
);

/// An invitation is read back by id and by digest (with its
/// organization), written with its audit entry and email.
async fn invitations_read_back_with_entry_and_email(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let other = organization(s, "other").await;
    let admin = admin(s, org.id, "admin").await;
    let invited = Invitation {
        roles: vec![Role::UserManager, Role::User],
        invited_by: Some(admin.id),
        invited_by_name: Some("The Admin".into()),
        ..invitation(org.id, "New.Person@Example.org", b"link")
    };
    let entry = event(org.id, "invitation.created", Some(&admin), Some(invited.id.uuid()));
    let letter = mail(org.id, "New.Person@Example.org");
    let write =
        NewInvitation { invitation: &invited, now: now(), replace_pending: false, event: &entry, mail: Some(&letter) };
    s.insert_invitation(&write).await.unwrap();

    assert_eq!(s.invitation(org.id, invited.id).await.unwrap(), Some(invited.clone()));
    assert_eq!(s.invitation(other.id, invited.id).await.unwrap(), None);
    assert_eq!(s.invitation(org.id, InvitationId::generate()).await.unwrap(), None);
    assert_eq!(s.invitation_by_digest(b"link").await.unwrap(), Some((invited.clone(), org.clone())));
    assert_eq!(s.invitation_by_digest(b"unknown").await.unwrap(), None);
    let all = AuditQuery { limit: 10, ..AuditQuery::default() };
    assert_eq!(s.audit_events(org.id, &all).await.unwrap(), [entry]);
    let sent = s.claim_mail(uuid::Uuid::new_v4(), now() + minutes(1), now() + minutes(5), 10).await.unwrap();
    assert_eq!(sent, [letter]);
}

/// One invitation per address is pending in an organization (by email
/// key); an expired one stops counting, and a replacing write closes the
/// pending one.
async fn one_invitation_per_address_is_pending(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let other = organization(s, "other").await;
    invite(s, &invitation(org.id, "a@example.org", b"a1")).await.unwrap();
    let again = invitation(org.id, "A@Example.org", b"a2");
    assert_eq!(conflict(invite(s, &again).await), constraint::INVITATION_PENDING);
    assert_eq!(s.invitation(org.id, again.id).await.unwrap(), None);
    invite(s, &invitation(other.id, "a@example.org", b"a3")).await.unwrap();

    let old = expired(org.id, "b@example.org", b"b1");
    invite(s, &old).await.unwrap();
    invite(s, &invitation(org.id, "b@example.org", b"b2")).await.unwrap();
    assert_eq!(s.take_invitation(b"b1", now()).await.unwrap(), None);

    let first = invitation(org.id, "c@example.org", b"c1");
    invite(s, &first).await.unwrap();
    let replacing = invitation(org.id, "c@example.org", b"c2");
    let entry = event(org.id, "invitation.created", None, Some(replacing.id.uuid()));
    let write = NewInvitation { invitation: &replacing, now: now(), replace_pending: true, event: &entry, mail: None };
    s.insert_invitation(&write).await.unwrap();
    let closed = s.invitation(org.id, first.id).await.unwrap().unwrap();
    assert_ne!(InvitationStatus::of(&closed, now()), InvitationStatus::Pending, "the replaced invitation is closed");
    assert_eq!(s.take_invitation(b"c1", now()).await.unwrap(), None);
    assert_eq!(s.take_invitation(b"c2", now()).await.unwrap().map(|i| i.id), Some(replacing.id));
}

/// Withdrawing works once on an open invitation; renewing gives an open
/// one a new secret, expiry and roles, unless another of the address is pending.
async fn invitations_are_withdrawn_and_renewed(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let other = organization(s, "other").await;
    let doomed = invitation(org.id, "doomed@example.org", b"doomed");
    invite(s, &doomed).await.unwrap();
    let t = now();
    assert!(!s.withdraw_invitation(other.id, doomed.id, t).await.unwrap(), "another organization's");
    assert!(s.withdraw_invitation(org.id, doomed.id, t).await.unwrap());
    assert_eq!(s.invitation(org.id, doomed.id).await.unwrap().unwrap().withdrawn_at, Some(t));
    assert!(!s.withdraw_invitation(org.id, doomed.id, t).await.unwrap(), "already withdrawn");
    assert_eq!(s.take_invitation(b"doomed", t).await.unwrap(), None);
    assert!(!s.renew_invitation(org.id, doomed.id, b"doomed2", t + days(7), &[Role::User]).await.unwrap());

    let open = invitation(org.id, "open@example.org", b"open");
    invite(s, &open).await.unwrap();
    let expires = t + days(14);
    assert!(s.renew_invitation(org.id, open.id, b"renewed", expires, &[Role::Developer]).await.unwrap());
    let renewed =
        Invitation { digest: b"renewed".to_vec(), expires_at: expires, roles: vec![Role::Developer], ..open.clone() };
    assert_eq!(s.invitation(org.id, open.id).await.unwrap(), Some(renewed));
    assert_eq!(s.invitation_by_digest(b"open").await.unwrap(), None, "the old secret is void");

    let lapsed = expired(org.id, "late@example.org", b"lapsed");
    invite(s, &lapsed).await.unwrap();
    assert!(
        s.renew_invitation(org.id, lapsed.id, b"lapsed2", expires, &[Role::User]).await.unwrap(),
        "an expired one is renewed"
    );
    let lapsed_again = expired(org.id, "twice@example.org", b"t1");
    invite(s, &lapsed_again).await.unwrap();
    invite(s, &invitation(org.id, "twice@example.org", b"t2")).await.unwrap();
    let refused = s.renew_invitation(org.id, lapsed_again.id, b"t3", expires, &[Role::User]).await;
    assert_eq!(conflict(refused), constraint::INVITATION_PENDING);
    assert_eq!(s.invitation(org.id, lapsed_again.id).await.unwrap(), Some(lapsed_again));

    assert!(s.take_invitation(b"renewed", t).await.unwrap().is_some());
    assert!(!s.withdraw_invitation(org.id, open.id, t).await.unwrap(), "accepted");
    assert!(!s.renew_invitation(org.id, open.id, b"x", expires, &[Role::User]).await.unwrap(), "accepted");
}

/// A link is taken once while pending and unexpired, released when the
/// registration fails, and the user it made is recorded; an invited
/// account is completed once.
async fn invitations_are_taken_once(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let pending = invitation(org.id, "p@example.org", b"p");
    invite(s, &pending).await.unwrap();
    let t = now();
    let taken = s.take_invitation(b"p", t).await.unwrap().expect("taken");
    assert_eq!(taken, Invitation { accepted_at: Some(t), ..pending.clone() });
    assert_eq!(s.take_invitation(b"p", t).await.unwrap(), None, "taken once");
    assert_eq!(s.take_invitation(b"unknown", t).await.unwrap(), None);
    let lapsed = expired(org.id, "e@example.org", b"e");
    invite(s, &lapsed).await.unwrap();
    assert_eq!(s.take_invitation(b"e", t).await.unwrap(), None, "expired");

    s.release_invitation(pending.id).await.unwrap();
    assert_eq!(s.invitation(org.id, pending.id).await.unwrap(), Some(pending.clone()), "pending again");
    assert_eq!(s.take_invitation(b"p", t).await.unwrap().map(|i| i.id), Some(pending.id));
    let newcomer = user(s, org.id, "newcomer").await;
    s.set_invitation_user(pending.id, newcomer.id).await.unwrap();
    let got = s.invitation(org.id, pending.id).await.unwrap().unwrap();
    assert_eq!((got.accepted_at, got.accepted_user), (Some(t), Some(newcomer.id)));

    let mut invited =
        insert(s, NewUser { status: UserStatus::Invited, password_hash: None, ..new_user(org.id, "invited") }).await;
    let filled = Profile {
        first_name: Some("Ina".into()),
        last_name: Some("Vited".into()),
        phone: Some("+44 20 7946 0000".into()),
        ..invited.profile.clone()
    };
    let at = t + minutes(1);
    assert!(s.activate_invited_user(invited.id, &filled, "first-hash", at).await.unwrap());
    (invited.profile, invited.status, invited.password_changed_at, invited.updated_at) =
        (filled.clone(), UserStatus::Active, Some(at), at);
    assert_user(&reload(s, invited.id).await, &invited);
    assert_eq!(s.password_hash(invited.id).await.unwrap().as_deref(), Some("first-hash"));
    assert!(!s.activate_invited_user(invited.id, &filled, "second-hash", at).await.unwrap(), "no longer invited");
    assert!(!s.activate_invited_user(newcomer.id, &filled, "x", at).await.unwrap(), "an active user is not");
    assert_eq!(s.password_hash(invited.id).await.unwrap().as_deref(), Some("first-hash"));
}

/// An organization's invitations, newest first, paged by id.
async fn invitations_are_listed_newest_first(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let other = organization(s, "other").await;
    let mut made = Vec::new();
    for i in 0..5 {
        let one = invitation(org.id, &format!("user{i}@example.org"), format!("d{i}").as_bytes());
        invite(s, &one).await.unwrap();
        made.push(one);
    }
    invite(s, &invitation(other.id, "stray@example.org", b"stray")).await.unwrap();
    made.reverse();

    assert_eq!(s.invitations_page(org.id, None, 10).await.unwrap(), made);
    assert_eq!(s.invitations_page(org.id, None, 2).await.unwrap(), made[..2]);
    assert_eq!(s.invitations_page(org.id, Some(made[1].id), 2).await.unwrap(), made[2..4]);
    assert!(s.invitations_page(org.id, Some(made[4].id), 2).await.unwrap().is_empty());
    assert_eq!(s.invitations_page(other.id, None, 10).await.unwrap().len(), 1);
}

/// Reset links are counted, looked at, and taken once: taking one voids
/// every other link of its user.
async fn reset_links_are_taken_once_for_all(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let alice = user(s, org.id, "alice").await;
    let bob = user(s, org.id, "bob").await;
    let t = now();
    for (digest, age) in [(b"r1", 120), (b"r2", 60), (b"r3", 0)] {
        let sent = t - minutes(age);
        s.insert_password_reset(digest, alice.id, sent, sent + hours(3)).await.unwrap();
    }
    s.insert_password_reset(b"old", alice.id, t - hours(5), t - hours(2)).await.unwrap();
    s.insert_password_reset(b"bob", bob.id, t, t + hours(1)).await.unwrap();

    assert_eq!(s.count_password_resets(alice.id, t - minutes(90)).await.unwrap(), 2);
    assert_eq!(s.count_password_resets(alice.id, t - hours(6)).await.unwrap(), 4);
    assert_eq!(s.count_password_resets(alice.id, t).await.unwrap(), 1, "since is inclusive");
    assert_eq!(s.password_reset_user(b"r1", t).await.unwrap(), Some(alice.id));
    assert_eq!(s.password_reset_user(b"r1", t).await.unwrap(), Some(alice.id), "looking does not use it");
    assert_eq!(s.password_reset_user(b"old", t).await.unwrap(), None, "expired");
    assert_eq!(s.password_reset_user(b"nope", t).await.unwrap(), None);
    assert_eq!(s.take_password_reset(b"old", t).await.unwrap(), None);

    assert_eq!(s.take_password_reset(b"r2", t).await.unwrap(), Some(alice.id));
    assert_eq!(s.take_password_reset(b"r2", t).await.unwrap(), None, "taken once");
    assert_eq!(s.password_reset_user(b"r1", t).await.unwrap(), None, "the user's other links are void");
    assert_eq!(s.take_password_reset(b"r3", t).await.unwrap(), None);
    assert_eq!(s.password_reset_user(b"bob", t).await.unwrap(), Some(bob.id), "other users' links stay");
    assert_eq!(s.count_password_resets(alice.id, t - hours(6)).await.unwrap(), 4, "used links were still sent");
}
