//! Sign-in, sessions and who the caller is.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use usher_domain::{Access, LoginName, Resource, Scope, SessionId, TokenId, fold};

use crate::{
    Error, RequestContext, Result, Usher,
    access::policy::{self, Operation},
    audit::{Entry, action},
    mfa::SignIn,
    protection::Keys,
    secrets,
    store::{Organization, Session, TokenAuthority, User, UserStatus},
};

/// An authenticated caller: the user, and the session or API token they came with.
/// What they may do is always checked against the user's *current* roles, and,
/// for a token, also against its scopes.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: User,
    pub session_id: Option<SessionId>,
    /// The CSRF token cookie-authenticated changes must carry.
    pub csrf_token: Option<String>,
    /// The API token used, if any.
    pub token_id: Option<TokenId>,
    /// The token's scopes; `None` for a session, which may do all the user may.
    pub scopes: Option<Vec<Scope>>,
    /// For a token someone else than its owner holds: the most it may do (its
    /// organization roles are already narrowed in `user.roles`; app roles are
    /// narrowed where standing on an app is read).
    pub authority: Option<TokenAuthority>,
    /// For a session opened by signing in with a password that had to be
    /// changed: when that password was proved (see [`Principal::may_skip_current_password`]).
    pub forced_change_proof: Option<DateTime<Utc>>,
}

/// How long after signing in with a password that must be changed the session
/// may choose the new one without typing the old one again: long enough to read
/// the rules and choose, short enough that a session left open on the forced
/// change cannot be taken over by whoever finds it later.
pub const FORCED_CHANGE_WINDOW: Duration = Duration::minutes(10);

impl Principal {
    pub(crate) fn session(user: User, session: &Session, csrf_token: String) -> Self {
        Self {
            user,
            session_id: Some(session.id),
            csrf_token: Some(csrf_token),
            token_id: None,
            scopes: None,
            authority: None,
            forced_change_proof: session.forced_change_proof,
        }
    }

    /// Whether this caller may change the password without giving the current
    /// one: only a session that must change it, opened by signing in with that
    /// very password less than [`FORCED_CHANGE_WINDOW`] ago. Asking again for the
    /// password just typed proves nothing more.
    pub fn may_skip_current_password(&self, now: DateTime<Utc>) -> bool {
        self.must_change_password() && self.forced_change_proof.is_some_and(|at| now < at + FORCED_CHANGE_WINDOW)
    }

    /// Fails unless the caller's token (if any) has a scope for this.
    pub(crate) fn require(&self, resource: Resource, access: Access) -> Result<()> {
        match &self.scopes {
            Some(scopes) if !scopes.iter().any(|s| s.grants(resource, access)) => Err(Error::Forbidden(match access {
                Access::Read => "This API token has no scope to read this.",
                Access::Write => "This API token has no scope to change this (it may be read-only).",
            })),
            _ => Ok(()),
        }
    }

    /// Whether the caller's token could itself grant `scope` (a token never mints a
    /// token stronger than itself).
    pub fn covers(&self, scope: Scope) -> bool {
        let Some(have) = &self.scopes else { return true };
        have.iter().any(|h| {
            (h.resource.is_none() || h.resource == scope.resource)
                && (h.access == scope.access || h.access == Access::Write)
        })
    }
}

/// A successful sign-in: the session secret goes to the client (cookie), once.
#[derive(Debug, Clone)]
pub struct LoginOutcome {
    pub user: User,
    pub session_secret: String,
    pub csrf_token: String,
}

impl Usher {
    /// The named organization, or the default one when no name is given.
    pub async fn organization(&self, slug: Option<&str>) -> Result<Option<Organization>> {
        Ok(match slug.map(str::trim).filter(|s| !s.is_empty()) {
            // A name with a control character names no organization.
            Some(slug) if usher_domain::text::has_control(slug) => None,
            Some(slug) => self.store.organization_by_slug(&fold(slug)).await?,
            None => self.store.default_organization().await?,
        })
    }

