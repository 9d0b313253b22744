//! Users: their rows, look-ups, profiles, custom metadata, status, deletion
//! and passwords.

use std::sync::Arc;

use serde_json::json;
use usher_core::{
    Store,
    conflict::constraint,
    invitations::NewInvitation,
    metadata::{Metadata, search_entries},
    store::{AuditQuery, NewUser, Profile, UserStatus},
};
use usher_domain::{Language, Role, TimeZone, UserId};

use crate::support::*;

fn full_profile() -> Profile {
    Profile {
        first_name: Some("Alice".into()),
        last_name: Some("Liddell".into()),
        phone: Some("+33 1 23 45 67 89".into()),
        contact_person: Some("The Queen".into()),
        company: Some("Wonderland".into()),
        language: Language::Fr,
        timezone: TimeZone::parse("Europe/Paris").unwrap(),
    }
}

fn metadata(value: serde_json::Value) -> Metadata {
    value.as_object().expect("an object").clone()
}

conformance!(
    inserted_users_read_back,
    user_ids_and_emails_are_unique_per_organization,
    sign_in_names_find_user_ids_before_emails,
    users_page_walks_user_id_order,
    profiles_and_metadata_are_saved,
    created_users_come_with_everything_or_nothing,
    role_holders_are_counted_and_the_active_listed,
    status_changes_keep_an_administrator,
    deletion_keeps_an_administrator,
    passwords_keep_their_history,
);

/// What is inserted is read back, every field; unknown ids are `None`.
async fn inserted_users_read_back(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let alice = insert(
        s,
        NewUser { profile: full_profile(), roles: vec![Role::Administrator, Role::User], ..new_user(org.id, "Alice") },
    )
    .await;
    let carol = insert(
        s,
        NewUser {
            email: None,
            email_key: None,
            profile: Profile::default(),
            status: UserStatus::Invited,
            roles: vec![],
            password_hash: None,
            ..new_user(org.id, "carol")
        },
    )
    .await;

    assert_user(&reload(s, alice.id).await, &alice);
    let got = reload(s, carol.id).await;
    assert_user(&got, &carol);
    assert_eq!((got.password_changed_at, got.roles.len()), (None, 0), "no password, no roles");
    assert!(s.user(UserId::generate()).await.unwrap().is_none());

    assert_eq!(s.password_hash(alice.id).await.unwrap().as_deref(), Some("hash-Alice"));
    assert_eq!(s.password_hash(carol.id).await.unwrap(), None);
    assert_eq!(s.password_hash(UserId::generate()).await.unwrap(), None);
}

/// User IDs and emails are unique in an organization, by their keys (case
/// does not matter); a refused insert leaves nothing; another organization
/// may use them.
async fn user_ids_and_emails_are_unique_per_organization(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let other = organization(s, "other").await;
    user(s, org.id, "alice").await;

    let same_id = new_user(org.id, "ALICE");
    let same_id = NewUser { email: Some("x@example.org".into()), email_key: Some("x@example.org".into()), ..same_id };
    assert_eq!(conflict(s.insert_user(&same_id).await), constraint::USER_ID);
    let same_email = NewUser {
        email: Some("ALICE@Example.org".into()),
        email_key: Some("alice@example.org".into()),
        ..new_user(org.id, "dave")
    };
    assert_eq!(conflict(s.insert_user(&same_email).await), constraint::EMAIL);
    for refused in [&same_id, &same_email] {
        assert!(s.user(refused.id).await.unwrap().is_none(), "a refused insert leaves no user");
    }
    assert!(s.user_by_login(org.id, "dave").await.unwrap().is_none());
    assert_eq!(user_ids(&s.users_page(org.id, None, 10).await.unwrap()), ["alice"]);

    let elsewhere = user(s, other.id, "alice").await;
    assert_user(&reload(s, elsewhere.id).await, &elsewhere);
}

