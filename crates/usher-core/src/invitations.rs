//! Invitations by email and registration (issue 4), and password-reset links
//! ([`recovery`]). An invitation's link carries a 256-bit secret; only its SHA-256
//! digest is stored. At most one invitation per email address is pending in an
//! organization (a partial unique index), so two simultaneous invitations of one
//! address give one success and one conflict.

mod recovery;
mod template;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use usher_domain::{Email, FieldError, Invalid, InvitationId, LoginName, OrgId, Phone, Role, ShortText, UserId};

pub use self::{
    recovery::RESET_LIFETIME,
    template::{InvitationTemplate, PLACEHOLDERS},
};
use crate::{
    Conflict, Error, RequestContext, Result, Usher,
    access::policy::{self, Manager, Operation},
    accounts::NewAccount,
    audit::{Entry, action},
    auth::{LoginOutcome, Principal},
    mail::{Mail, OutboxMessage, texts},
    passwords::{PasswordOwner, check_policy},
    secrets,
    store::{AuditEvent, Profile, User, UserStatus},
};

/// Registration forms one invitation link may send per 15 minutes.
pub const ACCEPT_TRIES: u32 = 10;

/// How long an invitation link works.
pub const INVITATION_LIFETIME: Duration = Duration::days(7);

/// An invitation as stored (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: InvitationId,
    pub org_id: OrgId,
    pub email: String,
    /// The case-folded email, which uniqueness uses.
    pub email_key: String,
    /// For an invitation to set a password: the user created beforehand (status `invited`).
    pub user: Option<UserId>,
    /// The roles the new user gets.
    pub roles: Vec<Role>,
    pub invited_by: Option<UserId>,
    /// The inviter's name as it was, so the list still says who after they are deleted.
    pub invited_by_name: Option<String>,
    pub digest: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub accepted_user: Option<UserId>,
    pub withdrawn_at: Option<DateTime<Utc>>,
}

/// Where an invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Expired,
    Withdrawn,
}

impl InvitationStatus {
    pub fn of(i: &Invitation, now: DateTime<Utc>) -> Self {
        if i.accepted_at.is_some() {
            Self::Accepted
        } else if i.withdrawn_at.is_some() {
            Self::Withdrawn
        } else if i.expires_at <= now {
            Self::Expired
        } else {
            Self::Pending
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Expired => "expired",
            Self::Withdrawn => "withdrawn",
        }
    }
}

/// A new or renewed invitation and its link (shown to the inviter when they send
/// the invitation themselves).
#[derive(Debug, Clone)]
pub struct InvitationCreated {
    pub invitation: Invitation,
    pub link: String,
    /// Whether Usher emailed it.
    pub sent: bool,
}

/// One page of invitations, newest first.
#[derive(Debug, Clone)]
pub struct InvitationPage {
    pub items: Vec<Invitation>,
    /// For each item, whether the caller may resend or withdraw it (see
    /// [`Usher::may_act_on_invitation`]).
    pub actionable: Vec<bool>,
    pub next_cursor: Option<InvitationId>,
}

/// What the registration page shows the holder of a link.
#[derive(Debug, Clone)]
pub struct InvitationView {
    pub status: InvitationStatus,
    /// The inviting organization (its password policy applies).
    pub org_id: OrgId,
    pub email: String,
    pub organization: String,
    pub expires_at: DateTime<Utc>,
    /// The user ID to prefill: the email, or the pre-created user's ID.
    pub user_id: String,
    /// An invitation to set the password of an account created beforehand (the
    /// user ID is then fixed).
    pub existing_user: bool,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

/// The registration form.
#[derive(Debug, Clone, Default)]
pub struct Acceptance {
    pub user_id: String,
    pub first_name: String,
    pub last_name: String,
    pub password: String,
    pub phone: Option<String>,
}

/// Storage for this area; part of [`crate::Store`].
/// An invitation to write, with what is written along with it.
#[derive(Debug, Clone, Copy)]
pub struct NewInvitation<'a> {
    pub invitation: &'a Invitation,
    pub now: DateTime<Utc>,
    /// Close a pending invitation of the same address (re-inviting an account).
    pub replace_pending: bool,
    pub event: &'a AuditEvent,
    pub mail: Option<&'a OutboxMessage>,
}

