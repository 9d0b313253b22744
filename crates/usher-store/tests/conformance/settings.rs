//! Organization settings and the server's own secrets.

use std::sync::Arc;

use serde_json::json;
use usher_core::Store;

use crate::support::*;

conformance!(
    settings_are_kept_per_organization,
    password_policies_are_listed_by_organization,
    server_secrets_keep_the_first_candidate,
);

/// A setting is any JSON value, kept per organization and key; writing
/// again replaces it.
async fn settings_are_kept_per_organization(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let other = organization(s, "other").await;
    assert_eq!(s.setting(org.id, "password_policy").await.unwrap(), None);

    let policy = json!({"min_length": 12, "classes": ["upper", "digit"], "nested": {"ok": true, "ratio": 0.5}});
    s.put_setting(org.id, "password_policy", &policy, now()).await.unwrap();
    s.put_setting(org.id, "invitation_template", &json!("Hello {name}, ünïcödé ✓"), now()).await.unwrap();
    s.put_setting(org.id, "mfa", &json!({"required": false}), now()).await.unwrap();
    assert_eq!(s.setting(org.id, "password_policy").await.unwrap(), Some(policy));
    assert_eq!(s.setting(org.id, "invitation_template").await.unwrap(), Some(json!("Hello {name}, ünïcödé ✓")));
    assert_eq!(s.setting(other.id, "password_policy").await.unwrap(), None, "settings are per organization");
    assert_eq!(s.setting(org.id, "unknown").await.unwrap(), None);

    s.put_setting(org.id, "password_policy", &json!("preset:strict"), now() + minutes(1)).await.unwrap();
    assert_eq!(s.setting(org.id, "password_policy").await.unwrap(), Some(json!("preset:strict")));
    s.put_setting(org.id, "mfa", &json!([1, 2, 3]), now()).await.unwrap();
    assert_eq!(s.setting(org.id, "mfa").await.unwrap(), Some(json!([1, 2, 3])));
}

/// Every organization with a password policy, with the policy.
async fn password_policies_are_listed_by_organization(store: Arc<dyn Store>) {
    let s = &*store;
    assert!(s.password_policies().await.unwrap().is_empty());
    let a = organization(s, "a").await;
    let b = organization(s, "b").await;
    let c = organization(s, "c").await;
    s.put_setting(a.id, "password_policy", &json!({"min_length": 10}), now()).await.unwrap();
    s.put_setting(b.id, "mfa", &json!({"required": true}), now()).await.unwrap();
    s.put_setting(c.id, "password_policy", &json!("preset:strict"), now()).await.unwrap();

    let mut policies = s.password_policies().await.unwrap();
    policies.sort_by_key(|(org, _)| *org);
    let mut want = vec![(a.id, json!({"min_length": 10})), (c.id, json!("preset:strict"))];
    want.sort_by_key(|(org, _)| *org);
    assert_eq!(policies, want);
}

/// The first candidate stored under a name is the secret every caller gets.
async fn server_secrets_keep_the_first_candidate(store: Arc<dyn Store>) {
    let s = &*store;
    assert_eq!(s.server_secret("cursor", &[1; 32]).await.unwrap(), vec![1; 32]);
    assert_eq!(s.server_secret("cursor", &[2; 32]).await.unwrap(), vec![1; 32], "the first one stays");
    assert_eq!(s.server_secret("totp", &[3; 16]).await.unwrap(), vec![3; 16], "names are independent");
    assert_eq!(s.server_secret("cursor", &[]).await.unwrap(), vec![1; 32]);
}
