//! Administration of users (Administrators and User Managers): create, details,
//! edit, failed sign-ins, sessions, password reset, disable/enable, delete.
//!
//! Every service takes an [`Admin`] proof, checks the token scope, and checks the
//! target with [`Admin::may_manage`], so User Managers never change Administrators
//! and ids of other organizations answer "not found". Rules that must hold under
//! concurrency (unique user ID and email, "never disable or delete the last active
//! Administrator") are enforced by the store in one statement or transaction.

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use serde_json::json;
use usher_domain::{Email, FieldError, Invalid, LoginName, Phone, Role, ShortText, UserId};

use crate::{
    Error, RequestContext, Result, Usher,
    access::policy::{self, Manager, Operation},
    accounts::{ProfileInput, changed_fields},
    audit::action,
    auth::Principal,
    mail::{Mail, OutboxMessage},
    metadata::Metadata,
    passwords::{PasswordOwner, check_policy},
    store::{NewUser, Profile, Session, User, UserStatus},
};

/// A user to create, as an administrator typed it; parsed by [`Usher::admin_create_user`].
#[derive(Debug, Clone, Default)]
pub struct CreateUser {
    pub user_id: String,
    pub email: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub phone: Option<String>,
    /// Organization role names; `None` gives the `user` role.
    pub roles: Option<Vec<String>>,
    pub invite: Invite,
    /// Custom metadata values (see [`crate::metadata`]); when given, required
    /// fields must be there.
    pub metadata: Option<crate::metadata::Metadata>,
}

/// Whether a new user is invited to set their password.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Invite {
    #[default]
    No,
    /// Email the invitation (the user needs an email address).
    Email,
    /// Make the invitation and answer its link, for the administrator to pass on.
    Link,
}

/// A user just created, with the invitation link when one was asked for without email.
#[derive(Debug, Clone)]
pub struct CreatedUser {
    pub user: User,
    pub invitation_link: Option<String>,
}

/// How an administrator resets someone's password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetMode {
    /// A generated password, shown once, to change at the next sign-in.
    Temporary,
    /// A reset link emailed to the user; the old password works until it is used.
    Link,
}

/// One failed sign-in, as the user details page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedLogin {
    pub at: DateTime<Utc>,
    pub address: Option<String>,
    pub client: Option<String>,
    /// `bad_password`, `account_disabled`, ...
    pub reason: String,
}

/// How many failed sign-ins the details show.
pub const FAILED_LOGINS_SHOWN: u32 = 5;

impl Principal {
    /// Whether this caller signed in with a temporary password and must change it
    /// before doing anything else (sessions only: API tokens are not affected).
    pub fn must_change_password(&self) -> bool {
        self.session_id.is_some() && self.user.must_change_password
    }
}

const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
const DIGITS: &[u8] = b"23456789";

/// A random password in groups of four unambiguous letters and digits joined by
/// dashes (`Xk7m-Pq3r-...`): at least 16 random characters (over 90 bits), each
/// class present, long enough for `min_length`.
pub fn temporary_password(min_length: u32) -> String {
    let alphabet: Vec<u8> = [UPPER, LOWER, DIGITS].concat();
    // n groups are 5n - 1 characters long.
    let groups = (min_length as usize + 1).div_ceil(5).max(4);
    let mut rng = rand::rng();
    loop {
        let chars: Vec<u8> = (0..groups * 4).map(|_| alphabet[rng.random_range(0..alphabet.len())]).collect();
        let has = |set: &[u8]| chars.iter().any(|c| set.contains(c));
        if has(UPPER) && has(LOWER) && has(DIGITS) {
            let parts: Vec<String> = chars.chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
            return parts.join("-");
        }
    }
}

fn keep<T>(errors: &mut Vec<FieldError>, r: Result<T, Invalid>) -> Option<T> {
    r.map_err(|e| errors.extend(e.0)).ok()
}

fn required_text(errors: &mut Vec<FieldError>, field: &str, raw: &str) -> Option<String> {
    match ShortText::parse(field, raw) {
        Ok(Some(t)) => Some(t.into_string()),
        Ok(None) => {
            errors.push(FieldError::new(field, "required", "This field is required."));
            None
        }
        Err(e) => {
            errors.extend(e.0);
            None
        }
    }
}

