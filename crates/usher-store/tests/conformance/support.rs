//! Records built with the core's own types, and the checks the tests share.

use std::{fmt::Debug, future::Future, sync::Arc};

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use tokio::{sync::Barrier, task::JoinSet};
use usher_core::{
    Store, StoreError,
    access::{App, Group},
    invitations::{Invitation, NewInvitation},
    mail::{Mail, OutboxMessage},
    metadata::Metadata,
    store::{ApiToken, AuditEvent, NewUser, Organization, Profile, Session, StoreResult, User, UserStatus},
};
use usher_domain::{
    AppId, EventId, GroupId, InvitationId, OrgId, Role, SessionId, TokenId, UserId, fold, identifier_key,
};
use uuid::Uuid;

/// A time at the precision both engines keep (PostgreSQL's microseconds).
pub fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).expect("a representable time")
}

/// Now, at the precision both engines keep.
pub fn now() -> DateTime<Utc> {
    micros(Utc::now())
}

pub fn minutes(n: i64) -> Duration {
    Duration::minutes(n)
}

pub fn hours(n: i64) -> Duration {
    Duration::hours(n)
}

pub fn days(n: i64) -> Duration {
    Duration::days(n)
}

/// Inserts an organization named after its slug.
pub async fn organization(store: &dyn Store, slug: &str) -> Organization {
    let org =
        Organization { id: OrgId::generate(), slug: slug.to_owned(), name: format!("Org {slug}"), created_at: now() };
    store.insert_organization(&org).await.expect("insert the organization");
    org
}

/// An active User with an email address, names and a password hash.
pub fn new_user(org_id: OrgId, user_id: &str) -> NewUser {
    let email = format!("{user_id}@example.org");
    NewUser {
        id: UserId::generate(),
        org_id,
        user_id: user_id.to_owned(),
        user_id_key: identifier_key(user_id),
        email_key: Some(identifier_key(&email)),
        email: Some(email),
        profile: Profile {
            first_name: Some(format!("First {user_id}")),
            last_name: Some(format!("Last {user_id}")),
            ..Profile::default()
        },
        status: UserStatus::Active,
        roles: vec![Role::User],
        password_hash: Some(format!("hash-{user_id}")),
        created_at: now(),
    }
}

/// Inserts a user and answers them as the store should hold them.
pub async fn insert(store: &dyn Store, new: NewUser) -> User {
    store.insert_user(&new).await.unwrap_or_else(|e| panic!("insert user {}: {e:?}", new.user_id));
    new.to_user(Metadata::new())
}

/// Inserts an active User of `org_id` (see [`new_user`]).
pub async fn user(store: &dyn Store, org_id: OrgId, user_id: &str) -> User {
    insert(store, new_user(org_id, user_id)).await
}

/// Inserts an active Administrator of `org_id`.
pub async fn admin(store: &dyn Store, org_id: OrgId, user_id: &str) -> User {
    insert(store, NewUser { roles: vec![Role::Administrator], ..new_user(org_id, user_id) }).await
}

/// Checks that a stored user is the expected one, field by field (roles as a set).
#[track_caller]
pub fn assert_user(got: &User, want: &User) {
    assert_eq!(got.id, want.id, "id of {}", want.user_id);
    assert_eq!(got.org_id, want.org_id, "org_id of {}", want.user_id);
    assert_eq!(got.user_id, want.user_id);
    assert_eq!(got.email, want.email, "email of {}", want.user_id);
    assert_eq!(got.profile, want.profile, "profile of {}", want.user_id);
    assert_eq!(got.status, want.status, "status of {}", want.user_id);
    assert_eq!(sorted(got.roles.clone()), sorted(want.roles.clone()), "roles of {}", want.user_id);
    assert_eq!(got.must_change_password, want.must_change_password, "must_change_password of {}", want.user_id);
    assert_eq!(got.password_changed_at, want.password_changed_at, "password_changed_at of {}", want.user_id);
    assert_eq!(got.created_at, want.created_at, "created_at of {}", want.user_id);
    assert_eq!(got.updated_at, want.updated_at, "updated_at of {}", want.user_id);
    assert_eq!(got.last_login_at, want.last_login_at, "last_login_at of {}", want.user_id);
    assert_eq!(got.metadata, want.metadata, "metadata of {}", want.user_id);
}

/// The user as stored now (which must exist).
pub async fn reload(store: &dyn Store, id: UserId) -> User {
    store.user(id).await.expect("read the user").expect("the user exists")
}

pub fn sorted<T: Ord>(mut items: Vec<T>) -> Vec<T> {
    items.sort();
    items
}

/// The user IDs of users, in the order given.
pub fn user_ids(users: &[User]) -> Vec<&str> {
    users.iter().map(|u| u.user_id.as_str()).collect()
}

/// An audit entry of `org_id`, with every field set.
pub fn event(org_id: OrgId, action: &str, actor: Option<&User>, target: Option<Uuid>) -> AuditEvent {
    AuditEvent {
        id: EventId::generate(),
        org_id,
        at: now(),
        action: action.to_owned(),
        actor_id: actor.map(|u| u.id),
        actor_name: actor.map(User::display_name),
        target_id: target,
        target_name: target.map(|t| format!("target {t}")),
        address: Some("192.0.2.1".to_owned()),
        client: Some("conformance".to_owned()),
        details: json!({"action": action, "list": [1, "two", null], "nested": {"ok": true}}),
    }
}