    /// Signs in with a user ID or email and a password. Every failure answers the
    /// same [`Error::BadCredentials`] after the same amount of work, whether the
    /// user exists or not; every attempt is audited and counted (see
    /// [`crate::protection`]): a locked account or address, known or not, answers
    /// [`Error::Locked`] before any password check. A user with two-step
    /// verification gets a ticket for [`Usher::login_second_step`] instead of a
    /// session; an expired password must be changed before anything else.
    pub async fn login(&self, ctx: &RequestContext, org: Option<&str>, login: &str, password: &str) -> Result<SignIn> {
        let org = self.organization(org).await?;
        let found = match &org {
            // A login no account can have (control characters) is an unknown user,
            // with the same work, counting and audit as any other.
            Some(org) => match LoginName::lookup_key(login) {
                Some(key) => self.store.user_by_login(org.id, &key).await?,
                None => None,
            },
            None => None,
        };
        let (user, hash) = match found {
            Some((user, hash)) => (Some(user), hash),
            None => (None, None),
        };
        let org_id = org.as_ref().map(|o| o.id);
        let now = self.now();
        let keys = Keys::of_attempt(org_id, user.as_ref(), login, ctx.address.as_deref());
        let guard = match self.take_attempt(&keys, now).await {
            Ok(guard) => guard,
            Err(e) => {
                self.audit_failed_sign_in(ctx, org_id, user.as_ref(), "locked", login, "password").await?;
                return Err(e);
            }
        };
        guard.slow_down().await;
        let password_ok = self.hasher.verify(password, hash.clone()).await?;
        let failure = match &user {
            None => Some("unknown_user"),
            Some(_) if !password_ok => Some("bad_password"),
            Some(u) if u.status != UserStatus::Active => Some("account_disabled"),
            Some(_) => None,
        };
        if let Some(reason) = failure {
            self.attempt_failed(ctx, org_id, &guard, user.as_ref()).await?;
            self.audit_failed_sign_in(ctx, org_id, user.as_ref(), reason, login, "password").await?;
            return Err(Error::BadCredentials);
        }
        let Some(user) = user else { return Err(Error::BadCredentials) };
        // Imported bcrypt/PBKDF2 (or weaker argon2) hashes become argon2id now.
        self.upgrade_password_hash(&user, hash.as_deref(), password).await;
        let facts = self.store.sign_in_facts(user.org_id, user.id).await?;
        if facts.totp {
            self.attempt_succeeded(&guard, false).await?;
            return self.issue_ticket(&user, now).await;
        }
        self.attempt_succeeded(&guard, true).await?;
        let enrol = crate::mfa::required(facts.mfa_setting.as_ref());
        let user = self.expire_password_if_due(ctx, user, facts.password_policy.as_ref(), now).await?;
        Ok(SignIn::Session(self.open_session(ctx, user, now, enrol, json!({})).await?))
    }

    /// Opens a session for a user who just proved who they are: the sign-in time,
    /// the session and the audit entry are written in one transaction.
    pub(crate) async fn start_session(
        &self,
        ctx: &RequestContext,
        user: User,
        now: DateTime<Utc>,
    ) -> Result<LoginOutcome> {
        let enrol = self.enrolment_due(&user).await?;
        self.open_session(ctx, user, now, enrol, json!({})).await
    }

    /// [`Usher::start_session`] with the restriction to two-step enrolment decided
    /// (the secret then starts with [`crate::mfa::ENROLMENT_PREFIX`]) and details
    /// for the audit entry.
    pub(crate) async fn open_session(
        &self,
        ctx: &RequestContext,
        mut user: User,
        now: DateTime<Utc>,
        enrolment_only: bool,
        details: serde_json::Value,
    ) -> Result<LoginOutcome> {
        let mut secret = secrets::random_secret()?;
        if enrolment_only {
            secret.insert_str(0, crate::mfa::ENROLMENT_PREFIX);
        }
        let max = Duration::from_std(self.config.session_max).unwrap_or(Duration::hours(10));
        let session = Session {
            id: SessionId::generate(),
            user: user.id,
            secret_digest: secrets::digest(&secret),
            created_at: now,
            last_active_at: now,
            expires_at: now + max,
            address: ctx.address.clone(),
            client: ctx.client.as_ref().map(|c| c.chars().take(300).collect()),
            // Every session opened while a change is due was opened with the
            // password to change (a password sign-in, maybe with its second step).
            forced_change_proof: user.must_change_password.then_some(now),
        };
        user.last_login_at = Some(now);
        let event = self.audit_event(
            ctx,
            Entry {
                org_id: user.org_id,
                action: action::LOGIN_SUCCEEDED,
                actor: Some(&user),
                target: Some(&user),
                details,
            },
            now,
        );
        self.store.sign_in(&session, &event).await?;
        let csrf_token = secrets::csrf_token(&secret);
        Ok(LoginOutcome { user, session_secret: secret, csrf_token })
    }

    /// The caller behind a session secret, if the session is live and its user active.
    /// Activity is written at most once a minute, so reads stay reads.
    pub async fn authenticate_session(&self, secret: &str) -> Result<Option<Principal>> {
        if secret.is_empty() || secret.len() > 100 {
            return Ok(None);
        }
        let Some((session, user)) = self.store.session_by_digest(&secrets::digest(secret)).await? else {
            return Ok(None);
        };
        let now = self.now();
        let idle = Duration::from_std(self.config.session_idle).unwrap_or(Duration::minutes(30));
        if now >= session.expires_at || now >= session.last_active_at + idle || user.status != UserStatus::Active {
            self.store.delete_session(session.id).await?;
            return Ok(None);
        }
        if now - session.last_active_at >= Duration::seconds(60) {
            self.store.touch_session(session.id, now).await?;
        }
        Ok(Some(Principal::session(user, &session, secrets::csrf_token(secret))))
    }

    /// The caller's own account (scope `profile:read`).
    pub fn me(&self, principal: &Principal) -> Result<User> {
        policy::authorize(principal, Operation::ReadOwnAccount)?;
        Ok(principal.user.clone())
    }

    /// Ends the caller's current session.
    pub async fn logout(&self, ctx: &RequestContext, principal: &Principal) -> Result<()> {
        if let Some(id) = principal.session_id {
            self.store.delete_session(id).await?;
        }
        self.audit(
            ctx,
            Entry {
                org_id: principal.user.org_id,
                action: action::LOGOUT,
                actor: Some(&principal.user),
                target: Some(&principal.user),
                details: json!({}),
            },
        )
        .await
    }
}