/// A sign-in name finds the user with that user ID key, or else the one with
/// that email key, in one organization, with the password hash.
async fn sign_in_names_find_user_ids_before_emails(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let other = organization(s, "other").await;
    let alice = insert(
        s,
        NewUser {
            email: Some("Shared@Example.org".into()),
            email_key: Some("shared@example.org".into()),
            ..new_user(org.id, "Alice")
        },
    )
    .await;
    let bob = insert(
        s,
        NewUser { email: None, email_key: None, password_hash: None, ..new_user(org.id, "shared@example.org") },
    )
    .await;
    let carol = user(s, org.id, "carol").await;

    let (found, hash) = s.user_by_login(org.id, "alice").await.unwrap().expect("found by user ID");
    assert_user(&found, &alice);
    assert_eq!(hash.as_deref(), Some("hash-Alice"));
    let (found, hash) = s.user_by_login(org.id, "carol@example.org").await.unwrap().expect("found by email");
    assert_eq!((found.id, hash.as_deref()), (carol.id, Some("hash-carol")));
    let (found, hash) = s.user_by_login(org.id, "shared@example.org").await.unwrap().expect("found");
    assert_eq!((found.id, hash), (bob.id, None), "a user ID wins over another user's email");
    assert!(s.user_by_login(org.id, "nobody").await.unwrap().is_none());
    assert!(s.user_by_login(other.id, "alice").await.unwrap().is_none(), "another organization's users are not found");
}

/// Users come in user-ID key order, after a key, at most `limit`, from one organization.
async fn users_page_walks_user_id_order(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let other = organization(s, "other").await;
    for name in ["delta", "alpha", "Charlie", "bravo"] {
        user(s, org.id, name).await;
    }
    user(s, other.id, "aaron").await;

    assert_eq!(user_ids(&s.users_page(org.id, None, 10).await.unwrap()), ["alpha", "bravo", "Charlie", "delta"]);
    assert_eq!(user_ids(&s.users_page(org.id, None, 2).await.unwrap()), ["alpha", "bravo"]);
    assert_eq!(user_ids(&s.users_page(org.id, Some("bravo"), 2).await.unwrap()), ["Charlie", "delta"]);
    assert_eq!(user_ids(&s.users_page(org.id, Some("c"), 1).await.unwrap()), ["Charlie"]);
    assert!(s.users_page(org.id, Some("delta"), 2).await.unwrap().is_empty());
    assert_eq!(user_ids(&s.users_page(other.id, None, 10).await.unwrap()), ["aaron"]);
}

/// Profiles and custom metadata are saved (with the change time) for users
/// of the organization only.
async fn profiles_and_metadata_are_saved(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let other = organization(s, "other").await;
    let mut alice = user(s, org.id, "alice").await;

    let t1 = now() + minutes(1);
    s.update_profile(alice.id, &full_profile(), t1).await.unwrap();
    (alice.profile, alice.updated_at) = (full_profile(), t1);
    assert_user(&reload(s, alice.id).await, &alice);
    assert_not_found(s.update_profile(UserId::generate(), &full_profile(), t1).await);

    let values = metadata(json!({"department": "Sales", "badge": 42, "remote": true}));
    let t2 = t1 + minutes(1);
    s.set_user_metadata(org.id, alice.id, None, &values, &search_entries(&values), t2).await.unwrap();
    (alice.metadata, alice.updated_at) = (values, t2);
    assert_user(&reload(s, alice.id).await, &alice);

    let fewer = metadata(json!({"department": "Support"}));
    let renamed = Profile { first_name: Some("Alicia".into()), ..full_profile() };
    let t3 = t2 + minutes(1);
    s.set_user_metadata(org.id, alice.id, Some(&renamed), &fewer, &search_entries(&fewer), t3).await.unwrap();
    (alice.metadata, alice.profile, alice.updated_at) = (fewer, renamed, t3);
    assert_user(&reload(s, alice.id).await, &alice);

    let stray = metadata(json!({"department": "Stray"}));
    let refused = s.set_user_metadata(other.id, alice.id, None, &stray, &search_entries(&stray), t3 + minutes(1)).await;
    assert_not_found(refused);
    assert_user(&reload(s, alice.id).await, &alice);
}

