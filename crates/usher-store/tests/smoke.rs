//! Exercises every `Store` method against a real PostgreSQL server, in a fresh
//! database created for the run and dropped after it.
//!
//! The server comes from `USHER_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`); that database is used to create
//! and drop `usher_pg_smoke_<random hex>`.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use usher_core::store::{
    AuditEvent, AuditQuery, AuditStore, NewUser, Organization, OrganizationStore, Profile, Session, SessionStore,
    SettingsStore, Store, StoreError, UserStatus, UserStore,
};
use usher_domain::{EventId, Language, OrgId, Role, SessionId, TimeZone, UserId, fold};
use usher_store::postgres::PostgresStore;
use uuid::Uuid;

fn admin_url() -> String {
    std::env::var("USHER_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// The server part of the admin URL, to which a database name is appended.
fn server() -> String {
    let url = admin_url();
    url.rsplit_once('/').map(|(server, _)| server.to_owned()).unwrap_or(url)
}

/// Now, at the microsecond precision `timestamptz` keeps.
fn now() -> DateTime<Utc> {
    DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap()
}

#[tokio::test]
async fn every_store_method_on_a_fresh_database() {
    let name = format!("usher_pg_smoke_{}", Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&admin_url()).await.expect("connect to the test database");
    sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await.unwrap();

    let url = format!("{}/{name}", server());
    let outcome = tokio::spawn(async move {
        // Two nodes starting at once: the migrator's advisory lock serializes them.
        let (a, b) = tokio::join!(PostgresStore::connect(&url), PostgresStore::connect(&url));
        let (store, other) = (a.expect("connect a"), b.expect("connect b"));
        other.pool().close().await;
        exercise(&store).await;
        store.pool().close().await;
    })
    .await;

    sqlx::query(AssertSqlSafe(format!("DROP DATABASE {name} WITH (FORCE)"))).execute(&mut admin).await.unwrap();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

fn new_user(org_id: OrgId, user_id: &str, email: Option<&str>, roles: &[Role], hash: Option<&str>) -> NewUser {
    NewUser {
        id: UserId::generate(),
        org_id,
        user_id: user_id.to_owned(),
        user_id_key: fold(user_id),
        email: email.map(str::to_owned),
        email_key: email.map(fold),
        profile: Profile { first_name: Some("First".into()), ..Profile::default() },
        status: UserStatus::Active,
        roles: roles.to_vec(),
        password_hash: hash.map(str::to_owned),
        created_at: now(),
    }
}

fn conflict(e: StoreError) -> String {
    match e {
        StoreError::Conflict { constraint } => constraint,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

async fn exercise(store: &PostgresStore) {
    store.ping().await.unwrap();
    store.migrate().await.expect("migrating twice is a no-op");

    // Organizations: the first one inserted is the default.
    assert!(store.default_organization().await.unwrap().is_none());
    let org = Organization { id: OrgId::generate(), slug: "acme".into(), name: "Acme".into(), created_at: now() };
    let other = Organization { id: OrgId::generate(), slug: "other".into(), name: "Other".into(), created_at: now() };
    store.insert_organization(&org).await.unwrap();
    store.insert_organization(&other).await.unwrap();
    assert_eq!(store.default_organization().await.unwrap(), Some(org.clone()));
    assert_eq!(store.organization_by_slug("other").await.unwrap(), Some(other.clone()));
    assert!(store.organization_by_slug("nope").await.unwrap().is_none());
    let dup = Organization { id: OrgId::generate(), ..other.clone() };
    assert_eq!(conflict(store.insert_organization(&dup).await.unwrap_err()), "organizations_slug_key");
    let second_default = sqlx::query("UPDATE organizations SET is_default = true WHERE id = $1")
        .bind(other.id)
        .execute(store.pool())
        .await
        .unwrap_err();
    assert_eq!(second_default.as_database_error().unwrap().constraint(), Some("organizations_one_default"));

    // Users: roles, look-up by user ID or email key, conflicts.
    let alice = new_user(org.id, "Alice", Some("Shared@Example.com"), &[Role::User, Role::Administrator], Some("h0"));
    let bob = new_user(org.id, "shared@example.com", None, &[Role::User], None);
    let carol = new_user(org.id, "Carol", None, &[], None);
    for u in [&alice, &bob, &carol] {
        store.insert_user(u).await.unwrap();
    }
    let got = store.user(alice.id).await.unwrap().unwrap();
    assert_eq!(got.user_id, "Alice");
    assert_eq!(got.email.as_deref(), Some("Shared@Example.com"));
    assert_eq!(got.roles, vec![Role::Administrator, Role::User]);
    assert_eq!(got.status, UserStatus::Active);
    assert!(!got.must_change_password);
    assert_eq!(got.password_changed_at, Some(alice.created_at));
    assert_eq!((got.created_at, got.updated_at, got.last_login_at), (alice.created_at, alice.created_at, None));
    assert!(store.user(carol.id).await.unwrap().unwrap().roles.is_empty());
    assert!(store.user(UserId::generate()).await.unwrap().is_none());

    let (by_id, hash) = store.user_by_login(org.id, "alice").await.unwrap().unwrap();
    assert_eq!((by_id.id, hash.as_deref()), (alice.id, Some("h0")));
    // Bob's user ID equals Alice's email key: the user ID match wins.
    let (shared, hash) = store.user_by_login(org.id, "shared@example.com").await.unwrap().unwrap();
    assert_eq!((shared.id, hash), (bob.id, None));
    sqlx::query("UPDATE users SET user_id_key = 'bob' WHERE id = $1").bind(bob.id).execute(store.pool()).await.unwrap();
    let (by_email, _) = store.user_by_login(org.id, "shared@example.com").await.unwrap().unwrap();
    assert_eq!(by_email.id, alice.id);
    assert!(store.user_by_login(other.id, "alice").await.unwrap().is_none());

    let same_id = new_user(org.id, "ALICE", None, &[Role::User], None);
    assert_eq!(conflict(store.insert_user(&same_id).await.unwrap_err()), "users_user_id");
    let same_email = new_user(org.id, "dave", Some("shared@EXAMPLE.com"), &[Role::User], None);
    assert_eq!(conflict(store.insert_user(&same_email).await.unwrap_err()), "users_email");
    assert!(store.user(same_email.id).await.unwrap().is_none(), "a failed insert leaves nothing behind");
    store.insert_user(&new_user(other.id, "Alice", Some("shared@example.com"), &[], None)).await.unwrap();

    let profile = Profile {
        first_name: Some("Alice".into()),
        last_name: Some("Liddell".into()),
        phone: Some("+33 1 23 45 67 89".into()),
        contact_person: Some("The Queen".into()),
        company: Some("Wonderland".into()),
        language: Language::Fr,
        timezone: TimeZone::parse("Europe/Paris").unwrap(),
    };
    let edited = now();
    store.update_profile(alice.id, &profile, edited).await.unwrap();
    assert!(matches!(store.update_profile(UserId::generate(), &profile, edited).await, Err(StoreError::NotFound)));
    let login = now();
    // A sign-in writes the time, the session and its audit entry together.
    let signin_org =
        Organization { id: OrgId::generate(), slug: "signin".into(), name: "Sign-in".into(), created_at: login };
    store.insert_organization(&signin_org).await.unwrap();
    let login_session = Session {
        id: SessionId::generate(),
        user: alice.id,
        secret_digest: vec![1, 2, 3],
        created_at: login,
        last_active_at: login,
        expires_at: login + Duration::hours(1),
        address: None,
        client: None,
        forced_change_proof: None,
    };
    let login_event = AuditEvent {
        id: EventId::generate(),
        org_id: signin_org.id,
        at: login,
        action: "auth.login.succeeded".into(),
        actor_id: Some(alice.id),
        actor_name: Some("Alice".into()),
        target_id: Some(alice.id.uuid()),
        target_name: Some("Alice".into()),
        address: None,
        client: None,
        details: json!({}),
    };
    store.sign_in(&login_session, &login_event).await.unwrap();
    assert!(store.session_by_digest(&[1, 2, 3]).await.unwrap().is_some());
    let signin_all = AuditQuery { limit: 10, ..AuditQuery::default() };
    assert_eq!(store.audit_events(signin_org.id, &signin_all).await.unwrap(), [login_event]);
    let got = store.user(alice.id).await.unwrap().unwrap();
    assert_eq!((got.profile, got.updated_at, got.last_login_at), (profile, edited, Some(login)));
    assert_eq!(store.count_users_with_role(org.id, Role::User).await.unwrap(), 2);
    assert_eq!(store.count_users_with_role(org.id, Role::Administrator).await.unwrap(), 1);
    assert_eq!(store.count_users_with_role(other.id, Role::User).await.unwrap(), 0);

    // Passwords: the previous hash joins the history, trimmed to `keep`.
    sqlx::query("UPDATE users SET must_change_password = true WHERE id = $1")
        .bind(alice.id)
        .execute(store.pool())
        .await
        .unwrap();
    let same_instant = now();
    for hash in ["h1", "h2", "h3", "h4"] {
        store.set_password(alice.id, hash, same_instant, 2).await.unwrap();
    }
    assert_eq!(store.password_hash(alice.id).await.unwrap().as_deref(), Some("h4"));
    assert_eq!(store.password_history(alice.id, 10).await.unwrap(), ["h3", "h2"]);
    assert_eq!(store.password_history(alice.id, 1).await.unwrap(), ["h3"]);
    let got = store.user(alice.id).await.unwrap().unwrap();
    assert!(!got.must_change_password);
    assert_eq!((got.password_changed_at, got.updated_at), (Some(same_instant), same_instant));
    store.set_password(alice.id, "h5", now(), 2).await.unwrap();
    assert_eq!(store.password_history(alice.id, 10).await.unwrap(), ["h4", "h3"]);
    assert!(store.password_hash(carol.id).await.unwrap().is_none());
    store.set_password(carol.id, "c1", now(), 5).await.unwrap();
    assert!(store.password_history(carol.id, 5).await.unwrap().is_empty(), "no previous hash, no history");
    assert!(store.password_hash(UserId::generate()).await.unwrap().is_none());

    // Sessions.
    let start = now();
    let session = Session {
        id: SessionId::generate(),
        user: alice.id,
        secret_digest: vec![0xde, 0xad, 0xbe, 0xef, 0x00, 0xff],
        created_at: start,
        last_active_at: start,
        expires_at: start + Duration::hours(8),
        address: Some("203.0.113.7".into()),
        client: Some("Firefox".into()),
        forced_change_proof: None,
    };
    store.insert_session(&session).await.unwrap();
    let (got, user) = store.session_by_digest(&session.secret_digest).await.unwrap().unwrap();
    assert_eq!((got.id, got.user, &got.secret_digest), (session.id, alice.id, &session.secret_digest));
    assert_eq!((got.created_at, got.last_active_at, got.expires_at), (start, start, session.expires_at));
    assert_eq!((got.address, got.client), (session.address.clone(), session.client.clone()));
    assert_eq!((user.id, user.roles), (alice.id, vec![Role::Administrator, Role::User]));
    assert!(store.session_by_digest(b"unknown").await.unwrap().is_none());
    let later = start + Duration::minutes(5);
    store.touch_session(session.id, later).await.unwrap();
    assert_eq!(store.session_by_digest(&session.secret_digest).await.unwrap().unwrap().0.last_active_at, later);
    store.delete_session(session.id).await.unwrap();
    assert!(store.session_by_digest(&session.secret_digest).await.unwrap().is_none());

    // Settings.
    assert!(store.setting(org.id, "password_policy").await.unwrap().is_none());
    let policy = json!({"min_length": 12, "classes": ["upper", "digit"], "nested": {"ok": true}});
    store.put_setting(org.id, "password_policy", &policy, now()).await.unwrap();
    assert_eq!(store.setting(org.id, "password_policy").await.unwrap(), Some(policy));
    store.put_setting(org.id, "password_policy", &json!("preset:strict"), now()).await.unwrap();
    assert_eq!(store.setting(org.id, "password_policy").await.unwrap(), Some(json!("preset:strict")));
    assert!(store.setting(other.id, "password_policy").await.unwrap().is_none());

    // Audit log: newest first, filters, `before` cursor, append-only.
    let mut events = Vec::new();
    for (i, (action, actor, target)) in [
        ("user.created", Some(alice.id), Some(bob.id)),
        ("session.signed_in", Some(alice.id), None),
        ("user.created", Some(alice.id), Some(carol.id)),
        ("session.signed_in", Some(bob.id), None),
        ("user.created", None, Some(alice.id)),
    ]
    .into_iter()
    .enumerate()
    {
        let event = AuditEvent {
            id: EventId::generate(),
            org_id: org.id,
            at: now(),
            action: action.into(),
            actor_id: actor,
            actor_name: actor.map(|_| "Someone".into()),
            target_id: target.map(UserId::uuid),
            target_name: target.map(|_| "Someone else".into()),
            address: Some("198.51.100.1".into()),
            client: None,
            details: json!({"n": i, "list": [1, "two", null]}),
        };
        store.append_audit(&event).await.unwrap();
        events.push(event);
    }
    let stray = AuditEvent { id: EventId::generate(), org_id: other.id, ..events[0].clone() };
    store.append_audit(&stray).await.unwrap();

    let all = AuditQuery { limit: 100, ..AuditQuery::default() };
    let newest_first: Vec<_> = events.iter().rev().cloned().collect();
    assert_eq!(store.audit_events(org.id, &all).await.unwrap(), newest_first);
    let ids = |q: AuditQuery| async move {
        store.audit_events(org.id, &q).await.unwrap().into_iter().map(|e| e.id).collect::<Vec<_>>()
    };
    let created = AuditQuery { action: Some("user.created".into()), ..all.clone() };
    assert_eq!(ids(created).await, [events[4].id, events[2].id, events[0].id]);
    let by_alice = AuditQuery { actor_id: Some(alice.id), ..all.clone() };
    assert_eq!(ids(by_alice).await, [events[2].id, events[1].id, events[0].id]);
    let on_carol = AuditQuery { target_id: Some(carol.id.uuid()), ..all.clone() };
    assert_eq!(ids(on_carol).await, [events[2].id]);
    let combined = AuditQuery { action: Some("session.signed_in".into()), actor_id: Some(bob.id), ..all.clone() };
    assert_eq!(ids(combined).await, [events[3].id]);
    let page1 = AuditQuery { limit: 2, ..all.clone() };
    assert_eq!(ids(page1).await, [events[4].id, events[3].id]);
    let page2 = AuditQuery { limit: 2, before: Some(events[3].id), ..all.clone() };
    assert_eq!(ids(page2).await, [events[2].id, events[1].id]);
    let page3 = AuditQuery { limit: 2, before: Some(events[1].id), ..all.clone() };
    assert_eq!(ids(page3).await, [events[0].id]);
    assert_eq!(store.audit_events(other.id, &all).await.unwrap(), [stray]);

    for sql in ["UPDATE audit_events SET action = 'tampered'", "DELETE FROM audit_events", "TRUNCATE audit_events"] {
        let err = sqlx::query(sql).execute(store.pool()).await.expect_err(sql);
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    assert_eq!(store.audit_events(org.id, &all).await.unwrap().len(), 5);

    // Setup tokens: usable once, until they expire; re-inserting renews one.
    let digest = [7u8; 32];
    let t = now();
    store.insert_setup_token(&digest, org.id, t + Duration::hours(1)).await.unwrap();
    assert_eq!(store.setup_token_org(&digest, t).await.unwrap(), Some(org.id));
    assert_eq!(store.setup_token_org(&digest, t).await.unwrap(), Some(org.id), "peeking does not use it");
    assert!(store.setup_token_org(&digest, t + Duration::hours(2)).await.unwrap().is_none());
    assert!(store.take_setup_token(&digest, t + Duration::hours(2)).await.unwrap().is_none());
    assert!(store.setup_token_org(&[1u8; 32], t).await.unwrap().is_none());
    let (first, second) = tokio::join!(store.take_setup_token(&digest, t), store.take_setup_token(&digest, t));
    let mut taken = [first.unwrap(), second.unwrap()];
    taken.sort();
    assert_eq!(taken, [None, Some(org.id)], "exactly one of two concurrent takers wins");
    assert!(store.take_setup_token(&digest, t).await.unwrap().is_none());
    assert!(store.setup_token_org(&digest, t).await.unwrap().is_none());
    store.insert_setup_token(&digest, org.id, t + Duration::hours(1)).await.unwrap();
    assert_eq!(store.take_setup_token(&digest, t).await.unwrap(), Some(org.id));
}
