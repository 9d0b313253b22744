//! Deleting a user takes everything of theirs along, leaves other users
//! alone, and keeps the audit log about them.

use std::sync::Arc;

use usher_core::{
    invitations::Invitation,
    store::{AuditEvent, AuditQuery, LoginTicket, Store, TokenFilter, User},
};
use usher_domain::{AppId, AppRole, GroupId};

use crate::support::*;

/// What one user holds, to find again (or not) after a deletion.
struct Holdings {
    user: User,
    digests: Vec<Vec<u8>>,
    tokens: Vec<usher_domain::TokenId>,
    invitation: Invitation,
    events: Vec<AuditEvent>,
}

/// Gives `user` sessions, tokens, password history, a group, app roles,
/// two-step with recovery codes, a reset link, a sign-in ticket, an
/// invitation they sent and audit entries by and about them.
async fn hold(s: &dyn Store, root: &User, user: User, group: GroupId, app: AppId) -> Holdings {
    let name = user.user_id.clone();
    let t = now();
    let mut digests = Vec::new();
    for i in 0..2 {
        let digest = format!("{name}-session-{i}").into_bytes();
        s.insert_session(&session(user.id, &digest)).await.unwrap();
        digests.push(digest);
    }
    let mut tokens = Vec::new();
    for i in 0..2 {
        let token = api_token(&user, format!("{name}-token-{i}").as_bytes());
        s.insert_token(&token).await.unwrap();
        tokens.push(token.id);
    }
    s.set_password(user.id, &format!("{name}-second"), t, 5).await.unwrap();
    s.set_password(user.id, &format!("{name}-third"), t + minutes(1), 5).await.unwrap();
    s.add_group_member(group, user.id, t).await.unwrap();
    for role in AppRole::ALL {
        let mut holders: Vec<_> =
            s.app_people(app).await.unwrap().into_iter().filter(|(r, _)| *r == role).map(|(_, u)| u.id).collect();
        holders.push(user.id);
        s.set_app_people(app, role, &holders, t).await.unwrap();
    }
    s.put_pending_totp(user.id, b"sealed", t).await.unwrap();
    assert!(s.confirm_totp(user.id, 1, &[format!("{name}-code").into_bytes()], t).await.unwrap());
    s.insert_password_reset(format!("{name}-reset").as_bytes(), user.id, t, t + hours(1)).await.unwrap();
    let ticket = LoginTicket {
        digest: format!("{name}-ticket").into_bytes(),
        user: user.id,
        created_at: t,
        expires_at: t + minutes(5),
        attempts: 0,
    };
    s.insert_login_ticket(&ticket).await.unwrap();
    let invitation = Invitation {
        invited_by: Some(user.id),
        invited_by_name: Some(user.display_name()),
        ..invitation(user.org_id, &format!("friend-of-{name}@example.org"), format!("{name}-invitation").as_bytes())
    };
    invite(s, &invitation).await.unwrap();
    let events = vec![
        event(user.org_id, "user.updated", Some(&user), Some(root.id.uuid())),
        event(user.org_id, "password.changed", Some(root), Some(user.id.uuid())),
    ];
    for e in &events {
        s.append_audit(e).await.unwrap();
    }
    Holdings { user, digests, tokens, invitation, events }
}

