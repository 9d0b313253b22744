//! Personal API tokens.

use std::sync::Arc;

use chrono::Duration;
use usher_core::store::{ApiToken, Store, TokenAuthority, TokenFilter};
use usher_domain::{AppId, AppRole, Role, TokenId};

use crate::support::*;

fn ids(tokens: &[ApiToken]) -> Vec<TokenId> {
    tokens.iter().map(|t| t.id).collect()
}

conformance!(
    tokens_read_back_whole,
    token_lists_filter_by_state,
    tokens_are_found_by_digests,
    token_updates_are_saved,
    tokens_are_deleted_by_their_owner,
    token_use_is_recorded_once_a_minute,
);

/// A token is read back whole, by its owner only.
async fn tokens_read_back_whole(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let admin = admin(s, org.id, "admin").await;
    let alice = user(s, org.id, "alice").await;
    let plain = api_token(&alice, b"plain");
    let handed = ApiToken {
        created_by: Some(admin.id),
        authority: Some(TokenAuthority {
            roles: vec![Role::User],
            apps: vec![(AppRole::Developer, AppId::generate())],
        }),
        expires_at: None,
        scopes: vec!["users:write".into()],
        ..api_token(&alice, b"handed")
    };
    s.insert_token(&plain).await.unwrap();
    s.insert_token(&handed).await.unwrap();

    assert_eq!(s.token(alice.id, plain.id).await.unwrap(), Some(plain.clone()));
    assert_eq!(s.token(alice.id, handed.id).await.unwrap(), Some(handed.clone()));
    assert_eq!(s.token(admin.id, plain.id).await.unwrap(), None, "another user's token is not found");
    assert_eq!(s.token(alice.id, TokenId::generate()).await.unwrap(), None);
    let all = s.tokens(alice.id, TokenFilter::All, now(), None, 10).await.unwrap();
    assert_eq!(all, [handed, plain]);
}

/// Lists are newest first, filtered by state at `now`, paged by id.
async fn token_lists_filter_by_state(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let alice = user(s, org.id, "alice").await;
    let bob = user(s, org.id, "bob").await;
    let t = now();
    let active = api_token(&alice, b"active");
    let revoked = ApiToken { revoked_at: Some(t - minutes(1)), ..api_token(&alice, b"revoked") };
    let expired = ApiToken { expires_at: Some(t - minutes(1)), ..api_token(&alice, b"expired") };
    let forever = ApiToken { expires_at: None, ..api_token(&alice, b"forever") };
    let theirs = api_token(&bob, b"theirs");
    for token in [&active, &revoked, &expired, &forever, &theirs] {
        s.insert_token(token).await.unwrap();
    }

    let list = |filter, before, limit| async move { ids(&s.tokens(alice.id, filter, t, before, limit).await.unwrap()) };
    assert_eq!(list(TokenFilter::All, None, 10).await, [forever.id, expired.id, revoked.id, active.id]);
    assert_eq!(list(TokenFilter::Active, None, 10).await, [forever.id, active.id]);
    assert_eq!(list(TokenFilter::Inactive, None, 10).await, [expired.id, revoked.id]);
    assert_eq!(list(TokenFilter::All, None, 2).await, [forever.id, expired.id]);
    assert_eq!(list(TokenFilter::All, Some(expired.id), 2).await, [revoked.id, active.id]);
    assert_eq!(list(TokenFilter::Active, Some(forever.id), 10).await, [active.id]);
    assert!(list(TokenFilter::All, Some(active.id), 10).await.is_empty());
    // At the expiry instant a token no longer counts as active.
    let at_expiry = active.expires_at.unwrap();
    assert_eq!(ids(&s.tokens(alice.id, TokenFilter::Active, at_expiry, None, 10).await.unwrap()), [forever.id]);
    assert_eq!(ids(&s.tokens(bob.id, TokenFilter::All, t, None, 10).await.unwrap()), [theirs.id]);
}

