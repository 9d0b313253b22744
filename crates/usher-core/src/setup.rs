//! First start: the default organization and the first administrator.

use chrono::Duration;
use serde_json::json;
use usher_domain::{OrgId, Role};

use crate::{
    Error, RequestContext, Result, Usher,
    accounts::NewAccount,
    audit::{Entry, action},
    auth::LoginOutcome,
    secrets,
    store::Organization,
};

/// What start-up found.
#[derive(Debug, Clone)]
pub struct Initialized {
    pub organization: Organization,
    /// A one-time secret for the first-administrator link, when no administrator exists yet.
    pub setup_token: Option<String>,
}

impl Usher {
    /// Creates the default organization on an empty database and, while it has no
    /// administrator, a setup token valid one hour.
    pub async fn initialize(&self) -> Result<Initialized> {
        let organization = match self.store.default_organization().await? {
            Some(org) => org,
            None => {
                let org = Organization {
                    id: OrgId::generate(),
                    slug: "default".into(),
                    name: "Default organization".into(),
                    created_at: self.now(),
                };
                match self.store.insert_organization(&org).await {
                    Ok(()) => org,
                    // Another node created it at the same moment.
                    Err(crate::StoreError::Conflict { .. }) => {
                        self.store.default_organization().await?.ok_or(Error::NotFound)?
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        };
        let setup_token = if self.store.count_users_with_role(organization.id, Role::Administrator).await? == 0 {
            let token = secrets::random_secret()?;
            let expires = self.now() + Duration::hours(1);
            self.store.insert_setup_token(&secrets::digest(&token), organization.id, expires).await?;
            Some(token)
        } else {
            None
        };
        Ok(Initialized { organization, setup_token })
    }

    /// Creates an administrator in the default organization (the `usher admin create` command).
    pub async fn create_admin(&self, ctx: &RequestContext, mut account: NewAccount) -> Result<crate::store::User> {
        let org = self.initialize().await?.organization;
        account.roles = vec![Role::Administrator];
        self.create_user(ctx, None, org.id, account).await
    }

    /// Uses a setup link: creates the first administrator and signs them in.
    pub async fn complete_setup(
        &self,
        ctx: &RequestContext,
        token: &str,
        mut account: NewAccount,
    ) -> Result<LoginOutcome> {
        let digest = secrets::digest(token);
        let now = self.now();
        let Some(org_id) = self.store.take_setup_token(&digest, now).await? else {
            return Err(Error::NotFound);
        };
        account.roles = vec![Role::Administrator];
        let user = self.create_user(ctx, None, org_id, account).await;
        let user = match user {
            Ok(user) => user,
            Err(e) => {
                // Give the link back so the person can fix the form and try again.
                self.store.insert_setup_token(&digest, org_id, now + Duration::hours(1)).await?;
                return Err(e);
            }
        };
        self.audit(
            ctx,
            Entry {
                org_id,
                action: action::SETUP_COMPLETED,
                actor: Some(&user),
                target: Some(&user),
                details: json!({}),
            },
        )
        .await?;
        self.start_session(ctx, user, now).await
    }

    /// Whether a setup link can still be used (for showing the form or an "expired" page).
    pub async fn setup_token_valid(&self, token: &str) -> Result<bool> {
        Ok(self.store.setup_token_org(&secrets::digest(token), self.now()).await?.is_some())
    }
}