/// Parses a new user, reporting every problem at once.
fn parse_new_user(input: &CreateUser) -> Result<(LoginName, Option<Email>, Profile, Vec<Role>), Invalid> {
    let mut errors = Vec::new();
    let user_id = keep(&mut errors, LoginName::parse(&input.user_id));
    let raw_email = input.email.as_deref().map(str::trim).filter(|e| !e.is_empty());
    let email = raw_email.and_then(|e| keep(&mut errors, Email::parse(e)));
    let first_name = required_text(&mut errors, "first_name", &input.first_name);
    let last_name = required_text(&mut errors, "last_name", &input.last_name);
    let phone = match input.phone.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) => keep(&mut errors, Phone::parse(p)).map(|p| p.as_str().to_owned()),
        None => None,
    };
    let mut roles = Vec::new();
    for raw in input.roles.clone().unwrap_or_else(|| vec![Role::User.as_str().to_owned()]) {
        if let Some(role) = keep(&mut errors, raw.trim().parse::<Role>()) {
            roles.push(role);
        }
    }
    roles.sort();
    roles.dedup();
    if roles.contains(&Role::Administrator) && raw_email.is_none() {
        errors.push(FieldError::new("email", "required", "Administrators must have an email address."));
    } else if input.invite != Invite::No && raw_email.is_none() {
        errors.push(FieldError::new("email", "required", "An invitation needs the user's email address."));
    }
    match (user_id, first_name, last_name) {
        (Some(user_id), Some(first_name), Some(last_name)) if errors.is_empty() => {
            let profile =
                Profile { first_name: Some(first_name), last_name: Some(last_name), phone, ..Profile::default() };
            Ok((user_id, email, profile, roles))
        }
        _ => Err(Invalid(errors)),
    }
}

/// What an administrator does to another user that asks for a confirmation first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserAction {
    Delete,
    Disable,
    /// A temporary password: the current one stops working.
    ResetPassword,
    EndSessions,
    /// Removing their authenticator and recovery codes.
    ResetTwoStep,
}

impl UserAction {
    /// Why an administrator may not do this to themselves, if they may not.
    fn not_self(self) -> Option<&'static str> {
        match self {
            UserAction::Delete => Some("You cannot delete your own account."),
            UserAction::Disable => Some("You cannot disable your own account."),
            UserAction::ResetPassword => Some("Change your own password in My profile, with your current one."),
            UserAction::EndSessions | UserAction::ResetTwoStep => None,
        }
    }
}

impl Usher {
    /// A user of the administrator's organization; others answer "not found".
    async fn user_in_org(&self, admin: &Manager<'_>, id: UserId) -> Result<User> {
        self.store.user(id).await?.filter(|u| u.org_id == admin.org_id()).ok_or(Error::NotFound)
    }

    /// A user the administrator may change (scope `users:write`), never themselves
    /// when `not_self` says why.
    async fn managed_user(&self, admin: &Manager<'_>, id: UserId, not_self: Option<&'static str>) -> Result<User> {
        let user = self.user_in_org(admin, id).await?;
        admin.may_manage(&user)?;
        if let Some(why) = not_self
            && user.id == admin.user().id
        {
            return Err(Error::Forbidden(why));
        }
        Ok(user)
    }

    async fn audit_admin(
        &self,
        ctx: &RequestContext,
        admin: &Manager<'_>,
        action: &'static str,
        target: &User,
        details: serde_json::Value,
    ) -> Result<()> {
        self.audit(ctx, admin.entry(action, Some(target), details)).await
    }