/// An invitation made but not yet written (see [`Usher::prepare_invitation`]).
pub(crate) struct PreparedInvitation {
    invitation: Invitation,
    link: String,
    now: DateTime<Utc>,
    event: AuditEvent,
    mail: Option<OutboxMessage>,
}

impl PreparedInvitation {
    pub(crate) fn to_write(&self) -> NewInvitation<'_> {
        NewInvitation {
            invitation: &self.invitation,
            now: self.now,
            replace_pending: self.invitation.user.is_some(),
            event: &self.event,
            mail: self.mail.as_ref(),
        }
    }

    pub(crate) fn sends(&self) -> bool {
        self.mail.is_some()
    }

    pub(crate) fn created(self) -> InvitationCreated {
        let sent = self.mail.is_some();
        InvitationCreated { invitation: self.invitation, link: self.link, sent }
    }
}

/// The address to invite a user created without a password at.
pub(crate) fn invitable(user: &User) -> Result<Email> {
    if user.status != UserStatus::Invited {
        return Err(Invalid::one("user", "not_invited", "This user has already set a password.").into());
    }
    let Some(email) = user.email.as_deref() else {
        return Err(Invalid::one("email", "required", "This user has no email address to invite.").into());
    };
    Ok(Email::parse(email)?)
}

/// The rule of [`Usher::may_act_on_invitation`], with the account (if any) read.
fn invitation_authority(admin: &Manager<'_>, invitation: &Invitation, user: Option<&User>) -> Result<()> {
    admin.may_grant(&invitation.roles)?;
    match user {
        Some(user) => admin.may_manage(user),
        None => Ok(()),
    }
}

impl Usher {
    /// Invites someone by email (Administrators and User Managers, scope
    /// `users:write`). The address must be valid and not used by a user; a pending
    /// invitation of it is a conflict (resend it instead). With `send`, Usher
    /// emails the link; otherwise the inviter sends it themselves.
    pub async fn invite(
        &self,
        ctx: &RequestContext,
        p: &Principal,
        email: &str,
        roles: Option<Vec<Role>>,
        send: bool,
    ) -> Result<InvitationCreated> {
        let admin = &policy::authorize(p, Operation::ManageUsers)?;
        let email = Email::parse(email)?;
        let mut roles = roles.unwrap_or_else(|| vec![Role::User]);
        roles.sort();
        roles.dedup();
        admin.may_grant(&roles)?;
        if self.store.user_by_login(admin.org_id(), &email.key()).await?.is_some() {
            return Err(Invalid::one("email", "taken", "This email address is already used by a user.").into());
        }
        self.issue_invitation(ctx, admin, email, None, roles, send).await
    }

    /// Invites a user created beforehand without a password (status `invited`) to
    /// choose one: accepting sets their password and names and activates them. A
    /// pending invitation of theirs is replaced. With `send`, Usher emails the link.
    pub async fn invite_user(
        &self,
        ctx: &RequestContext,
        p: &Principal,
        user: &User,
        send: bool,
    ) -> Result<InvitationCreated> {
        let admin = &policy::authorize(p, Operation::ManageUsers)?;
        admin.may_manage(user)?;
        let email = invitable(user)?;
        self.issue_invitation(ctx, admin, email, Some(user.id), user.roles.clone(), send).await
    }

    async fn issue_invitation(
        &self,
        ctx: &RequestContext,
        admin: &Manager<'_>,
        email: Email,
        user: Option<UserId>,
        roles: Vec<Role>,
        send: bool,
    ) -> Result<InvitationCreated> {
        let prepared = self.prepare_invitation(ctx, admin, email, user, roles, send).await?;
        self.store.insert_invitation(&prepared.to_write()).await?;
        if prepared.sends() {
            self.mail_written();
        }
        Ok(prepared.created())
    }

