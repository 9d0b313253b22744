//! The append-only audit log: who did what to whom, when, from where; read
//! by Administrators a page at a time or exported whole ([`export`]),
//! filtered by action or family of actions, actor, target and time.

use std::sync::{LazyLock, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use usher_domain::{EventId, Invalid, OrgId};
use uuid::Uuid;

use crate::{
    RequestContext, Result, Usher,
    access::policy::{self, Operation},
    auth::Principal,
    store::{AuditEvent, AuditQuery, User},
};

pub mod export;

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
        METADATA_FIELDS_UPDATED,
        USERS_IMPORTED,
    ];
}

/// The family of an action: its first word (`auth` of `auth.login.failed`).
pub fn family_of(action: &str) -> &str {
    action.split('.').next().unwrap_or(action)
}

/// Every family of [`action::ALL`], each once, in the order they first appear
/// there (`auth`, `user`, `setup`, `settings`, `token`, ...).
pub fn families() -> &'static [&'static str] {
    static FAMILIES: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
        let mut families: Vec<&'static str> = Vec::new();
        for family in action::ALL.iter().map(|a| family_of(a)) {
            if !families.contains(&family) {
                families.push(family);
            }
        }
        families
    });
    &FAMILIES
}

/// Ids of audit events, made from each event's own time (the clock's, not
/// the system's) as UUIDv7, in order within this instance when several share a
/// millisecond: the order of ids is the order of times, so a time range of the
/// log is a range of ids ([`EventId::first_at`]).
#[derive(Debug, Default)]
pub(crate) struct EventIds(Mutex<uuid::ContextV7>);

impl EventIds {
    pub(crate) fn at(&self, at: DateTime<Utc>) -> EventId {
        let context = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let seconds = u64::try_from(at.timestamp()).unwrap_or(0);
        let time = uuid::Timestamp::from_unix(&*context, seconds, at.timestamp_subsec_nanos());
        EventId::from_uuid(Uuid::new_v7(time))
    }
}

/// How many events an export reads from the store at a time.
pub const EXPORT_PAGE: u32 = 500;

/// The query as the store may run it: a known family, text without control
/// characters, a time range that is one.
fn checked(query: AuditQuery) -> Result<AuditQuery> {
    if let Some(action) = &query.action {
        usher_domain::text::check_line("action", action)?;
    }
    if let Some(family) = &query.family
        && !families().contains(&family.as_str())
    {
        let message = format!("Not a family of actions; one of: {}.", families().join(", "));
        return Err(Invalid::one("family", "unknown_family", &message).into());
    }
    if let (Some(since), Some(until)) = (query.since, query.until)
        && until < since
    {
        return Err(Invalid::one("until", "before_since", "The end of the time range comes before its start.").into());
    }
    Ok(query)
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
        let now = self.now();
        Ok(self.store.append_audit(&self.audit_event(ctx, entry, now)).await?)
    }

    /// The event as it will be stored: names copied in, at the time given,
    /// with an id made from that time.
    pub(crate) fn audit_event(&self, ctx: &RequestContext, entry: Entry<'_>, at: DateTime<Utc>) -> AuditEvent {
        audit_event(self.event_ids.at(at), ctx, entry, at)
    }

    /// Reads the organization's audit log, newest first (administrators only).
    pub async fn audit_events(&self, p: &Principal, mut query: AuditQuery) -> Result<Vec<AuditEvent>> {
        let admin = &policy::authorize(p, Operation::ReadAudit)?;
        query.limit = query.limit.clamp(1, 500);
        Ok(self.store.audit_events(admin.org_id(), &checked(query)?).await?)
    }

    /// The whole log the query selects, newest first, for an export to read
    /// page by page ([`export::AuditExport::next_page`]); `limit` and `before`
    /// are the export's own. Refused here, before anything is read, like
    /// [`Usher::audit_events`].
    pub fn audit_export(&self, p: &Principal, query: AuditQuery) -> Result<export::AuditExport> {
        let admin = &policy::authorize(p, Operation::ReadAudit)?;
        let query = AuditQuery { limit: EXPORT_PAGE, before: None, ..checked(query)? };
        Ok(export::AuditExport::new(self.store.clone(), admin.org_id(), query))
    }

    /// The id of someone named in an audit filter (`field`): a UUID as it is,
    /// so people deleted since are still found, else the user ID or email
    /// address of a user of the caller's organization; anything else is a
    /// field error.
    pub async fn audit_person(&self, p: &Principal, field: &str, text: &str) -> Result<Uuid> {
        policy::authorize(p, Operation::ReadAudit)?;
        let text = text.trim();
        match text.parse::<Uuid>() {
            Ok(id) => Ok(id),
            Err(_) => Ok(self.user_by_name(p, field, text).await?.id.uuid()),
        }
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

fn audit_event(id: EventId, ctx: &RequestContext, entry: Entry<'_>, at: DateTime<Utc>) -> AuditEvent {
    AuditEvent {
        id,
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

    use super::*;

    #[test]
    fn families_are_the_first_words_of_the_actions() {
        assert_eq!(family_of("auth.login.failed"), "auth");
        assert_eq!(family_of("nodot"), "nodot");
        let families = families();
        for family in ["auth", "user", "settings", "token", "invitation", "group", "app", "session", "users"] {
            assert!(families.contains(&family), "{family} in {families:?}");
        }
        assert!(action::ALL.iter().all(|a| families.contains(&family_of(a))));
        let mut unique = families.to_vec();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), families.len(), "each once");
    }

    #[test]
    fn event_ids_follow_the_events_time_even_within_a_millisecond() {
        use chrono::TimeZone as _;
        let ids = EventIds::default();
        let at = Utc.with_ymd_and_hms(2030, 1, 2, 3, 4, 5).unwrap();
        let made: Vec<EventId> = (0..50).map(|_| ids.at(at)).collect();
        assert!(made.windows(2).all(|w| w[0] < w[1]), "in order");
        assert!(made.iter().all(|id| *id >= EventId::first_at(at)));
        assert!(made.iter().all(|id| *id < EventId::first_at(at + chrono::Duration::milliseconds(1))));
        let later = ids.at(at + chrono::Duration::days(1));
        assert!(later >= EventId::first_at(at + chrono::Duration::days(1)));
    }

    #[test]
    fn queries_name_known_families_and_real_ranges() {
        use chrono::TimeZone as _;
        let ok = |q: AuditQuery| checked(q).is_ok();
        assert!(ok(AuditQuery { family: Some("auth".into()), ..AuditQuery::default() }));
        assert!(!ok(AuditQuery { family: Some("login".into()), ..AuditQuery::default() }));
        assert!(!ok(AuditQuery { action: Some("a\u{0}b".into()), ..AuditQuery::default() }));
        let day = |d| Some(Utc.with_ymd_and_hms(2026, 5, d, 0, 0, 0).unwrap());
        assert!(ok(AuditQuery { since: day(1), until: day(1), ..AuditQuery::default() }));
        assert!(!ok(AuditQuery { since: day(2), until: day(1), ..AuditQuery::default() }));
    }

    #[test]
    fn details_quote_typed_text_without_controls() {
        let details = json!({ "login": "ad\u{0}min\u{202e}", "n": 3, "list": ["a\u{1b}b"], "k\u{0}": true });
        assert_eq!(
            printable_json(details),
            json!({ "login": "ad\u{fffd}min\u{fffd}", "n": 3, "list": ["a\u{fffd}b"], "k\u{fffd}": true })
        );
    }
}
