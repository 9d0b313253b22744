//! Sign-in protection and password expiry.
//!
//! Failed sign-ins are counted in the database per account and per client
//! address, so every server node sees the same counts and locks. After two
//! failures in a row each attempt on the account waits a little longer before it
//! is checked (0.25 s, doubling up to 2 s); at the threshold the account (or
//! address) is locked for a while and attempts are refused with the time to wait,
//! before any password check. A name no account has is counted and locked the
//! same way, so the answers never tell whether an account exists.
//!
//! The count and the check are one atomic step: every attempt is counted as a
//! failure *before* its password is checked ([`LockoutStore::take_attempt`],
//! one transaction), and one that succeeds gives its count back. So a burst of
//! concurrent attempts, on one node or many, never gets more than the threshold
//! checked.
//!
//! [`LockoutStore::take_attempt`]: crate::store::LockoutStore::take_attempt
//!
//! Passwords expire after the organization's maximum age (non-administrators) or
//! the operator's (administrators): an expired password sets the
//! must-change-password flag at sign-in, and owners are emailed a week before.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};
use usher_domain::{Language, OrgId, PasswordPolicy, Role, UserId, fold};
use uuid::Uuid;

use crate::{
    Error, RequestContext, Result, Usher,
    access::policy::{self, Operation},
    audit::{Entry, action},
    auth::Principal,
    mail::Mail,
    store::{FailureCount, ReminderScope, User},
};

/// How failed sign-ins slow down and lock; operators may change it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failures within the window that lock an account.
    pub account_failures: u32,
    /// How long an account stays locked.
    pub account_lock: StdDuration,
    /// Failures within the window that lock a client address (any accounts).
    pub address_failures: u32,
    /// How long an address stays locked.
    pub address_lock: StdDuration,
    /// Failures older than this are forgotten.
    pub window: StdDuration,
}

impl Default for LockoutPolicy {
    /// 5 failures lock an account for 15 minutes; 20 lock an address for 15 minutes.
    fn default() -> Self {
        Self {
            account_failures: 5,
            account_lock: StdDuration::from_secs(15 * 60),
            address_failures: 20,
            address_lock: StdDuration::from_secs(15 * 60),
            window: StdDuration::from_secs(15 * 60),
        }
    }
}

fn chrono(d: StdDuration) -> Duration {
    Duration::from_std(d).unwrap_or(Duration::minutes(15))
}

/// The throttle keys of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Keys {
    pub account: String,
    pub address: Option<String>,
}

/// The key of an account.
pub(crate) fn account_key(user: UserId) -> String {
    format!("u:{user}")
}

fn address_key(address: Option<&str>) -> Option<String> {
    address.filter(|a| !a.is_empty()).map(|a| format!("a:{}", a.chars().take(64).collect::<String>()))
}

impl Keys {
    /// The keys of a password attempt: the account when it exists, else the name
    /// tried (digested: attacker-chosen text is not stored), and the address.
    pub fn of_attempt(org: Option<OrgId>, user: Option<&User>, login: &str, address: Option<&str>) -> Self {
        let account = match user {
            Some(u) => account_key(u.id),
            None => {
                let mut h = Sha256::new();
                h.update(org.map(OrgId::uuid).unwrap_or_default().as_bytes());
                h.update(fold(login).as_bytes());
                format!("l:{}", hex::encode(&h.finalize()[..16]))
            }
        };
        Self { account, address: address_key(address) }
    }

    pub fn of_user(user: UserId, address: Option<&str>) -> Self {
        Self { account: account_key(user), address: address_key(address) }
    }
}