    /// An invitation with its audit entry and, with `send`, its email, ready
    /// to be written in one transaction.
    pub(crate) async fn prepare_invitation(
        &self,
        ctx: &RequestContext,
        admin: &Manager<'_>,
        email: Email,
        user: Option<UserId>,
        roles: Vec<Role>,
        send: bool,
    ) -> Result<PreparedInvitation> {
        let now = self.now();
        let secret = secrets::random_secret()?;
        let invitation = Invitation {
            id: InvitationId::generate(),
            org_id: admin.org_id(),
            email: email.as_str().to_owned(),
            email_key: email.key(),
            user,
            roles,
            invited_by: Some(admin.user().id),
            invited_by_name: Some(admin.user().display_name()),
            digest: secrets::digest(&secret),
            created_at: now,
            expires_at: now + INVITATION_LIFETIME,
            accepted_at: None,
            accepted_user: None,
            withdrawn_at: None,
        };
        let link = self.invitation_link(&secret);
        let mail = if send { Some(self.invitation_mail(admin, &invitation, &link).await?) } else { None };
        let details = json!({ "invitation_id": invitation.id, "email": invitation.email, "sent": send,
            "roles": invitation.roles, "existing_user": user.is_some() });
        let event = self.audit_event(ctx, admin.entry(action::INVITATION_CREATED, None, details), now);
        Ok(PreparedInvitation { invitation, link, now, event, mail })
    }

    fn invitation_link(&self, secret: &str) -> String {
        format!("{}/register/{secret}", self.config.base_url)
    }

    async fn invitation_mail(&self, admin: &Manager<'_>, invitation: &Invitation, link: &str) -> Result<OutboxMessage> {
        let template = self.invitation_template(admin.org_id(), admin.user().profile.language).await?;
        let org = self.store.organization(admin.org_id()).await?.ok_or(Error::NotFound)?;
        let expires = texts::when(invitation.expires_at, admin.user().profile.timezone);
        let (subject, text) =
            template.render(link, &org.name, &admin.user().display_name(), &invitation.email, &expires);
        Ok(OutboxMessage::new(admin.org_id(), Mail { to: invitation.email.clone(), subject, text }, self.now()))
    }

    /// The organization's invitations, newest first (scope `users:read`).
    pub async fn invitations(&self, p: &Principal, before: Option<InvitationId>, limit: u32) -> Result<InvitationPage> {
        let admin = &policy::authorize(p, Operation::ReadUsers)?;
        let limit = limit.clamp(1, 200);
        let items = self.store.invitations_page(admin.org_id(), before, limit).await?;
        let ids: Vec<UserId> = items.iter().filter_map(|i| i.user).collect();
        let users = if ids.is_empty() { Vec::new() } else { self.store.org_users(admin.org_id(), &ids).await? };
        let actionable = items
            .iter()
            .map(|i| {
                let user = i.user.and_then(|id| users.iter().find(|u| u.id == id));
                invitation_authority(admin, i, user).is_ok()
            })
            .collect();
        let next_cursor = if items.len() == limit as usize { items.last().map(|i| i.id) } else { None };
        Ok(InvitationPage { items, actionable, next_cursor })
    }

    /// Fails unless `admin` may act on this invitation (resend, withdraw, see its
    /// link): they must be able to give every role it carries and, for an
    /// invitation to set the password of an existing account, to manage that
    /// account as it is now. Every operation on an invitation goes through here,
    /// so a User Manager never handles an Administrator's invitation.
    pub(crate) async fn may_act_on_invitation(&self, admin: &Manager<'_>, invitation: &Invitation) -> Result<()> {
        let user = match invitation.user {
            Some(id) => self.store.user(id).await?,
            None => None,
        };
        invitation_authority(admin, invitation, user.as_ref())
    }