/// An administrator's new user is written with its metadata, audit entry
/// and invitation (with its entry and email) together, or not at all.
async fn created_users_come_with_everything_or_nothing(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let admin = admin(s, org.id, "admin").await;

    let new = NewUser { status: UserStatus::Invited, password_hash: None, ..new_user(org.id, "newcomer") };
    let values = metadata(json!({"department": "Sales"}));
    let created = event(org.id, "user.created", Some(&admin), Some(new.id.uuid()));
    let mut invited = invitation(org.id, "newcomer@example.org", b"newcomer-link");
    (invited.user, invited.invited_by, invited.invited_by_name) = (Some(new.id), Some(admin.id), Some("Admin".into()));
    let invited_event = event(org.id, "invitation.created", Some(&admin), Some(invited.id.uuid()));
    let letter = mail(org.id, "newcomer@example.org");
    let write = NewInvitation {
        invitation: &invited,
        now: now(),
        replace_pending: false,
        event: &invited_event,
        mail: Some(&letter),
    };
    s.create_user(&new, Some((&values, &search_entries(&values))), &created, Some(&write)).await.unwrap();

    assert_user(&reload(s, new.id).await, &new.to_user(values));
    assert_eq!(s.invitation(org.id, invited.id).await.unwrap(), Some(invited.clone()));
    let all = AuditQuery { limit: 10, ..AuditQuery::default() };
    assert_eq!(s.audit_events(org.id, &all).await.unwrap(), [invited_event.clone(), created.clone()]);
    let leased = s.claim_mail(uuid::Uuid::new_v4(), now() + minutes(1), now() + minutes(5), 10).await.unwrap();
    assert_eq!(leased, [letter]);

    // A second invitation of the same address is refused: its user is not created either.
    let second = NewUser {
        email: Some("second@example.org".into()),
        email_key: Some("second@example.org".into()),
        ..new_user(org.id, "second")
    };
    let second_event = event(org.id, "user.created", Some(&admin), Some(second.id.uuid()));
    let again = invitation(org.id, "Newcomer@example.org", b"second-link");
    let again_event = event(org.id, "invitation.created", Some(&admin), Some(again.id.uuid()));
    let write =
        NewInvitation { invitation: &again, now: now(), replace_pending: false, event: &again_event, mail: None };
    let refused = s.create_user(&second, None, &second_event, Some(&write)).await;
    assert_eq!(conflict(refused), constraint::INVITATION_PENDING);
    assert!(s.user(second.id).await.unwrap().is_none(), "no user without their invitation");
    assert!(s.invitation(org.id, again.id).await.unwrap().is_none());

    // A taken user ID: nothing is written, not even the audit entry.
    let taken = new_user(org.id, "NEWCOMER");
    let taken = NewUser { email: None, email_key: None, ..taken };
    let taken_event = event(org.id, "user.created", Some(&admin), Some(taken.id.uuid()));
    assert_eq!(conflict(s.create_user(&taken, None, &taken_event, None).await), constraint::USER_ID);
    assert_eq!(s.audit_events(org.id, &all).await.unwrap(), [invited_event, created], "refused writes leave no entry");

    let plain = new_user(org.id, "plain");
    s.create_user(&plain, None, &event(org.id, "user.created", Some(&admin), None), None).await.unwrap();
    assert_user(&reload(s, plain.id).await, &plain.to_user(Metadata::new()));
}

/// Users holding a role are counted whatever their status; the active
/// ones are listed.
async fn role_holders_are_counted_and_the_active_listed(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let other = organization(s, "other").await;
    admin(s, org.id, "root").await;
    insert(s, NewUser { status: UserStatus::Disabled, roles: vec![Role::Administrator], ..new_user(org.id, "gone") })
        .await;
    let um = insert(s, NewUser { roles: vec![Role::UserManager, Role::User], ..new_user(org.id, "manager") }).await;
    let later = insert(s, NewUser { roles: vec![Role::UserManager], ..new_user(org.id, "boss") }).await;
    insert(
        s,
        NewUser {
            status: UserStatus::Invited,
            password_hash: None,
            roles: vec![Role::UserManager],
            ..new_user(org.id, "pending")
        },
    )
    .await;
    admin(s, other.id, "elsewhere").await;

    assert_eq!(s.count_users_with_role(org.id, Role::Administrator).await.unwrap(), 2);
    assert_eq!(s.count_users_with_role(org.id, Role::UserManager).await.unwrap(), 3);
    assert_eq!(s.count_users_with_role(org.id, Role::User).await.unwrap(), 1);
    assert_eq!(s.count_users_with_role(org.id, Role::Developer).await.unwrap(), 0);
    assert_eq!(s.count_users_with_role(other.id, Role::Administrator).await.unwrap(), 1);

    let mut managers = s.active_users_with_role(org.id, Role::UserManager).await.unwrap();
    managers.sort_by(|a, b| a.user_id.cmp(&b.user_id));
    assert_eq!(managers.len(), 2);
    assert_user(&managers[0], &later);
    assert_user(&managers[1], &um);
    assert_eq!(user_ids(&s.active_users_with_role(org.id, Role::Administrator).await.unwrap()), ["root"]);
    assert!(s.active_users_with_role(org.id, Role::Developer).await.unwrap().is_empty());
}

