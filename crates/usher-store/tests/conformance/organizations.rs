//! Organizations and their one-time setup links.

use std::sync::Arc;

use usher_core::store::{NewUser, OrgCounts, Organization, Store, UserStatus};
use usher_domain::OrgId;

use usher_core::invitations::Invitation;

use crate::support::*;

conformance!(
    first_organization_is_the_default,
    setup_links_work_once_until_they_expire,
    an_organization_counts_only_its_own_things,
);

/// The first organization inserted is the default; each is found by id and
/// by slug, and slugs are unique.
async fn first_organization_is_the_default(store: Arc<dyn Store>) {
    let s = &*store;
    assert_eq!(s.default_organization().await.unwrap(), None, "a fresh database has no organization");
    let acme = organization(s, "acme").await;
    let other = organization(s, "other").await;
    assert_eq!(s.default_organization().await.unwrap(), Some(acme.clone()));
    assert_eq!(s.organization(other.id).await.unwrap(), Some(other.clone()));
    assert_eq!(s.organization(acme.id).await.unwrap(), Some(acme.clone()));
    assert_eq!(s.organization(OrgId::generate()).await.unwrap(), None);
    assert_eq!(s.organization_by_slug("other").await.unwrap(), Some(other.clone()));
    assert_eq!(s.organization_by_slug("nope").await.unwrap(), None);

    let same_slug = Organization { id: OrgId::generate(), name: "Copy".into(), ..other.clone() };
    conflict(s.insert_organization(&same_slug).await);
    assert_eq!(s.organization(same_slug.id).await.unwrap(), None);
    assert_eq!(s.default_organization().await.unwrap(), Some(acme), "the default does not move");
}

/// A setup link can be looked at without using it, works once, and not
/// after it expires; inserting its digest again renews it.
async fn setup_links_work_once_until_they_expire(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let digest = [7u8; 32];
    let t = now();
    s.insert_setup_token(&digest, org.id, t + hours(1)).await.unwrap();

    assert_eq!(s.setup_token_org(&digest, t).await.unwrap(), Some(org.id));
    assert_eq!(s.setup_token_org(&digest, t).await.unwrap(), Some(org.id), "looking does not use it");
    assert_eq!(s.setup_token_org(&[1u8; 32], t).await.unwrap(), None);
    assert_eq!(s.setup_token_org(&digest, t + hours(2)).await.unwrap(), None, "expired");
    assert_eq!(s.take_setup_token(&digest, t + hours(2)).await.unwrap(), None, "expired links are not taken");

    assert_eq!(s.take_setup_token(&digest, t).await.unwrap(), Some(org.id));
    assert_eq!(s.take_setup_token(&digest, t).await.unwrap(), None, "a link works once");
    assert_eq!(s.setup_token_org(&digest, t).await.unwrap(), None);
    assert_eq!(s.take_setup_token(&[1u8; 32], t).await.unwrap(), None);

    s.insert_setup_token(&digest, org.id, t + hours(1)).await.unwrap();
    assert_eq!(s.setup_token_org(&digest, t).await.unwrap(), Some(org.id), "inserted again, it works again");
    assert_eq!(s.take_setup_token(&digest, t).await.unwrap(), Some(org.id));
}

/// The overview's counts: users (and the disabled ones), groups, apps and
/// invitations still pending now; nothing of another organization.
async fn an_organization_counts_only_its_own_things(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let other = organization(s, "other").await;
    assert_eq!(s.counts(org.id, now()).await.unwrap(), OrgCounts::default(), "an empty organization");

    let owner = admin(s, org.id, "admin").await;
    user(s, org.id, "ann").await;
    insert(s, NewUser { status: UserStatus::Disabled, ..new_user(org.id, "gone") }).await;
    insert(s, NewUser { status: UserStatus::Invited, ..new_user(org.id, "soon") }).await;
    user(s, other.id, "elsewhere").await;
    insert(s, NewUser { status: UserStatus::Disabled, ..new_user(other.id, "gone") }).await;
    insert_group(s, org.id, "Sales").await;
    insert_group(s, other.id, "Sales").await;
    insert_app(s, org.id, "Wiki", Some(owner.id)).await;
    insert_app(s, org.id, "Chat", None).await;
    insert_app(s, other.id, "Wiki", None).await;
    invite(s, &invitation(org.id, "new@example.org", b"pending")).await.unwrap();
    let t = now();
    let lapsed = invitation(org.id, "late@example.org", b"lapsed");
    invite(s, &Invitation { created_at: t - days(8), expires_at: t - days(1), ..lapsed }).await.unwrap();
    let withdrawn = invitation(org.id, "no@example.org", b"withdrawn");
    invite(s, &withdrawn).await.unwrap();
    assert!(s.withdraw_invitation(org.id, withdrawn.id, t).await.unwrap());
    invite(s, &invitation(other.id, "new@example.org", b"elsewhere")).await.unwrap();

    let want = OrgCounts { users: 4, disabled_users: 1, groups: 1, apps: 2, pending_invitations: 1 };
    assert_eq!(s.counts(org.id, t).await.unwrap(), want);
    let later = OrgCounts { pending_invitations: 0, ..want };
    assert_eq!(s.counts(org.id, t + days(8)).await.unwrap(), later, "an invitation stops pending when it expires");
    assert_eq!(s.counts(OrgId::generate(), t).await.unwrap(), OrgCounts::default());
}