    /// The invitation an administrator is about to withdraw, for the page that
    /// asks them to confirm: refused exactly as the withdrawal would be.
    pub async fn invitation_to_withdraw(&self, p: &Principal, id: InvitationId) -> Result<Invitation> {
        let admin = &policy::authorize(p, Operation::ManageUsers)?;
        self.invitation_to_act_on(admin, id).await
    }

    async fn invitation_to_act_on(&self, admin: &Manager<'_>, id: InvitationId) -> Result<Invitation> {
        let invitation = self.store.invitation(admin.org_id(), id).await?.ok_or(Error::NotFound)?;
        self.may_act_on_invitation(admin, &invitation).await?;
        Ok(invitation)
    }

    /// Withdraws a pending (or expired) invitation: its link stops working.
    pub async fn withdraw_invitation(
        &self,
        ctx: &RequestContext,
        p: &Principal,
        id: InvitationId,
    ) -> Result<Invitation> {
        let admin = &policy::authorize(p, Operation::ManageUsers)?;
        let invitation = self.invitation_to_act_on(admin, id).await?;
        if !self.store.withdraw_invitation(admin.org_id(), id, self.now()).await? {
            return Err(Conflict::InvitationClosed.into());
        }
        let details = json!({ "invitation_id": id, "email": invitation.email });
        self.audit(
            ctx,
            Entry {
                org_id: admin.org_id(),
                action: action::INVITATION_WITHDRAWN,
                actor: Some(admin.user()),
                target: None,
                details,
            },
        )
        .await?;
        self.store.invitation(admin.org_id(), id).await?.ok_or(Error::NotFound)
    }

    /// Sends a pending or expired invitation again with a new link (the old one
    /// stops working) and a new expiry. With `send` false, only the link is renewed.
    pub async fn resend_invitation(
        &self,
        ctx: &RequestContext,
        p: &Principal,
        id: InvitationId,
        send: bool,
    ) -> Result<InvitationCreated> {
        let admin = &policy::authorize(p, Operation::ManageUsers)?;
        let invitation = self.store.invitation(admin.org_id(), id).await?.ok_or(Error::NotFound)?;
        // An invitation to set the password of an existing account carries that
        // account's roles as they are now, which the caller was just checked to manage.
        let user = match invitation.user {
            Some(id) => self.store.user(id).await?,
            None => None,
        };
        invitation_authority(admin, &invitation, user.as_ref())?;
        let roles = user.map_or_else(|| invitation.roles.clone(), |u| u.roles);
        admin.may_grant(&roles)?;
        let now = self.now();
        let secret = secrets::random_secret()?;
        let digest = secrets::digest(&secret);
        let expires_at = now + INVITATION_LIFETIME;
        if !self.store.renew_invitation(admin.org_id(), id, &digest, expires_at, &roles).await? {
            return Err(Conflict::InvitationClosed.into());
        }
        let invitation = self.store.invitation(admin.org_id(), id).await?.ok_or(Error::NotFound)?;
        let link = self.invitation_link(&secret);
        if send {
            let mail = self.invitation_mail(admin, &invitation, &link).await?;
            self.store.insert_mail(&mail).await?;
            self.mail_written();
        }
        let details = json!({ "invitation_id": id, "email": invitation.email, "sent": send });
        self.audit(
            ctx,
            Entry {
                org_id: admin.org_id(),
                action: action::INVITATION_RESENT,
                actor: Some(admin.user()),
                target: None,
                details,
            },
        )
        .await?;
        Ok(InvitationCreated { invitation, link, sent: send })
    }