    /// Creates a user without a password (status `invited`): user ID unique in the
    /// organization (case-insensitive), email unique and required for
    /// Administrators; only Administrators give the Administrator role. With an
    /// [`Invite`], the user is invited to set their password. A
    /// duplicate (even one created at the same instant) fails with
    /// [`Conflict::UserIdTaken`](crate::Conflict::UserIdTaken) or
    /// [`Conflict::EmailTaken`](crate::Conflict::EmailTaken).
    pub async fn admin_create_user(
        &self,
        ctx: &RequestContext,
        p: &Principal,
        input: CreateUser,
    ) -> Result<CreatedUser> {
        let admin = &policy::authorize(p, Operation::ManageUsers)?;
        // Every bad field at once: the user's own and the custom ones.
        let metadata = match &input.metadata {
            Some(m) => Some(self.validate_metadata(admin.org_id(), m, None).await),
            None => None,
        };
        let ((user_id, email, profile, roles), metadata) = both(parse_new_user(&input), metadata.transpose())?;
        admin.may_grant(&roles)?;
        let now = self.now();
        let new = NewUser {
            id: UserId::generate(),
            org_id: admin.org_id(),
            user_id: user_id.as_str().to_owned(),
            user_id_key: user_id.key(),
            email: email.as_ref().map(|e| e.as_str().to_owned()),
            email_key: email.as_ref().map(Email::key),
            profile,
            status: UserStatus::Invited,
            roles,
            password_hash: None,
            created_at: now,
        };
        let user = new.to_user(metadata.clone().unwrap_or_default());
        let details =
            json!({ "user_id": user.user_id, "email": user.email, "roles": user.roles, "metadata": user.metadata });
        let event = self.audit_event(ctx, admin.entry(action::USER_CREATED, Some(&user), details), now);
        let invitation = match input.invite {
            Invite::No => None,
            how => {
                let email = crate::invitations::invitable(&user)?;
                let roles = user.roles.clone();
                Some(self.prepare_invitation(ctx, admin, email, Some(user.id), roles, how == Invite::Email).await?)
            }
        };
        let entries = metadata.as_ref().map(crate::metadata::search_entries);
        let values = metadata.as_ref().zip(entries.as_deref());
        let write = invitation.as_ref().map(|i| i.to_write());
        self.store.create_user(&new, values, &event, write.as_ref()).await?;
        let user = self.store.user(new.id).await?.ok_or(Error::NotFound)?;
        let invitation_link = match invitation {
            Some(i) if i.sends() => {
                self.mail_written();
                None
            }
            Some(i) => Some(i.created().link),
            None => None,
        };
        Ok(CreatedUser { user, invitation_link })
    }

    /// One user's details (scope `users:read`). User Managers may read
    /// Administrators' details, not change them.
    pub async fn user_details(&self, p: &Principal, id: UserId) -> Result<User> {
        let admin = &policy::authorize(p, Operation::ReadUsers)?;
        self.user_in_org(admin, id).await
    }

    /// Changes a user's profile (never the email) and, when given, custom
    /// metadata values over the current ones, reporting every bad field of both
    /// at once; nothing changes unless all are good. Both are saved in one
    /// transaction and audited as one `user.updated`.
    pub async fn admin_update_user(
        &self,
        ctx: &RequestContext,
        p: &Principal,
        id: UserId,
        input: ProfileInput,
        metadata: Option<&Metadata>,
    ) -> Result<User> {
        let admin = &policy::authorize(p, Operation::ManageUsers)?;
        let user = self.managed_user(admin, id, None).await?;
        let before = user.profile.clone();
        let profile = input.apply_to(before.clone());
        let values = match metadata {
            Some(patch) => Some(self.validate_metadata(user.org_id, patch, Some(&user.metadata)).await),
            None => None,
        };
        let (after, values) = both(profile, values.transpose())?;
        let values = values.filter(|v| *v != user.metadata);
        if after == before && values.is_none() {
            return Ok(user);
        }
        let now = self.now();
        match &values {
            Some(values) => {
                let profile = (after != before).then_some(&after);
                let entries = crate::metadata::search_entries(values);
                self.store.set_user_metadata(user.org_id, user.id, profile, values, &entries, now).await?;
            }
            None => self.store.update_profile(user.id, &after, now).await?,
        }
        let updated = self.store.user(user.id).await?.ok_or(Error::NotFound)?;
        let mut fields = changed_fields(&before, &after);
        let mut details = json!({});
        if let Some(values) = &values {
            fields.push("metadata");
            details = json!({ "before": user.metadata, "after": values });
        }
        details["fields"] = json!(fields);
        self.audit_admin(ctx, admin, action::USER_UPDATED, &updated, details).await?;
        Ok(updated)
    }