/// Tokens are found by digest with their owners in one call, whatever
/// their state; unknown digests are left out.
async fn tokens_are_found_by_digests(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let alice = user(s, org.id, "alice").await;
    let bob = user(s, org.id, "bob").await;
    let a = api_token(&alice, b"a");
    let revoked = ApiToken { revoked_at: Some(now()), ..api_token(&alice, b"revoked") };
    let b = api_token(&bob, b"b");
    for token in [&a, &revoked, &b] {
        s.insert_token(token).await.unwrap();
    }

    let mut found = s.tokens_by_digests(&[b"b", b"unknown", b"a", b"revoked"]).await.unwrap();
    found.sort_by_key(|(t, _)| t.id);
    assert_eq!(found.len(), 3);
    for ((token, owner), (want, want_owner)) in found.iter().zip([(&a, &alice), (&revoked, &alice), (&b, &bob)]) {
        assert_eq!(token, want);
        assert_user(owner, want_owner);
    }
    assert!(s.tokens_by_digests(&[]).await.unwrap().is_empty());
    assert!(s.tokens_by_digests(&[b"unknown"]).await.unwrap().is_empty());
}

/// An update saves description, expiry, revocation and the secret's
/// fields (a regenerated token); scopes stay.
async fn token_updates_are_saved(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let admin = admin(s, org.id, "admin").await;
    let alice = user(s, org.id, "alice").await;
    let token = ApiToken { last_used_at: Some(now()), ..api_token(&alice, b"old secret") };
    s.insert_token(&token).await.unwrap();

    let t = now() + minutes(1);
    let regenerated = ApiToken {
        description: "renamed".into(),
        digest: b"new secret".to_vec(),
        first_chars: "ush_WxYz".into(),
        last_chars: "0000".into(),
        created_at: t,
        expires_at: Some(t + Duration::days(90)),
        last_used_at: None,
        created_by: Some(admin.id),
        authority: Some(TokenAuthority { roles: vec![Role::User], apps: vec![] }),
        ..token.clone()
    };
    s.update_token(&regenerated).await.unwrap();
    assert_eq!(s.token(alice.id, token.id).await.unwrap(), Some(regenerated.clone()));
    assert!(s.tokens_by_digests(&[b"old secret"]).await.unwrap().is_empty(), "the old secret no longer works");
    assert_eq!(s.tokens_by_digests(&[b"new secret"]).await.unwrap().len(), 1);

    let revoked = ApiToken { revoked_at: Some(t + minutes(1)), ..regenerated };
    s.update_token(&revoked).await.unwrap();
    assert_eq!(s.token(alice.id, token.id).await.unwrap(), Some(revoked));
}

/// Only the owner deletes a token.
async fn tokens_are_deleted_by_their_owner(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let alice = user(s, org.id, "alice").await;
    let bob = user(s, org.id, "bob").await;
    let token = api_token(&alice, b"t");
    let kept = api_token(&alice, b"kept");
    s.insert_token(&token).await.unwrap();
    s.insert_token(&kept).await.unwrap();

    let _ = s.delete_token(bob.id, token.id).await;
    assert_eq!(s.token(alice.id, token.id).await.unwrap(), Some(token.clone()), "bob cannot delete alice's token");
    s.delete_token(alice.id, token.id).await.unwrap();
    assert_eq!(s.token(alice.id, token.id).await.unwrap(), None);
    assert!(s.tokens_by_digests(&[b"t"]).await.unwrap().is_empty());
    assert_eq!(ids(&s.tokens(alice.id, TokenFilter::All, now(), None, 10).await.unwrap()), [kept.id]);
}

/// Use is recorded at most once a minute, so reads stay reads.
async fn token_use_is_recorded_once_a_minute(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let alice = user(s, org.id, "alice").await;
    let token = api_token(&alice, b"t");
    s.insert_token(&token).await.unwrap();
    let last_used = || async { s.token(alice.id, token.id).await.unwrap().unwrap().last_used_at };

    let t = now();
    s.touch_token(token.id, t).await.unwrap();
    assert_eq!(last_used().await, Some(t));
    s.touch_token(token.id, t + Duration::seconds(30)).await.unwrap();
    assert_eq!(last_used().await, Some(t), "less than a minute later: not written");
    s.touch_token(token.id, t + Duration::seconds(61)).await.unwrap();
    assert_eq!(last_used().await, Some(t + Duration::seconds(61)));
    s.touch_token(TokenId::generate(), t).await.unwrap();
}