    /// What the registration page shows for a link (public: the secret is the
    /// proof). Unknown links are [`Error::NotFound`]; used, withdrawn and expired
    /// ones answer their status only.
    pub async fn invitation_view(&self, secret: &str) -> Result<InvitationView> {
        let (invitation, org) =
            self.store.invitation_by_digest(&secrets::digest(secret)).await?.ok_or(Error::NotFound)?;
        let status = InvitationStatus::of(&invitation, self.now());
        let existing = match invitation.user {
            Some(id) if status == InvitationStatus::Pending => self.store.user(id).await?,
            _ => None,
        };
        let pending = status == InvitationStatus::Pending;
        Ok(InvitationView {
            status,
            org_id: org.id,
            email: if pending { invitation.email.clone() } else { String::new() },
            organization: org.name,
            expires_at: invitation.expires_at,
            user_id: existing
                .as_ref()
                .map_or_else(|| if pending { invitation.email.clone() } else { String::new() }, |u| u.user_id.clone()),
            existing_user: invitation.user.is_some(),
            first_name: existing.as_ref().and_then(|u| u.profile.first_name.clone()),
            last_name: existing.as_ref().and_then(|u| u.profile.last_name.clone()),
        })
    }

    /// Registers through an invitation link: creates the user (or completes the
    /// one created beforehand) under the organization's password policy, reporting
    /// every bad field at once; signs them in; emails the inviter. The link works once.
    pub async fn accept_invitation(
        &self,
        ctx: &RequestContext,
        secret: &str,
        form: Acceptance,
    ) -> Result<LoginOutcome> {
        let gone = || Error::Conflict(Conflict::InvitationLinkClosed);
        let digest = secrets::digest(secret);
        let (invitation, _) = self.store.invitation_by_digest(&digest).await?.ok_or(Error::NotFound)?;
        if InvitationStatus::of(&invitation, self.now()) != InvitationStatus::Pending {
            return Err(gone());
        }
        // The link gives what the invitation carried when it was made: an account
        // given more roles since then needs a new invitation from someone who may
        // give them.
        let existing = match invitation.user {
            Some(id) => Some(
                self.store
                    .user(id)
                    .await?
                    .filter(|u| u.status == UserStatus::Invited && u.roles.iter().all(|r| invitation.roles.contains(r)))
                    .ok_or_else(gone)?,
            ),
            None => None,
        };
        // The form says when a user ID is taken, which tells the link's holder
        // which IDs exist: a few tries per quarter hour are enough for a person.
        self.take_limited(&format!("i:{}", invitation.id), ACCEPT_TRIES, Duration::minutes(15)).await?;
        let parsed = self.parse_acceptance(&invitation, existing.as_ref(), &form).await?;
        let taken = self.store.take_invitation(&digest, self.now()).await?.ok_or_else(gone)?;
        let created = match &existing {
            Some(user) => self.complete_invited_user(user, &parsed, &form.password).await,
            None => self.register(ctx, &taken, parsed, &form.password).await,
        };
        let user = match created {
            Ok(user) => user,
            Err(e) => {
                self.store.release_invitation(taken.id).await?;
                return Err(e);
            }
        };
        self.store.set_invitation_user(taken.id, user.id).await?;
        let details = json!({ "invitation_id": taken.id, "email": taken.email, "invited_by": taken.invited_by });
        self.audit(
            ctx,
            Entry {
                org_id: user.org_id,
                action: action::INVITATION_ACCEPTED,
                actor: Some(&user),
                target: Some(&user),
                details,
            },
        )
        .await?;
        self.notify_inviter(&taken, &user).await?;
        self.start_session(ctx, user, self.now()).await
    }