    /// The last [`FAILED_LOGINS_SHOWN`] failed sign-ins of a user, newest first,
    /// read from the audit log (scope `users:read`).
    pub async fn failed_logins(&self, p: &Principal, id: UserId) -> Result<Vec<FailedLogin>> {
        let _admin = &policy::authorize(p, Operation::ReadUsers)?;

        let user = self.user_details(p, id).await?;
        let events = self.store.events_about(user.id, action::LOGIN_FAILED, FAILED_LOGINS_SHOWN).await?;
        Ok(events
            .into_iter()
            .map(|e| FailedLogin {
                at: e.at,
                address: e.address,
                client: e.client,
                reason: e.details.get("reason").and_then(|r| r.as_str()).unwrap_or("unknown").to_owned(),
            })
            .collect())
    }

    /// A user's live sessions, newest first (scope `users:read`).
    pub async fn user_sessions(&self, p: &Principal, id: UserId) -> Result<Vec<Session>> {
        let _admin = &policy::authorize(p, Operation::ReadUsers)?;

        let user = self.user_details(p, id).await?;
        let now = self.now();
        let idle = Duration::from_std(self.config.session_idle).unwrap_or(Duration::minutes(30));
        Ok(self.store.live_sessions(user.id, now, now - idle, None, u32::MAX).await?)
    }

    /// Ends every session of a user (the browser is signed out at its next request);
    /// returns how many ended.
    pub async fn end_user_sessions(&self, ctx: &RequestContext, p: &Principal, id: UserId) -> Result<u64> {
        let admin = &policy::authorize(p, Operation::ManageUsers)?;

        let user = self.managed_user(admin, id, UserAction::EndSessions.not_self()).await?;
        let ended = self.store.delete_sessions_except(user.id, None).await?;
        self.audit_admin(ctx, admin, action::USER_SESSIONS_ENDED, &user, json!({ "sessions_ended": ended })).await?;
        Ok(ended)
    }

    /// Resets someone else's password. [`ResetMode::Temporary`] answers a generated
    /// password (shown once) that meets the organization's policy and must be
    /// changed at the next sign-in; the user's sessions end and an invited user can
    /// now sign in. [`ResetMode::Link`] emails a reset link valid one day and
    /// answers `None` (422 `no_email` or `disabled` when it cannot be sent).
    pub async fn reset_password(
        &self,
        ctx: &RequestContext,
        p: &Principal,
        id: UserId,
        mode: ResetMode,
    ) -> Result<Option<String>> {
        let admin = &policy::authorize(p, Operation::ManageUsers)?;

        let user = self.managed_user(admin, id, UserAction::ResetPassword.not_self()).await?;
        match mode {
            ResetMode::Temporary => {
                let policy = self.password_policy(user.org_id).await?;
                let owner = PasswordOwner {
                    user_id: &user.user_id,
                    email: user.email.as_deref(),
                    names: [user.profile.first_name.as_deref(), user.profile.last_name.as_deref()],
                };
                let password = (0..1000)
                    .map(|_| temporary_password(policy.min_length))
                    .find(|p| check_policy(&policy, p, &owner, "password").is_empty())
                    .ok_or_else(|| Error::internal("no generated password met the password policy"))?;
                let hash = self.hasher.hash(&password).await?;
                let ended = self.store.set_temporary_password(user.id, &hash, self.now(), policy.history).await?;
                let details = json!({ "mode": "temporary", "sessions_ended": ended });
                self.audit_admin(ctx, admin, action::USER_PASSWORD_RESET, &user, details).await?;
                Ok(Some(password))
            }
            ResetMode::Link => {
                self.send_password_reset_link(ctx, admin, &user).await?;
                self.audit_admin(ctx, admin, action::USER_PASSWORD_RESET, &user, json!({ "mode": "link" })).await?;
                Ok(None)
            }
        }
    }