/// Checks what `h.user` holds is all there (`kept`) or all gone.
async fn check(s: &dyn Store, h: &Holdings, group: GroupId, app: AppId, kept: bool) {
    let (u, name, t) = (&h.user, h.user.user_id.as_str(), now());
    assert_eq!(s.user(u.id).await.unwrap().is_some(), kept, "{name}: the user");
    assert_eq!(s.user_by_login(u.org_id, name).await.unwrap().is_some(), kept, "{name}: signing in");
    for digest in &h.digests {
        assert_eq!(s.session_by_digest(digest).await.unwrap().is_some(), kept, "{name}: a session");
    }
    let live = s.live_sessions(u.id, t, t - hours(1), None, 10).await.unwrap();
    assert_eq!(live.len(), if kept { 2 } else { 0 }, "{name}: live sessions");
    let tokens = s.tokens(u.id, TokenFilter::All, t, None, 10).await.unwrap();
    assert_eq!(tokens.len(), if kept { 2 } else { 0 }, "{name}: tokens");
    for id in &h.tokens {
        assert_eq!(s.token(u.id, *id).await.unwrap().is_some(), kept, "{name}: a token");
    }
    let digests: Vec<Vec<u8>> = (0..2).map(|i| format!("{name}-token-{i}").into_bytes()).collect();
    let refs: Vec<&[u8]> = digests.iter().map(Vec::as_slice).collect();
    assert_eq!(s.tokens_by_digests(&refs).await.unwrap().len(), if kept { 2 } else { 0 }, "{name}: tokens by digest");
    assert_eq!(s.password_history(u.id, 10).await.unwrap().len(), if kept { 2 } else { 0 }, "{name}: password history");
    let members = s.group_members(group, None, 100).await.unwrap();
    assert_eq!(members.iter().any(|m| m.id == u.id), kept, "{name}: group membership");
    assert_eq!(s.groups_of(u.id).await.unwrap().len(), usize::from(kept), "{name}: groups");
    let people = s.app_people(app).await.unwrap();
    assert_eq!(people.iter().filter(|(_, p)| p.id == u.id).count(), if kept { 2 } else { 0 }, "{name}: app people");
    assert_eq!(s.app_roles_on(u.id, app).await.unwrap().len(), if kept { 2 } else { 0 }, "{name}: app roles");
    assert_eq!(s.app_roles_of(u.id).await.unwrap().len(), if kept { 2 } else { 0 }, "{name}: app roles of");
    assert_eq!(s.totp(u.id).await.unwrap().is_some(), kept, "{name}: authenticator");
    assert_eq!(
        s.password_reset_user(format!("{name}-reset").as_bytes(), t).await.unwrap().is_some(),
        kept,
        "{name}: reset link"
    );
    assert_eq!(
        s.login_ticket(format!("{name}-ticket").as_bytes(), t).await.unwrap().is_some(),
        kept,
        "{name}: sign-in ticket"
    );
    assert_eq!(
        s.org_users(u.org_id, &[u.id]).await.unwrap().len(),
        usize::from(kept),
        "{name}: among the organization's users"
    );

    let sent = s.invitation(u.org_id, h.invitation.id).await.unwrap().expect("invitations outlive their inviter");
    assert_eq!(sent.invited_by_name, h.invitation.invited_by_name, "{name}: the inviter's name stays");
    let by = AuditQuery { actor_id: Some(u.id), limit: 100, ..AuditQuery::default() };
    assert!(s.audit_events(u.org_id, &by).await.unwrap().contains(&h.events[0]), "{name}: entries by them stay whole");
    assert_eq!(
        s.events_about(u.id, "password.changed", 10).await.unwrap(),
        [h.events[1].clone()],
        "{name}: entries about them stay whole"
    );
}

conformance!(deleting_a_user_takes_what_is_theirs_only,);

/// After a deletion the user's sessions, tokens, password history,
/// memberships, app roles, two-step, reset links and tickets are gone;
/// another user's are untouched; the audit log keeps every entry.
async fn deleting_a_user_takes_what_is_theirs_only(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let root = admin(s, org.id, "root").await;
    let group = insert_group(s, org.id, "Team").await;
    let app = insert_app(s, org.id, "CRM", Some(root.id)).await;
    let bob = user(s, org.id, "bob").await;
    let carol = user(s, org.id, "carol").await;
    let bob = hold(s, &root, bob, group.id, app.id).await;
    let carol = hold(s, &root, carol, group.id, app.id).await;
    check(s, &bob, group.id, app.id, true).await;
    check(s, &carol, group.id, app.id, true).await;
    let all = AuditQuery { limit: 100, ..AuditQuery::default() };
    let log = s.audit_events(org.id, &all).await.unwrap();

    let deleted = event(org.id, "user.deleted", Some(&root), Some(bob.user.id.uuid()));
    s.delete_user(org.id, bob.user.id, &deleted, &[]).await.unwrap();

    check(s, &bob, group.id, app.id, false).await;
    check(s, &carol, group.id, app.id, true).await;
    assert!(!s.use_recovery_code(bob.user.id, b"bob-code", now()).await.unwrap(), "bob's recovery codes are gone");
    assert!(s.use_recovery_code(carol.user.id, b"carol-code", now()).await.unwrap(), "carol's are not");
    assert_eq!(s.take_password_reset(b"bob-reset", now()).await.unwrap(), None);
    assert_eq!(s.group(org.id, group.id).await.unwrap().unwrap().member_count, 1);
    assert_eq!(s.app_roles_of(root.id).await.unwrap().len(), 1, "root keeps owning CRM");
    let after = s.audit_events(org.id, &all).await.unwrap();
    assert_eq!(after[0], deleted);
    assert_eq!(after[1..], log[..], "no entry changed or went");
}