    /// Checks every field of the registration form at once.
    async fn parse_acceptance(
        &self,
        invitation: &Invitation,
        existing: Option<&User>,
        form: &Acceptance,
    ) -> Result<ParsedAcceptance> {
        let mut errors: Vec<FieldError> = Vec::new();
        let user_id = match existing {
            Some(u) => LoginName::parse(&u.user_id).ok(),
            None => LoginName::parse(&form.user_id).map_err(|e| errors.extend(e.in_field("user_id").0)).ok(),
        };
        let mut name = |field: &str, raw: &str| match ShortText::parse(field, raw) {
            Ok(Some(t)) => Some(t),
            Ok(None) => {
                errors.push(FieldError::new(field, "required", "This field is required."));
                None
            }
            Err(e) => {
                errors.extend(e.0);
                None
            }
        };
        let first_name = name("first_name", &form.first_name);
        let last_name = name("last_name", &form.last_name);
        let phone = match form.phone.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            None => None,
            Some(p) => {
                Phone::parse(p).map_err(|e| errors.extend(e.in_field("phone").0)).ok().map(|p| p.as_str().to_owned())
            }
        };
        let policy = self.password_policy(invitation.org_id).await?;
        let owner = PasswordOwner {
            user_id: user_id.as_ref().map_or(form.user_id.as_str(), LoginName::as_str),
            email: Some(&invitation.email),
            names: [first_name.as_ref().map(ShortText::as_str), last_name.as_ref().map(ShortText::as_str)],
        };
        errors.extend(check_policy(&policy, &form.password, &owner, "password"));
        if let (Some(id), None) = (&user_id, existing)
            && self.store.user_by_login(invitation.org_id, &id.key()).await?.is_some()
        {
            errors.push(FieldError::new("user_id", "taken", "This user ID is already taken."));
        }
        match (user_id, first_name, last_name, errors.is_empty()) {
            (Some(user_id), Some(first_name), Some(last_name), true) => {
                Ok(ParsedAcceptance { user_id, first_name, last_name, phone })
            }
            _ => Err(Invalid(errors).into()),
        }
    }

    async fn register(
        &self,
        ctx: &RequestContext,
        invitation: &Invitation,
        parsed: ParsedAcceptance,
        password: &str,
    ) -> Result<User> {
        let account = NewAccount {
            user_id: parsed.user_id,
            email: Some(Email::parse(&invitation.email)?),
            first_name: Some(parsed.first_name),
            last_name: Some(parsed.last_name),
            roles: invitation.roles.clone(),
            password: Some(password.to_owned()),
        };
        let inviter = match invitation.invited_by {
            Some(id) => self.store.user(id).await?,
            None => None,
        };
        let user = self.create_user(ctx, inviter.as_ref(), invitation.org_id, account).await?;
        if parsed.phone.is_none() {
            return Ok(user);
        }
        let profile = Profile { phone: parsed.phone, ..user.profile.clone() };
        self.store.update_profile(user.id, &profile, self.now()).await?;
        self.store.user(user.id).await?.ok_or(Error::NotFound)
    }

    async fn complete_invited_user(&self, user: &User, parsed: &ParsedAcceptance, password: &str) -> Result<User> {
        let profile = Profile {
            first_name: Some(parsed.first_name.as_str().to_owned()),
            last_name: Some(parsed.last_name.as_str().to_owned()),
            phone: parsed.phone.clone().or_else(|| user.profile.phone.clone()),
            ..user.profile.clone()
        };
        let hash = self.hasher.hash(password).await?;
        if !self.store.activate_invited_user(user.id, &profile, &hash, self.now()).await? {
            return Err(Conflict::NotAwaitingPassword.into());
        }
        self.store.user(user.id).await?.ok_or(Error::NotFound)
    }

    /// Emails the inviter that the person they invited registered.
    async fn notify_inviter(&self, invitation: &Invitation, user: &User) -> Result<()> {
        let Some(inviter) = invitation.invited_by else { return Ok(()) };
        let Some(inviter) = self.store.user(inviter).await? else { return Ok(()) };
        let Some(to) = inviter.email.clone() else { return Ok(()) };
        let who = match user.email.as_deref() {
            Some(email) => format!("{} <{email}>", user.display_name()),
            None => user.display_name(),
        };
        let link = format!("{}/admin/users/{}", self.config.base_url, user.id);
        let (subject, text) =
            texts::invitation_accepted(inviter.profile.language, &inviter.display_name(), &who, &user.user_id, &link);
        self.queue_mail(user.org_id, Mail { to, subject, text }).await
    }
}

/// A registration form that passed every check.
struct ParsedAcceptance {
    user_id: LoginName,
    first_name: ShortText,
    last_name: ShortText,
    phone: Option<String>,
}