/// An attempt that may go ahead. It is already counted as a failure (so no
/// burst of concurrent attempts is ever checked against a stale count); one that
/// succeeds gives its count back with [`Usher::attempt_succeeded`].
#[derive(Debug, Clone)]
pub(crate) struct Guard {
    keys: Keys,
    now: DateTime<Utc>,
    /// The account's failures in the current window before this attempt.
    pub account_failures: u32,
    /// The keys this attempt locked, should it fail: (scope, failures, until).
    locks: Vec<(&'static str, u32, Option<DateTime<Utc>>)>,
}

/// The wait before checking an attempt after `failures` recent failures: none for
/// the first two, then 0.25 s doubling up to 2 s.
pub fn delay_after(failures: u32) -> StdDuration {
    if failures < 2 {
        return StdDuration::ZERO;
    }
    let ms = 250u64.saturating_mul(1 << (failures - 2).min(3));
    StdDuration::from_millis(ms.min(2000))
}

impl Guard {
    /// Waits as long as the account's recent failures call for.
    pub async fn slow_down(&self) {
        let wait = delay_after(self.account_failures);
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

/// Whole seconds until `until`, at least 1.
fn seconds_until(until: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    let ms = (until - now).num_milliseconds().max(0) as u64;
    ms.div_ceil(1000).max(1)
}

/// An account's lock as administrators see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockStatus {
    /// Until when the account is locked; `None` when it is not.
    pub locked_until: Option<DateTime<Utc>>,
    /// Failed sign-ins in the current window.
    pub recent_failures: u32,
    pub last_failure_at: Option<DateTime<Utc>>,
}

/// A user's two-step verification and sign-in lock, for administrators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSecurity {
    pub totp_enabled: bool,
    pub recovery_codes_left: u32,
    pub lock: LockStatus,
    pub password_expires_at: Option<DateTime<Utc>>,
}

impl Usher {
    /// The counting rule of each key of an attempt: the account's, then the address's.
    fn failure_counts<'k>(&self, keys: &'k Keys, now: DateTime<Utc>) -> Vec<FailureCount<'k>> {
        let policy = &self.config.lockout;
        let cutoff = now - chrono(policy.window);
        let account = FailureCount {
            key: &keys.account,
            now,
            window_cutoff: cutoff,
            threshold: policy.account_failures,
            lock_until: now + chrono(policy.account_lock),
        };
        let address = keys.address.as_deref().map(|key| FailureCount {
            key,
            now,
            window_cutoff: cutoff,
            threshold: policy.address_failures,
            lock_until: now + chrono(policy.address_lock),
        });
        std::iter::once(account).chain(address).collect()
    }

    /// The sign-in check, one atomic step in the database: takes the attempt on
    /// the account and the address, or refuses it with the time to wait
    /// ([`Error::Locked`]) when either is locked or the attempt would pass its
    /// threshold. Of hundreds of concurrent attempts, on any number of nodes, at
    /// most the threshold are admitted.
    pub(crate) async fn take_attempt(&self, keys: &Keys, now: DateTime<Utc>) -> Result<Guard> {
        let counts = self.failure_counts(keys, now);
        let attempt = self.store.take_attempt(&counts).await?;
        if !attempt.admitted {
            let until = attempt
                .rows
                .iter()
                .zip(&counts)
                .filter(|(row, c)| row.failures > c.threshold)
                .map(|(row, c)| row.locked_until.filter(|u| *u > now).unwrap_or(c.lock_until))
                .max()
                .unwrap_or(now);
            return Err(Error::Locked { retry_after_secs: seconds_until(until, now) });
        }
        let locks = attempt
            .rows
            .iter()
            .zip(&counts)
            .zip(["account", "address"])
            .filter(|((row, c), _)| row.failures >= c.threshold)
            .map(|((row, _), scope)| (scope, row.failures, row.locked_until))
            .collect();
        let account_failures = attempt.rows.first().map_or(0, |r| r.failures.saturating_sub(1));
        Ok(Guard { keys: keys.clone(), now, account_failures, locks })
    }

    /// A simple limit on one key, with the same atomic step as sign-in attempts:
    /// at most `limit` attempts per `window`, then [`Error::Locked`] until the
    /// window is over. Attempts that succeed are not given back.
    pub(crate) async fn take_limited(&self, key: &str, limit: u32, window: Duration) -> Result<()> {
        let now = self.now();
        let rule = FailureCount { key, now, window_cutoff: now - window, threshold: limit, lock_until: now + window };
        let attempt = self.store.take_attempt(&[rule]).await?;
        if attempt.admitted {
            return Ok(());
        }
        let until = attempt.rows.first().and_then(|r| r.locked_until).filter(|u| *u > now).unwrap_or(now + window);
        Err(Error::Locked { retry_after_secs: seconds_until(until, now) })
    }

    /// An admitted attempt failed: it stays counted; a lock it started is
    /// audited (when the organization is known).
    pub(crate) async fn attempt_failed(
        &self,
        ctx: &RequestContext,
        org_id: Option<OrgId>,
        guard: &Guard,
        user: Option<&User>,
    ) -> Result<()> {
        let Some(org_id) = org_id else { return Ok(()) };
        for (scope, failures, locked_until) in &guard.locks {
            let details = json!({ "scope": scope, "failures": failures, "locked_until": locked_until });
            let target = if *scope == "account" { user } else { None };
            let entry = Entry { org_id, action: action::LOCKOUT_STARTED, actor: None, target, details };
            self.audit(ctx, entry).await?;
        }
        Ok(())
    }

    /// An admitted attempt succeeded: its count is given back. With `forget`
    /// (the person is fully signed in) the account's failures are forgotten too;
    /// after a right password that still needs a second step they are not, so a
    /// known password cannot reset the count between guesses of codes.
    pub(crate) async fn attempt_succeeded(&self, guard: &Guard, forget: bool) -> Result<()> {
        let counts = self.failure_counts(&guard.keys, guard.now);
        if forget {
            self.store.give_back_attempt(Some(&guard.keys.account), &counts[1..]).await?;
        } else {
            self.store.give_back_attempt(None, &counts).await?;
        }
        Ok(())
    }

    /// Appends the failed sign-in to the audit log (when the organization is known).
    pub(crate) async fn audit_failed_sign_in(
        &self,
        ctx: &RequestContext,
        org_id: Option<OrgId>,
        user: Option<&User>,
        reason: &str,
        login: &str,
        step: &str,
    ) -> Result<()> {
        let Some(org_id) = org_id else { return Ok(()) };
        let mut details = json!({ "reason": reason, "login": login.chars().take(200).collect::<String>() });
        if step != "password" {
            details["step"] = json!(step);
        }
        let entry = Entry { org_id, action: action::LOGIN_FAILED, actor: None, target: user, details };
        self.audit(ctx, entry).await
    }

    /// A user's sign-in lock (scope `users:read`; Administrators and User Managers).
    pub async fn lock_status(&self, p: &Principal, id: UserId) -> Result<LockStatus> {
        let admin = &policy::authorize(p, Operation::ReadUsers)?;
        let user = self.store.user(id).await?.filter(|u| u.org_id == admin.org_id()).ok_or(Error::NotFound)?;
        let now = self.now();
        let cutoff = now - chrono(self.config.lockout.window);
        let row = self.store.throttle_row(&account_key(user.id)).await?;
        Ok(LockStatus {
            locked_until: row.as_ref().and_then(|r| r.locked_until).filter(|u| *u > now),
            recent_failures: row.as_ref().filter(|r| r.window_start > cutoff).map_or(0, |r| r.failures),
            last_failure_at: row.map(|r| r.last_failure_at),
        })
    }

    /// A user's two-step verification, lock and password expiry (scope `users:read`).
    pub async fn user_security(&self, p: &Principal, id: UserId) -> Result<(User, UserSecurity)> {
        let _admin = &policy::authorize(p, Operation::ReadUsers)?;

        let lock = self.lock_status(p, id).await?;
        let user = self.store.user(id).await?.ok_or(Error::NotFound)?;
        let totp = self.store.totp(user.id).await?.filter(|r| r.confirmed_at.is_some());
        let password_expires_at = self.password_expires_at(&user).await?;
        let security = UserSecurity {
            totp_enabled: totp.is_some(),
            recovery_codes_left: totp.map_or(0, |r| r.recovery_codes_left),
            lock,
            password_expires_at,
        };
        Ok((user, security))
    }

    /// Lifts a user's sign-in lock and forgets their failures (scope `users:write`).
    /// Answers whether there was anything to lift.
    pub async fn unlock_user(&self, ctx: &RequestContext, p: &Principal, id: UserId) -> Result<bool> {
        let admin = &policy::authorize(p, Operation::ManageUsers)?;
        let user = self.store.user(id).await?.ok_or(Error::NotFound)?;
        admin.may_manage(&user)?;
        let status = self.lock_status(p, id).await?;
        let cleared = self.store.clear_throttle(&account_key(user.id)).await?;
        let details = json!({ "was_locked": status.locked_until.is_some(), "failures": status.recent_failures });
        let entry = Entry {
            org_id: admin.org_id(),
            action: action::LOCKOUT_LIFTED,
            actor: Some(admin.user()),
            target: Some(&user),
            details,
        };
        self.audit(ctx, entry).await?;
        Ok(cleared)
    }

    /// Forgets a user's failed sign-ins and lifts their lock, e.g. once they proved
    /// who they are through an emailed password-reset link.
    pub async fn forget_sign_in_failures(&self, user: UserId) -> Result<()> {
        self.store.clear_throttle(&account_key(user)).await?;
        Ok(())
    }

    /// The maximum password age that applies to a user: the operator's for
    /// administrators, the organization's for everyone else.
    fn max_password_age(&self, user: &User, policy: Option<&serde_json::Value>) -> Option<u32> {
        if user.has_role(Role::Administrator) {
            self.config.admin_password_max_age_days
        } else {
            policy
                .and_then(|v| v.get("max_age_days"))
                .and_then(serde_json::Value::as_u64)
                .and_then(|d| u32::try_from(d).ok())
        }
    }

    /// When the user's password expires, if it does.
    pub async fn password_expires_at(&self, user: &User) -> Result<Option<DateTime<Utc>>> {
        let policy = serde_json::to_value(self.password_policy(user.org_id).await?).ok();
        let max = self.max_password_age(user, policy.as_ref());
        Ok(max.zip(user.password_changed_at).map(|(days, at)| at + Duration::days(i64::from(days))))
    }

    /// At sign-in: an expired password sets the must-change flag (audited), so the
    /// new session can do nothing else until the password is changed.
    pub(crate) async fn expire_password_if_due(
        &self,
        ctx: &RequestContext,
        mut user: User,
        policy: Option<&serde_json::Value>,
        now: DateTime<Utc>,
    ) -> Result<User> {
        if user.must_change_password {
            return Ok(user);
        }
        let Some(days) = self.max_password_age(&user, policy) else { return Ok(user) };
        let Some(changed) = user.password_changed_at else { return Ok(user) };
        if changed + Duration::days(i64::from(days)) > now {
            return Ok(user);
        }
        self.store.require_password_change(user.id, now).await?;
        user.must_change_password = true;
        let details = json!({ "max_age_days": days, "password_changed_at": changed });
        let entry =
            Entry { org_id: user.org_id, action: action::PASSWORD_EXPIRED, actor: None, target: Some(&user), details };
        self.audit(ctx, entry).await?;
        Ok(user)
    }

    /// Emails everyone whose password expires within 7 days (or has expired) and
    /// who was not reminded about this password yet. Safe to run on every node at
    /// once: each user is claimed by one. Returns how many were reminded.
    pub async fn queue_password_reminders(&self) -> Result<u64> {
        let now = self.now();
        let horizon = now + Duration::days(7);
        let mut sent = 0;
        for (org_id, value) in self.store.password_policies().await? {
            let Ok(policy) = serde_json::from_value::<PasswordPolicy>(value) else { continue };
            if let Some(days) = policy.max_age_days {
                sent += self.remind(ReminderScope::NonAdministrators(org_id), days, horizon, now).await?;
            }
        }
        if let Some(days) = self.config.admin_password_max_age_days {
            sent += self.remind(ReminderScope::Administrators, days, horizon, now).await?;
        }
        Ok(sent)
    }

    async fn remind(&self, scope: ReminderScope, days: u32, horizon: DateTime<Utc>, now: DateTime<Utc>) -> Result<u64> {
        let age = Duration::days(i64::from(days));
        let mut sent = 0;
        loop {
            let batch = Uuid::now_v7();
            let users = self.store.claim_password_reminders(scope, horizon - age, batch, now, 100).await?;
            let claimed = users.len();
            for user in users {
                let (Some(to), Some(changed)) = (user.email.clone(), user.password_changed_at) else { continue };
                let expires = crate::mail::texts::when(changed + age, user.profile.timezone);
                let link = format!("{}/profile/security", self.config.base_url);
                let (subject, text) =
                    reminder_text(user.profile.language, &user.display_name(), &expires, changed + age <= now, &link);
                self.queue_mail(user.org_id, Mail { to, subject, text }).await?;
                sent += 1;
            }
            if claimed < 100 {
                return Ok(sent);
            }
        }
    }
}