    /// Disables a user: they cannot sign in, and their sessions and API tokens stop
    /// at once. Not yourself; User Managers not an Administrator; never the last
    /// active Administrator.
    pub async fn disable_user(&self, ctx: &RequestContext, p: &Principal, id: UserId) -> Result<User> {
        let admin = &policy::authorize(p, Operation::ManageUsers)?;

        let user = self.managed_user(admin, id, UserAction::Disable.not_self()).await?;
        if user.status == UserStatus::Disabled {
            return Ok(user);
        }
        let ended = self.store.set_user_status(admin.org_id(), user.id, true, self.now()).await?;
        let updated = self.store.user(user.id).await?.ok_or(Error::NotFound)?;
        let details = json!({ "previous_status": user.status.as_str(), "sessions_ended": ended });
        self.audit_admin(ctx, admin, action::USER_DISABLED, &updated, details).await?;
        Ok(updated)
    }

    /// Enables a disabled user again (active, or invited if they never set a password).
    pub async fn enable_user(&self, ctx: &RequestContext, p: &Principal, id: UserId) -> Result<User> {
        let admin = &policy::authorize(p, Operation::ManageUsers)?;

        let user = self.managed_user(admin, id, None).await?;
        if user.status != UserStatus::Disabled {
            return Ok(user);
        }
        self.store.set_user_status(admin.org_id(), user.id, false, self.now()).await?;
        let updated = self.store.user(user.id).await?.ok_or(Error::NotFound)?;
        self.audit_admin(ctx, admin, action::USER_ENABLED, &updated, json!({ "status": updated.status.as_str() }))
            .await?;
        Ok(updated)
    }

    /// Deletes a user: account data, tokens, sessions, role assignments and group
    /// memberships go; audit entries stay, naming the user as they were; apps stay.
    /// When an app is left without an owner, every User Manager is emailed.
    pub async fn delete_user(&self, ctx: &RequestContext, p: &Principal, id: UserId) -> Result<()> {
        let admin = &policy::authorize(p, Operation::ManageUsers)?;
        let user = self.managed_user(admin, id, UserAction::Delete.not_self()).await?;
        let orphaned = self.store.apps_solely_owned_by(user.id).await?;
        let apps: Vec<&str> = orphaned.iter().map(|(_, name)| name.as_str()).collect();
        let details = json!({
            "user_id": user.user_id, "email": user.email, "roles": user.roles, "apps_without_owner": apps,
        });
        let event = self.audit_event(ctx, admin.entry(action::USER_DELETED, Some(&user), details), self.now());
        let notices =
            if apps.is_empty() { Vec::new() } else { self.apps_without_owner_notices(admin, &user, &apps).await? };
        self.store.delete_user(admin.org_id(), user.id, &event, &notices).await?;
        if !notices.is_empty() {
            self.mail_written();
        }
        Ok(())
    }

    /// What a form to create users offers the caller: the roles they may give
    /// and the organization's custom fields (people managers only).
    pub async fn user_form_options(&self, p: &Principal) -> Result<UserFormOptions> {
        let admin = &policy::authorize(p, Operation::ManageUsers)?;
        let metadata_fields = self.metadata_fields(admin.org_id()).await?;
        Ok(UserFormOptions { roles: policy::grantable_roles(p), metadata_fields })
    }

    /// The user a deletion would remove, checked as [`Usher::delete_user`]
    /// checks it (for a confirmation page).
    pub async fn user_to_delete(&self, p: &Principal, id: UserId) -> Result<User> {
        self.user_to_act_on(p, id, UserAction::Delete).await
    }

    /// The user an administrator is about to act on, for the page that asks
    /// them to confirm: refused exactly as the action itself would be.
    pub async fn user_to_act_on(&self, p: &Principal, id: UserId, action: UserAction) -> Result<User> {
        let admin = &policy::authorize(p, Operation::ManageUsers)?;
        self.managed_user(admin, id, action.not_self()).await
    }

