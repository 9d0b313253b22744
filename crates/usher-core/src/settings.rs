//! Organization settings, stored as JSON documents under a key.

use serde_json::json;
use usher_domain::{OrgId, PasswordPolicy, TokenPolicy};

use crate::{
    Error, RequestContext, Result, Usher,
    access::policy::{self, Operation},
    audit::{Entry, action},
    auth::Principal,
};

const PASSWORD_POLICY: &str = "password_policy";
const TOKEN_POLICY: &str = "token_policy";

impl Usher {
    /// The organization's password policy, or Usher's default when none was set.
    pub async fn password_policy(&self, org_id: OrgId) -> Result<PasswordPolicy> {
        match self.store.setting(org_id, PASSWORD_POLICY).await? {
            Some(value) => {
                serde_json::from_value(value).map_err(|e| Error::internal(format!("stored password policy: {e}")))
            }
            None => Ok(PasswordPolicy::default()),
        }
    }

    /// The password policy as an administrator reads it (scope `settings:read`).
    pub async fn password_policy_for(&self, p: &Principal) -> Result<PasswordPolicy> {
        let admin = &policy::authorize(p, Operation::ReadSettings)?;
        self.password_policy(admin.org_id()).await
    }

    /// Replaces the password policy (administrators only).
    pub async fn set_password_policy(
        &self,
        ctx: &RequestContext,
        p: &Principal,
        policy: PasswordPolicy,
    ) -> Result<PasswordPolicy> {
        let admin = &policy::authorize(p, Operation::ChangeSettings)?;
        policy.validate()?;
        let before = self.password_policy(admin.org_id()).await?;
        let value = serde_json::to_value(&policy).map_err(|e| Error::internal(e.to_string()))?;
        self.store.put_setting(admin.org_id(), PASSWORD_POLICY, &value, self.now()).await?;
        let details = json!({ "before": before, "after": policy });
        self.audit(
            ctx,
            Entry {
                org_id: admin.org_id(),
                action: action::PASSWORD_POLICY_UPDATED,
                actor: Some(admin.user()),
                target: None,
                details,
            },
        )
        .await?;
        Ok(policy)
    }
}

impl Usher {
    /// The organization's API token policy, or Usher's default when none was set.
    pub async fn token_policy(&self, org_id: OrgId) -> Result<TokenPolicy> {
        match self.store.setting(org_id, TOKEN_POLICY).await? {
            Some(value) => {
                serde_json::from_value(value).map_err(|e| Error::internal(format!("stored token policy: {e}")))
            }
            None => Ok(TokenPolicy::default()),
        }
    }

    /// The token policy as an administrator reads it (scope `settings:read`).
    pub async fn token_policy_for(&self, p: &Principal) -> Result<TokenPolicy> {
        let admin = &policy::authorize(p, Operation::ReadSettings)?;
        self.token_policy(admin.org_id()).await
    }

    /// Replaces the API token policy (administrators only). Existing tokens keep
    /// their expiry; the new rules apply to tokens created or changed from now on.
    pub async fn set_token_policy(
        &self,
        ctx: &RequestContext,
        p: &Principal,
        mut policy: TokenPolicy,
    ) -> Result<TokenPolicy> {
        let admin = &policy::authorize(p, Operation::ChangeSettings)?;
        policy.validate()?;
        policy.scopes.sort();
        policy.scopes.dedup();
        let before = self.token_policy(admin.org_id()).await?;
        let value = serde_json::to_value(&policy).map_err(|e| Error::internal(e.to_string()))?;
        self.store.put_setting(admin.org_id(), TOKEN_POLICY, &value, self.now()).await?;
        let details = json!({ "before": before, "after": policy });
        self.audit(
            ctx,
            Entry {
                org_id: admin.org_id(),
                action: action::TOKEN_POLICY_UPDATED,
                actor: Some(admin.user()),
                target: None,
                details,
            },
        )
        .await?;
        Ok(policy)
    }
}

/// The named password-policy presets (matching other products' documented
/// policies), for those who may read the settings.
pub fn password_policy_presets(p: &Principal) -> Result<Vec<(&'static str, PasswordPolicy)>> {
    policy::authorize(p, Operation::ReadSettings)?;
    Ok(PasswordPolicy::presets())
}