/// Subject and text of the password-expiry reminder.
fn reminder_text(lang: Language, name: &str, expires: &str, expired: bool, link: &str) -> (String, String) {
    match (lang, expired) {
        (Language::En, false) => (
            format!("Your password expires on {expires}"),
            format!(
                "Hello {name},\n\nYour Usher password expires on {expires}. Choose a new one before then in My \
                 profile, Security:\n{link}\n\nOtherwise you will be asked for a new password when you next sign in.\n"
            ),
        ),
        (Language::En, true) => (
            "Your password has expired".to_owned(),
            format!(
                "Hello {name},\n\nYour Usher password expired on {expires}. You will be asked to choose a new one \
                 when you next sign in:\n{link}\n"
            ),
        ),
        (Language::Fr, false) => (
            format!("Votre mot de passe expire le {expires}"),
            format!(
                "Bonjour {name},\n\nVotre mot de passe Usher expire le {expires}. Choisissez-en un nouveau d'ici là \
                 dans Mon profil, Sécurité :\n{link}\n\nSinon, un nouveau mot de passe vous sera demandé à votre \
                 prochaine connexion.\n"
            ),
        ),
        (Language::Fr, true) => (
            "Votre mot de passe a expiré".to_owned(),
            format!(
                "Bonjour {name},\n\nVotre mot de passe Usher a expiré le {expires}. Un nouveau mot de passe vous \
                 sera demandé à votre prochaine connexion :\n{link}\n"
            ),
        ),
        (Language::Ru, false) => (
            format!("Срок действия вашего пароля истекает {expires}"),
            format!(
                "Здравствуйте, {name}!\n\nСрок действия вашего пароля Usher истекает {expires}. Смените пароль \
                 до этого времени в разделе «Мой профиль» → «Безопасность»:\n{link}\n\nИначе при следующем входе \
                 вас попросят задать новый пароль.\n"
            ),
        ),
        (Language::Ru, true) => (
            "Срок действия вашего пароля истёк".to_owned(),
            format!(
                "Здравствуйте, {name}!\n\nСрок действия вашего пароля Usher истёк {expires}. При следующем входе \
                 вас попросят задать новый пароль:\n{link}\n"
            ),
        ),
    }
}

