//! Organization settings, stored as JSON documents under a key.

use chrono::Utc;
use serde_json::json;
use usher_domain::PasswordPolicy;
use uuid::Uuid;

use crate::{
    Error, RequestContext, Result, Usher,
    audit::{Entry, action},
    auth::Admin,
};

const PASSWORD_POLICY: &str = "password_policy";

impl Usher {
    /// The organization's password policy, or Usher's default when none was set.
    pub async fn password_policy(&self, org_id: Uuid) -> Result<PasswordPolicy> {
        match self.store.setting(org_id, PASSWORD_POLICY).await? {
            Some(value) => serde_json::from_value(value).map_err(|e| Error::Internal(format!("stored password policy: {e}"))),
            None => Ok(PasswordPolicy::default()),
        }
    }

    /// Replaces the password policy (administrators only).
    pub async fn set_password_policy(&self, ctx: &RequestContext, admin: &Admin<'_>, policy: PasswordPolicy) -> Result<PasswordPolicy> {
        policy.validate()?;
        let before = self.password_policy(admin.org_id()).await?;
        let value = serde_json::to_value(&policy).map_err(|e| Error::Internal(e.to_string()))?;
        self.store.put_setting(admin.org_id(), PASSWORD_POLICY, &value, Utc::now()).await?;
        let details = json!({ "before": before, "after": policy });
        self.audit(
            ctx,
            Entry { org_id: admin.org_id(), action: action::PASSWORD_POLICY_UPDATED, actor: Some(admin.user()), target: None, details },
        )
        .await?;
        Ok(policy)
    }
}
