//! Organizations and their one-time setup links.

use std::sync::Arc;

use usher_core::store::{Organization, Store};
use usher_domain::OrgId;

use crate::support::*;

conformance!(first_organization_is_the_default, setup_links_work_once_until_they_expire,);

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