/// A session of `user` for eight hours from now.
pub fn session(user: UserId, digest: &[u8]) -> Session {
    let t = now();
    Session {
        id: SessionId::generate(),
        user,
        secret_digest: digest.to_vec(),
        created_at: t,
        last_active_at: t,
        expires_at: t + hours(8),
        address: Some("198.51.100.7".to_owned()),
        client: Some("Firefox".to_owned()),
        forced_change_proof: None,
    }
}

/// Sessions hold no `PartialEq`: compared by every field.
#[track_caller]
pub fn assert_session(got: &Session, want: &Session) {
    assert_eq!(format!("{got:?}"), format!("{want:?}"));
}

/// An active token of `owner`, expiring in thirty days.
pub fn api_token(owner: &User, digest: &[u8]) -> ApiToken {
    let t = now();
    ApiToken {
        id: TokenId::generate(),
        owner: owner.id,
        org_id: owner.org_id,
        description: format!("token {}", hex(digest)),
        client: "curl".to_owned(),
        scopes: vec!["users:read".to_owned(), "settings:read".to_owned()],
        digest: digest.to_vec(),
        first_chars: "ush_AbCd".to_owned(),
        last_chars: "x9Qz".to_owned(),
        created_at: t,
        expires_at: Some(t + days(30)),
        revoked_at: None,
        last_used_at: None,
        created_by: None,
        authority: None,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A pending invitation of `email` to `org_id`, for a week.
pub fn invitation(org_id: OrgId, email: &str, digest: &[u8]) -> Invitation {
    let t = now();
    Invitation {
        id: InvitationId::generate(),
        org_id,
        email: email.to_owned(),
        email_key: identifier_key(email),
        user: None,
        roles: vec![Role::User],
        invited_by: None,
        invited_by_name: None,
        digest: digest.to_vec(),
        created_at: t,
        expires_at: t + days(7),
        accepted_at: None,
        accepted_user: None,
        withdrawn_at: None,
    }
}

/// Writes an invitation (with its audit entry, without email) as of now.
pub async fn invite(store: &dyn Store, invitation: &Invitation) -> StoreResult<()> {
    let event = event(invitation.org_id, "invitation.created", None, Some(invitation.id.uuid()));
    let new = NewInvitation { invitation, now: now(), replace_pending: false, event: &event, mail: None };
    store.insert_invitation(&new).await
}

/// A message to `to`, due now.
pub fn mail(org_id: OrgId, to: &str) -> OutboxMessage {
    let mut message = OutboxMessage::new(
        org_id,
        Mail { to: to.to_owned(), subject: format!("For {to}"), text: "Hello,\nthis is a test.".to_owned() },
        now(),
    );
    message.created_at = micros(message.created_at);
    message.next_attempt_at = message.created_at;
    message
}

/// A group of `org_id` (write it with the name key `fold(name)`).
pub fn group(org_id: OrgId, name: &str) -> Group {
    let t = now();
    Group {
        id: GroupId::generate(),
        org_id,
        name: name.to_owned(),
        description: format!("About {name}"),
        created_at: t,
        updated_at: t,
        member_count: 0,
    }
}

/// Inserts a group and answers it as stored.
pub async fn insert_group(store: &dyn Store, org_id: OrgId, name: &str) -> Group {
    let g = group(org_id, name);
    store.insert_group(&g, &fold(name)).await.expect("insert the group");
    g
}

/// An app of `org_id` (write it with the name key `fold(name)`).
pub fn app(org_id: OrgId, name: &str) -> App {
    let t = now();
    App {
        id: AppId::generate(),
        org_id,
        name: name.to_owned(),
        description: format!("About {name}"),
        url: Some(format!("https://{}.example.org", fold(name).replace(' ', "-"))),
        created_at: t,
        updated_at: t,
    }
}

/// Inserts an app, owned by `owner` when given.
pub async fn insert_app(store: &dyn Store, org_id: OrgId, name: &str, owner: Option<UserId>) -> App {
    let a = app(org_id, name);
    store.insert_app(&a, &fold(name), owner).await.expect("insert the app");
    a
}

/// The rule a refused write broke.
#[track_caller]
pub fn conflict<T: Debug>(result: StoreResult<T>) -> String {
    match result {
        Err(StoreError::Conflict { constraint }) => constraint,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

#[track_caller]
pub fn assert_not_found<T: Debug>(result: StoreResult<T>) {
    assert!(matches!(result, Err(StoreError::NotFound)), "expected NotFound, got {result:?}");
}

/// Runs `n` copies of a task at once (released together by a barrier) and
/// answers their results in task order.
pub async fn race<T, F, Fut>(store: &Arc<dyn Store>, n: usize, task: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(Arc<dyn Store>, usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
{
    let barrier = Arc::new(Barrier::new(n));
    let mut set = JoinSet::new();
    for i in 0..n {
        let (barrier, work) = (barrier.clone(), task(store.clone(), i));
        set.spawn(async move {
            barrier.wait().await;
            (i, work.await)
        });
    }
    let mut results: Vec<(usize, T)> = Vec::with_capacity(n);
    while let Some(done) = set.join_next().await {
        results.push(done.unwrap_or_else(|e| match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("a racing task did not finish: {e}"),
        }));
    }
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}
