//! The append-only audit log: who did what to whom, when, from where.

use chrono::{DateTime, Utc};
use usher_domain::{EventId, OrgId};

use crate::{
    RequestContext, Result, Usher,
    access::policy::{self, Operation},
    auth::Principal,
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
    pub const INVITATION_CREATED: &str = "invitation.created";
    pub const INVITATION_RESENT: &str = "invitation.resent";
    pub const INVITATION_WITHDRAWN: &str = "invitation.withdrawn";
    pub const INVITATION_ACCEPTED: &str = "invitation.accepted";
    pub const INVITATION_TEMPLATE_UPDATED: &str = "settings.invitation_template.updated";
    pub const PASSWORD_RESET_REQUESTED: &str = "user.password.reset_requested";
    pub const PASSWORD_RESET_COMPLETED: &str = "user.password.reset_completed";
    pub const USER_UPDATED: &str = "user.updated";
    pub const USER_DISABLED: &str = "user.disabled";
    pub const USER_ENABLED: &str = "user.enabled";
    pub const USER_DELETED: &str = "user.deleted";
    pub const USER_PASSWORD_RESET: &str = "user.password_reset";
    pub const USER_SESSIONS_ENDED: &str = "user.sessions_ended";
    pub const ROLES_CHANGED: &str = "role.changed";
    pub const GROUP_CREATED: &str = "group.created";
    pub const GROUP_UPDATED: &str = "group.updated";
    pub const GROUP_DELETED: &str = "group.deleted";
    pub const GROUP_MEMBERS_CHANGED: &str = "group.members_changed";
    pub const APP_CREATED: &str = "app.created";
    pub const APP_UPDATED: &str = "app.updated";
    pub const APP_DELETED: &str = "app.deleted";
    pub const APP_PEOPLE_CHANGED: &str = "app.people_changed";
    pub const APP_GROUPS_CHANGED: &str = "app.groups_changed";
    pub const METADATA_FIELDS_UPDATED: &str = "settings.metadata_fields.updated";
    pub const USERS_IMPORTED: &str = "users.imported";

    pub const MFA_ENABLED: &str = "user.mfa.enabled";
    pub const MFA_DISABLED: &str = "user.mfa.disabled";
    pub const MFA_RESET: &str = "user.mfa.reset";
    pub const MFA_RECOVERY_CODES_REGENERATED: &str = "user.mfa.recovery_codes_regenerated";
    pub const MFA_SETTING_UPDATED: &str = "settings.mfa.updated";
    pub const REAUTHENTICATION_FAILED: &str = "user.reauthentication_failed";
    pub const SESSION_ENDED: &str = "session.ended";
    pub const SESSIONS_ENDED: &str = "session.ended_many";
    pub const LOCKOUT_STARTED: &str = "auth.lockout.started";
    pub const LOCKOUT_LIFTED: &str = "auth.lockout.lifted";
    pub const PASSWORD_EXPIRED: &str = "user.password.expired";

    /// Every action above, for filters and translations.
    pub const ALL: &[&str] = &[
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
        INVITATION_CREATED,
        INVITATION_RESENT,
        INVITATION_WITHDRAWN,
        INVITATION_ACCEPTED,
        INVITATION_TEMPLATE_UPDATED,
        PASSWORD_RESET_REQUESTED,
        PASSWORD_RESET_COMPLETED,
        USER_UPDATED,
        USER_DISABLED,
        USER_ENABLED,
        USER_DELETED,
        USER_PASSWORD_RESET,
        USER_SESSIONS_ENDED,
        ROLES_CHANGED,
        GROUP_CREATED,
        GROUP_UPDATED,
        GROUP_DELETED,
        GROUP_MEMBERS_CHANGED,
        APP_CREATED,
        APP_UPDATED,
        APP_DELETED,
        APP_PEOPLE_CHANGED,
        APP_GROUPS_CHANGED,
        MFA_ENABLED,
        MFA_DISABLED,
        MFA_RESET,
        MFA_RECOVERY_CODES_REGENERATED,
        MFA_SETTING_UPDATED,
        REAUTHENTICATION_FAILED,
        SESSION_ENDED,
        SESSIONS_ENDED,
        LOCKOUT_STARTED,
        LOCKOUT_LIFTED,
        PASSWORD_EXPIRED,
    ];
}

/// One event about to be written.
pub(crate) struct Entry<'a> {
    pub org_id: OrgId,
    pub action: &'static str,
    pub actor: Option<&'a User>,
    pub target: Option<&'a User>,
    pub details: serde_json::Value,
}

impl Usher {
    pub(crate) async fn audit(&self, ctx: &RequestContext, entry: Entry<'_>) -> Result<()> {
        Ok(self.store.append_audit(&audit_event(ctx, entry, self.now())).await?)
    }

    /// Reads the organization's audit log, newest first (administrators only).
    pub async fn audit_events(&self, p: &Principal, mut query: AuditQuery) -> Result<Vec<AuditEvent>> {
        let admin = &policy::authorize(p, Operation::ReadAudit)?;
        query.limit = query.limit.clamp(1, 500);
        if let Some(action) = &query.action {
            usher_domain::text::check_line("action", action)?;
        }
        Ok(self.store.audit_events(admin.org_id(), &query).await?)
    }
}

impl crate::access::policy::Manager<'_> {
    /// The audit entry of something this administrator does.
    pub(crate) fn entry<'a>(
        &'a self,
        action: &'static str,
        target: Option<&'a User>,
        details: serde_json::Value,
    ) -> Entry<'a> {
        Entry { org_id: self.org_id(), action, actor: Some(self.user()), target, details }
    }
}

/// The event as it will be stored: names copied in, at the time given.
pub(crate) fn audit_event(ctx: &RequestContext, entry: Entry<'_>, at: DateTime<Utc>) -> AuditEvent {
    AuditEvent {
        id: EventId::generate(),
        org_id: entry.org_id,
        at,
        action: entry.action.to_owned(),
        actor_id: entry.actor.map(|u| u.id),
        actor_name: entry.actor.map(User::display_name),
        target_id: entry.target.map(|u| u.id.uuid()),
        target_name: entry.target.map(User::display_name),
        address: ctx.address.clone(),
        client: ctx.client.clone(),
        details: printable_json(entry.details),
    }
}

/// Details quote what people typed (a failed sign-in's login): control and bidi
/// characters become U+FFFD, so the record can be stored (PostgreSQL refuses
/// `\u0000` in `jsonb`) and read safely.
fn printable_json(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) => Value::String(usher_domain::text::printable(&s)),
        Value::Array(items) => Value::Array(items.into_iter().map(printable_json).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter().map(|(k, v)| (usher_domain::text::printable(&k), printable_json(v))).collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::printable_json;

    #[test]
    fn details_quote_typed_text_without_controls() {
        let details = json!({ "login": "ad\u{0}min\u{202e}", "n": 3, "list": ["a\u{1b}b"], "k\u{0}": true });
        assert_eq!(
            printable_json(details),
            json!({ "login": "ad\u{fffd}min\u{fffd}", "n": 3, "list": ["a\u{fffd}b"], "k\u{fffd}": true })
        );
    }
}
