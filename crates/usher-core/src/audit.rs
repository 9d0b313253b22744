//! The append-only audit log: who did what to whom, when, from where.

use chrono::Utc;
use uuid::Uuid;

use crate::{
    RequestContext, Result, Usher,
    auth::Admin,
    store::{AuditEvent, AuditQuery, User},
};

/// Stable action names, so integrators can filter on them.
pub mod action {
    pub const LOGIN_SUCCEEDED: &str = "auth.login.succeeded";
    pub const LOGIN_FAILED: &str = "auth.login.failed";
    pub const LOGOUT: &str = "auth.logout";
    pub const PROFILE_UPDATED: &str = "user.profile.updated";
    pub const PASSWORD_CHANGED: &str = "user.password.changed";
    pub const PASSWORD_CHANGE_FAILED: &str = "user.password.change_failed";
    pub const USER_CREATED: &str = "user.created";
    pub const SETUP_COMPLETED: &str = "setup.completed";
    pub const PASSWORD_POLICY_UPDATED: &str = "settings.password_policy.updated";
    pub const TOKEN_POLICY_UPDATED: &str = "settings.token_policy.updated";
    pub const TOKEN_CREATED: &str = "token.created";
    pub const TOKEN_UPDATED: &str = "token.updated";
    pub const TOKEN_REVOKED: &str = "token.revoked";
    pub const TOKEN_REGENERATED: &str = "token.regenerated";
    pub const TOKEN_DELETED: &str = "token.deleted";

    /// Every action above, for filters and translations.
    pub const ALL: [&str; 15] = [
        LOGIN_SUCCEEDED,
        LOGIN_FAILED,
        LOGOUT,
        PROFILE_UPDATED,
        PASSWORD_CHANGED,
        PASSWORD_CHANGE_FAILED,
        USER_CREATED,
        SETUP_COMPLETED,
        PASSWORD_POLICY_UPDATED,
        TOKEN_POLICY_UPDATED,
        TOKEN_CREATED,
        TOKEN_UPDATED,
        TOKEN_REVOKED,
        TOKEN_REGENERATED,
        TOKEN_DELETED,
    ];
}

/// One event about to be written.
pub(crate) struct Entry<'a> {
    pub org_id: Uuid,
    pub action: &'static str,
    pub actor: Option<&'a User>,
    pub target: Option<&'a User>,
    pub details: serde_json::Value,
}

impl Usher {
    pub(crate) async fn audit(&self, ctx: &RequestContext, entry: Entry<'_>) -> Result<()> {
        Ok(self.store.append_audit(&audit_event(ctx, entry)).await?)
    }

    /// Reads the organization's audit log, newest first (administrators only).
    pub async fn audit_events(&self, admin: &Admin<'_>, mut query: AuditQuery) -> Result<Vec<AuditEvent>> {
        admin.principal().require(usher_domain::Resource::Audit, usher_domain::Access::Read)?;
        query.limit = query.limit.clamp(1, 500);
        Ok(self.store.audit_events(admin.org_id(), &query).await?)
    }
}

/// The event as it will be stored: names copied in, time now.
pub(crate) fn audit_event(ctx: &RequestContext, entry: Entry<'_>) -> AuditEvent {
    AuditEvent {
        id: Uuid::now_v7(),
        org_id: entry.org_id,
        at: Utc::now(),
        action: entry.action.to_owned(),
        actor_id: entry.actor.map(|u| u.id),
        actor_name: entry.actor.map(User::display_name),
        target_id: entry.target.map(|u| u.id),
        target_name: entry.target.map(User::display_name),
        address: ctx.address.clone(),
        client: ctx.client.clone(),
        details: entry.details,
    }
}