    /// Emails every User Manager of the organization the apps a deletion left
    /// without an owner.
    async fn apps_without_owner_notices(
        &self,
        admin: &Manager<'_>,
        deleted: &User,
        apps: &[&str],
    ) -> Result<Vec<OutboxMessage>> {
        let managers = self.store.active_users_with_role(admin.org_id(), Role::UserManager).await?;
        let list: String = apps.iter().map(|a| format!("  - {a}\n")).collect();
        let text = format!(
            "{actor} deleted the user {name} ({user_id}), who was the only owner of:\n\n{list}\n\
             These apps now have no owner. Give each one an owner in Usher: {base}/admin/apps\n",
            actor = admin.user().display_name(),
            name = deleted.display_name(),
            user_id = deleted.user_id,
            base = self.config.base_url,
        );
        let subject = if apps.len() == 1 {
            format!("The app {} has no owner", apps[0])
        } else {
            format!("{} apps have no owner", apps.len())
        };
        let now = self.now();
        Ok(managers
            .into_iter()
            .filter_map(|m| m.email)
            .map(|to| {
                OutboxMessage::new(admin.org_id(), Mail { to, subject: subject.clone(), text: text.clone() }, now)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_passwords_are_long_mixed_and_different() {
        let a = temporary_password(8);
        assert_eq!(a.len(), 19, "{a}");
        assert_eq!(a.matches('-').count(), 3);
        assert!(a.chars().any(|c| c.is_ascii_uppercase()) && a.chars().any(|c| c.is_ascii_lowercase()));
        assert!(a.chars().any(|c| c.is_ascii_digit()));
        assert!(!a.contains(['0', 'O', 'l', '1', 'I']));
        assert_ne!(a, temporary_password(8));
        for min in [19, 20, 24, 25, 40, 128] {
            assert!(temporary_password(min).len() >= min as usize, "{min}");
        }
    }

    #[test]
    fn temporary_passwords_meet_the_strict_preset() {
        let strict = usher_domain::PasswordPolicy::presets().into_iter().find(|(n, _)| *n == "strict").unwrap().1;
        let owner = PasswordOwner { user_id: "ann", email: Some("ann@example.org"), names: [Some("Ann"), None] };
        let ok =
            (0..20).filter(|_| check_policy(&strict, &temporary_password(strict.min_length), &owner, "p").is_empty());
        assert!(ok.count() >= 19);
    }

    #[test]
    fn new_users_report_every_problem_at_once() {
        let input = CreateUser {
            user_id: "two words".into(),
            email: Some("nope".into()),
            first_name: String::new(),
            last_name: "Lovelace".into(),
            phone: Some("12".into()),
            roles: Some(vec!["administrator".into(), "king".into()]),
            invite: Invite::Email,
            metadata: None,
        };
        let err = parse_new_user(&input).unwrap_err();
        let got: Vec<_> = err.0.iter().map(|e| (e.field.as_str(), e.code.as_str())).collect();
        assert_eq!(
            got,
            [
                ("user_id", "invalid"),
                ("email", "invalid"),
                ("first_name", "required"),
                ("phone", "invalid"),
                ("roles", "unknown_role")
            ]
        );
        let admin_without_email = CreateUser {
            user_id: "ada".into(),
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            roles: Some(vec!["administrator".into()]),
            ..Default::default()
        };
        let err = parse_new_user(&admin_without_email).unwrap_err();
        assert_eq!((err.0[0].field.as_str(), err.0[0].code.as_str()), ("email", "required"));
        let plain = CreateUser { roles: None, ..admin_without_email };
        let (id, email, profile, roles) = parse_new_user(&plain).unwrap();
        assert_eq!((id.as_str(), email, roles), ("ada", None, vec![Role::User]));
        assert_eq!(profile.first_name.as_deref(), Some("Ada"));
    }
}

/// See [`Usher::user_form_options`].
#[derive(Debug, Clone)]
pub struct UserFormOptions {
    /// Strongest first.
    pub roles: Vec<Role>,
    pub metadata_fields: Vec<crate::metadata::MetadataField>,
}

/// Both results, or every field error of either (another error as it is).
fn both<A, B>(a: Result<A, Invalid>, b: Result<B>) -> Result<(A, B)> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (_, Err(e)) if !matches!(e, Error::Invalid(_)) => Err(e),
        (a, b) => {
            let mut errors = a.err().map(|e| e.0).unwrap_or_default();
            if let Err(Error::Invalid(more)) = b {
                errors.extend(more.0);
            }
            Err(Invalid(errors).into())
        }
    }
}