/// Disabling ends the user's sessions; enabling makes them active, or
/// invited without a password; the last active Administrator stays.
async fn status_changes_keep_an_administrator(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let other = organization(s, "other").await;
    let root = admin(s, org.id, "root").await;
    let bob = user(s, org.id, "bob").await;
    let invited =
        insert(s, NewUser { status: UserStatus::Invited, password_hash: None, ..new_user(org.id, "invited") }).await;
    for digest in [b"bob-1", b"bob-2"] {
        s.insert_session(&session(bob.id, digest)).await.unwrap();
    }

    let t = now() + minutes(1);
    assert_eq!(s.set_user_status(org.id, bob.id, true, t).await.unwrap(), 2, "both sessions ended");
    let got = reload(s, bob.id).await;
    assert_eq!((got.status, got.updated_at), (UserStatus::Disabled, t));
    assert!(s.session_by_digest(b"bob-1").await.unwrap().is_none());
    assert_eq!(s.set_user_status(org.id, bob.id, true, t).await.unwrap(), 0, "disabled again, no session left");
    assert_eq!(s.set_user_status(org.id, bob.id, false, t).await.unwrap(), 0);
    assert_eq!(reload(s, bob.id).await.status, UserStatus::Active);
    s.set_user_status(org.id, invited.id, true, t).await.unwrap();
    s.set_user_status(org.id, invited.id, false, t).await.unwrap();
    assert_eq!(reload(s, invited.id).await.status, UserStatus::Invited, "no password: invited again");

    assert_eq!(conflict(s.set_user_status(org.id, root.id, true, t).await), constraint::LAST_ADMINISTRATOR);
    assert_eq!(reload(s, root.id).await.status, UserStatus::Active, "a refused change changes nothing");
    let second = admin(s, org.id, "second").await;
    s.set_user_status(org.id, root.id, true, t).await.unwrap();
    assert_eq!(
        conflict(s.set_user_status(org.id, second.id, true, t).await),
        constraint::LAST_ADMINISTRATOR,
        "a disabled Administrator does not count"
    );
    s.set_user_status(org.id, root.id, false, t).await.unwrap();
    s.set_user_status(org.id, second.id, true, t).await.unwrap();

    for disable in [true, false] {
        assert_not_found(s.set_user_status(org.id, UserId::generate(), disable, t).await);
        assert_not_found(s.set_user_status(other.id, bob.id, disable, t).await);
    }
    assert_eq!(reload(s, bob.id).await.status, UserStatus::Active);
}

/// Deleting writes the audit entry and notices with it, refuses the last
/// Administrator, and finds only users of the organization.
async fn deletion_keeps_an_administrator(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let other = organization(s, "other").await;
    let root = admin(s, org.id, "root").await;
    let bob = user(s, org.id, "bob").await;
    let refused = event(org.id, "user.deleted", Some(&root), Some(root.id.uuid()));
    assert_eq!(conflict(s.delete_user(org.id, root.id, &refused, &[]).await), constraint::LAST_ADMINISTRATOR);
    assert_user(&reload(s, root.id).await, &root);

    let foreign = event(other.id, "user.deleted", None, Some(bob.id.uuid()));
    assert_not_found(s.delete_user(other.id, bob.id, &foreign, &[]).await);
    assert_user(&reload(s, bob.id).await, &bob);

    let deleted = event(org.id, "user.deleted", Some(&root), Some(bob.id.uuid()));
    let notices = [mail(org.id, "root@example.org"), mail(org.id, "bob@example.org")];
    s.delete_user(org.id, bob.id, &deleted, &notices).await.unwrap();
    assert!(s.user(bob.id).await.unwrap().is_none());
    assert_not_found(s.delete_user(org.id, bob.id, &deleted, &[]).await);
    let all = AuditQuery { limit: 10, ..AuditQuery::default() };
    assert_eq!(s.audit_events(org.id, &all).await.unwrap(), [deleted], "only the done deletion is logged");
    let mut sent = s.claim_mail(uuid::Uuid::new_v4(), now() + minutes(1), now() + minutes(5), 10).await.unwrap();
    sent.sort_by_key(|m| m.id);
    assert_eq!(sent, notices);
}