impl Usher {
    /// Deletes expired sign-in tickets and forgotten failure counts (periodic).
    pub async fn purge_sign_in_records(&self) -> Result<u64> {
        let now = self.now();
        let lockout = &self.config.lockout;
        let longest = lockout.window.max(lockout.account_lock).max(lockout.address_lock);
        Ok(self.store.purge_lockout(now, now - chrono(longest)).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_then_stop_growing() {
        let ms: Vec<u128> = (0..8).map(|f| delay_after(f).as_millis()).collect();
        assert_eq!(ms, [0, 0, 250, 500, 1000, 2000, 2000, 2000]);
    }

    #[test]
    fn unknown_names_get_a_digested_key_and_known_ones_their_id() {
        let org = OrgId::generate();
        let a = Keys::of_attempt(Some(org), None, " Ghost ", Some("10.0.0.1"));
        let b = Keys::of_attempt(Some(org), None, "ghost", None);
        assert_eq!(a.account, b.account, "folded like user IDs");
        assert!(a.account.starts_with("l:") && a.account.len() == 34 && !a.account.contains("ghost"));
        assert_eq!(a.address.as_deref(), Some("a:10.0.0.1"));
        assert_eq!(b.address, None);
        let other_org = Keys::of_attempt(Some(OrgId::generate()), None, "ghost", None);
        assert_ne!(a.account, other_org.account);
        let id = UserId::generate();
        assert_eq!(Keys::of_user(id, None).account, format!("u:{id}"));
    }

    #[test]
    fn waits_round_up_to_a_second() {
        let now = DateTime::UNIX_EPOCH;
        assert_eq!(seconds_until(now + Duration::milliseconds(1500), now), 2);
        assert_eq!(seconds_until(now, now), 1);
        assert_eq!(seconds_until(now + Duration::minutes(15), now), 900);
    }

    #[test]
    fn reminders_exist_in_every_language() {
        for lang in Language::ALL {
            for expired in [false, true] {
                let (subject, text) =
                    reminder_text(lang, "Ann", "2030-01-01 10:00 (UTC)", expired, "http://x/profile/security");
                assert!(!subject.is_empty() && text.contains("http://x/profile/security") && text.contains("Ann"));
            }
        }
    }
}
