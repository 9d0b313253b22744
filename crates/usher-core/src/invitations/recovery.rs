//! Password-reset links: sent by an administrator or asked for by the user
//! ("forgot password"). A link is valid 1 day and works once; only its SHA-256
//! digest is stored; the old password stays valid until the link is used.

use chrono::Duration;
use serde_json::json;
use usher_domain::{FieldError, Invalid, LoginName};

use crate::{
    Error, RequestContext, Result, Usher,
    access::policy::Manager,
    audit::{Entry, action},
    mail::{Mail, texts},
    passwords::{PasswordOwner, check_policy},
    secrets,
    store::{User, UserStatus},
};

/// How long a reset link works.
pub const RESET_LIFETIME: Duration = Duration::days(1);
/// At most this many reset links per user per hour (self-service requests beyond
/// it are silently dropped).
const RESETS_PER_HOUR: u64 = 3;

impl Usher {
    /// Emails `user` a password-reset link (Administrators and User Managers; the
    /// caller audits the reset). The current password keeps working until the
    /// link is used.
    pub(crate) async fn send_password_reset_link(
        &self,
        _ctx: &RequestContext,
        admin: &Manager<'_>,
        user: &User,
    ) -> Result<()> {
        admin.may_manage(user)?;
        if user.email.is_none() {
            return Err(Invalid::one("mode", "no_email", "This user has no email address to send a link to.").into());
        }
        if user.status == UserStatus::Disabled {
            return Err(Invalid::one("mode", "disabled", "This user is disabled; enable them first.").into());
        }
        self.queue_reset_link(user).await
    }

    async fn queue_reset_link(&self, user: &User) -> Result<()> {
        let Some(to) = user.email.clone() else { return Ok(()) };
        let now = self.now();
        let secret = secrets::random_secret()?;
        let expires_at = now + RESET_LIFETIME;
        self.store.insert_password_reset(&secrets::digest(&secret), user.id, now, expires_at).await?;
        let link = format!("{}/reset-password/{secret}", self.config.base_url);
        let expires = texts::when(expires_at, user.profile.timezone);
        let (subject, text) = texts::password_reset(user.profile.language, &user.display_name(), &link, &expires);
        self.queue_mail(user.org_id, Mail { to, subject, text }).await
    }

    /// Self-service "forgot password": when `login` (user ID or email) names an
    /// active or invited user with an email address, emails them a reset link.
    /// Says nothing either way; callers answer the same whatever happened, and
    /// should run this off the request (its timing differs).
    pub async fn request_password_reset(&self, ctx: &RequestContext, org: Option<&str>, login: &str) -> Result<()> {
        let Some(org) = self.organization(org).await? else { return Ok(()) };
        let Some(key) = LoginName::lookup_key(login).filter(|_| login.len() <= 400) else { return Ok(()) };
        let Some((user, _)) = self.store.user_by_login(org.id, &key).await? else { return Ok(()) };
        if user.status == UserStatus::Disabled || user.email.is_none() {
            return Ok(());
        }
        let recent = self.store.count_password_resets(user.id, self.now() - Duration::hours(1)).await?;
        if recent >= RESETS_PER_HOUR {
            tracing::info!(user = %user.id, "password reset asked for too often; no email sent");
            return Ok(());
        }
        self.queue_reset_link(&user).await?;
        self.audit(
            ctx,
            Entry {
                org_id: user.org_id,
                action: action::PASSWORD_RESET_REQUESTED,
                actor: None,
                target: Some(&user),
                details: json!({}),
            },
        )
        .await
    }

    /// Whether a reset link still works (for the reset page), and whose it is.
    pub async fn password_reset_user(&self, secret: &str) -> Result<User> {
        let id = self.store.password_reset_user(&secrets::digest(secret), self.now()).await?.ok_or(Error::NotFound)?;
        self.store.user(id).await?.filter(|u| u.status != UserStatus::Disabled).ok_or(Error::NotFound)
    }

    /// Sets a new password through a reset link: the organization's policy and
    /// password history apply; the link (and every other of this user) is used up;
    /// "must change password" is cleared, an invited user becomes active, and
    /// every session of the user ends.
    pub async fn complete_password_reset(
        &self,
        ctx: &RequestContext,
        secret: &str,
        new_password: &str,
    ) -> Result<User> {
        let user = self.password_reset_user(secret).await?;
        let policy = self.password_policy(user.org_id).await?;
        let owner = PasswordOwner {
            user_id: &user.user_id,
            email: user.email.as_deref(),
            names: [user.profile.first_name.as_deref(), user.profile.last_name.as_deref()],
        };
        let mut errors = check_policy(&policy, new_password, &owner, "new_password");
        if errors.is_empty() && policy.history > 0 {
            let mut previous = self.store.password_history(user.id, policy.history).await?;
            previous.extend(self.store.password_hash(user.id).await?);
            for old in previous {
                if self.hasher.verify(new_password, Some(old)).await? {
                    errors.push(FieldError::new(
                        "new_password",
                        "history",
                        format!("Choose a password you have not used among your last {}.", policy.history),
                    ));
                    break;
                }
            }
        }
        if !errors.is_empty() {
            return Err(Invalid(errors).into());
        }
        let hash = self.hasher.hash(new_password).await?;
        let now = self.now();
        // Used up only now, so a password the policy refuses leaves the link working.
        if self.store.take_password_reset(&secrets::digest(secret), now).await?.is_none_or(|id| id != user.id) {
            return Err(Error::NotFound);
        }
        if user.status == UserStatus::Invited {
            self.store.activate_invited_user(user.id, &user.profile, &hash, now).await?;
        } else {
            self.store.set_password(user.id, &hash, now, policy.history).await?;
        }
        let ended = self.store.delete_sessions_except(user.id, None).await?;
        // Proving control of the mailbox lifts a sign-in lock on the account.
        self.forget_sign_in_failures(user.id).await?;
        self.audit(
            ctx,
            Entry {
                org_id: user.org_id,
                action: action::PASSWORD_RESET_COMPLETED,
                actor: Some(&user),
                target: Some(&user),
                details: json!({ "sessions_ended": ended }),
            },
        )
        .await?;
        self.store.user(user.id).await?.ok_or(Error::NotFound)
    }
}