/// A new password pushes the previous one into the history, which keeps
/// `keep` entries; a temporary one also ends the sessions and makes the
/// user change it; an upgrade replaces only a hash still current.
async fn passwords_keep_their_history(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let alice = user(s, org.id, "alice").await;
    let t = now();

    s.require_password_change(alice.id, t).await.unwrap();
    let got = reload(s, alice.id).await;
    assert_eq!((got.must_change_password, got.updated_at), (true, t));
    for (i, hash) in ["h1", "h2", "h3", "h4"].into_iter().enumerate() {
        s.set_password(alice.id, hash, t + minutes(i as i64 + 1), 2).await.unwrap();
    }
    assert_eq!(s.password_hash(alice.id).await.unwrap().as_deref(), Some("h4"));
    assert_eq!(s.password_history(alice.id, 10).await.unwrap(), ["h3", "h2"], "newest first, `keep` of them");
    assert_eq!(s.password_history(alice.id, 1).await.unwrap(), ["h3"]);
    let got = reload(s, alice.id).await;
    assert!(!got.must_change_password, "a new password clears the flag");
    assert_eq!((got.password_changed_at, got.updated_at), (Some(t + minutes(4)), t + minutes(4)));

    assert!(!s.upgrade_password_hash(alice.id, "h3", "h3-strong").await.unwrap(), "not the current hash");
    assert!(s.upgrade_password_hash(alice.id, "h4", "h4-strong").await.unwrap());
    assert!(!s.upgrade_password_hash(alice.id, "h4", "h4-other").await.unwrap(), "already upgraded");
    assert_eq!(s.password_hash(alice.id).await.unwrap().as_deref(), Some("h4-strong"));
    assert_eq!(s.password_history(alice.id, 10).await.unwrap(), ["h3", "h2"], "an upgrade is not a change");
    assert_eq!(reload(s, alice.id).await.password_changed_at, Some(t + minutes(4)));

    for digest in [b"alice-1", b"alice-2"] {
        s.insert_session(&session(alice.id, digest)).await.unwrap();
    }
    let t5 = t + minutes(5);
    assert_eq!(s.set_temporary_password(alice.id, "temp", t5, 2).await.unwrap(), 2, "both sessions ended");
    assert!(s.session_by_digest(b"alice-2").await.unwrap().is_none());
    assert_eq!(s.password_history(alice.id, 10).await.unwrap(), ["h4-strong", "h3"]);
    let got = reload(s, alice.id).await;
    assert_eq!((got.must_change_password, got.password_changed_at, got.updated_at), (true, Some(t5), t5));
    assert_eq!(s.password_hash(alice.id).await.unwrap().as_deref(), Some("temp"));

    let carol =
        insert(s, NewUser { status: UserStatus::Invited, password_hash: None, ..new_user(org.id, "carol") }).await;
    assert_eq!(s.set_temporary_password(carol.id, "first", t5, 5).await.unwrap(), 0);
    let got = reload(s, carol.id).await;
    assert_eq!((got.status, got.must_change_password), (UserStatus::Active, true), "an invited user becomes active");
    assert!(s.password_history(carol.id, 5).await.unwrap().is_empty(), "no previous hash, no history");
    let dave = insert(s, NewUser { password_hash: None, ..new_user(org.id, "dave") }).await;
    s.set_password(dave.id, "d1", t5, 5).await.unwrap();
    assert!(s.password_history(dave.id, 5).await.unwrap().is_empty());
    assert_not_found(s.set_temporary_password(UserId::generate(), "x", t5, 5).await);
}
