//! Two-step verification: a TOTP authenticator (RFC 6238: SHA-1, 6 digits, 30 s
//! steps, one step of clock skew either way) and single-use recovery codes.
//!
//! - The secret is stored encrypted (ChaCha20-Poly1305, the user id as associated
//!   data, under a key the database keeps in `server_secrets`), and is shown only
//!   while enrolment waits for its first code.
//! - A code is accepted once: the last accepted time step is stored and only a
//!   newer one passes, atomically.
//! - Recovery codes are 60 random bits each; only their SHA-256 digests are kept.
//! - After a correct password, a sign-in that needs a second step gets a ticket:
//!   random, stored as a digest, bound to the user, valid 5 minutes, used once,
//!   burnt after 5 wrong codes. Wrong codes also count as failed sign-ins.
//! - An organization can require two-step verification: a user without it gets a
//!   session restricted to enrolment (its secret starts with
//!   [`ENROLMENT_PREFIX`], so the restriction cannot be removed by the client and
//!   costs no query to check); confirming the authenticator replaces it with a
//!   normal session.

use chacha20poly1305::{
    ChaCha20Poly1305, Nonce,
    aead::{Aead, KeyInit, Payload},
};
use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;
use usher_domain::{Invalid, OrgId, SessionId, UserId};

use crate::{
    Conflict, Error, RequestContext, Result, Usher,
    access::policy::{self, Operation},
    audit::{Entry, action},
    auth::{LoginOutcome, Principal},
    protection::Keys,
    secrets,
    store::{LoginTicket, Session, TotpRecord, User, UserStatus},
};

/// How long a sign-in ticket lasts.
pub const TICKET_TTL: Duration = Duration::minutes(5);
/// Wrong codes a ticket survives.
pub const TICKET_MAX_ATTEMPTS: u32 = 5;
/// How many recovery codes a user gets.
pub const RECOVERY_CODES: usize = 10;
/// The start of the secret of a session restricted to two-step enrolment.
pub const ENROLMENT_PREFIX: &str = "enrol.";
/// The issuer authenticator apps show next to the account.
const ISSUER: &str = "Usher";
/// The setting key of the organization's two-step rule.
const MFA_SETTING: &str = "mfa";
/// The name of the TOTP encryption key in `server_secrets`.
const KEY_NAME: &str = "totp_key_v1";
/// Crockford's base32 alphabet, lower case: no i, l, o, u.
const CODE_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// Whether a session secret belongs to a session restricted to two-step enrolment.
pub fn is_enrolment_session(secret: &str) -> bool {
    secret.starts_with(ENROLMENT_PREFIX)
}

/// What a sign-in answers: a session, or the ticket for the second step.
// Made once per sign-in and consumed at once: the size difference costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum SignIn {
    Session(LoginOutcome),
    SecondStep { ticket: String, expires_at: DateTime<Utc> },
}

/// The second step: a code from the authenticator app, or a recovery code.
#[derive(Debug, Clone, Copy)]
pub enum SecondFactor<'a> {
    Code(&'a str),
    RecoveryCode(&'a str),
}

/// An authenticator to add: the secret in base32, the `otpauth://` URI and its QR code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpEnrolment {
    pub secret: String,
    pub otpauth_uri: String,
    /// A standalone SVG document.
    pub qr_svg: String,
}

/// Where a user stands with two-step verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaStatus {
    pub enabled: bool,
    /// An authenticator waits for its first code.
    pub pending: bool,
    pub enabled_at: Option<DateTime<Utc>>,
    pub recovery_codes_left: u32,
    /// The organization requires two-step verification.
    pub required: bool,
}

/// The organization's two-step rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MfaSetting {
    /// Every user must use two-step verification; those without it enrol at sign-in.
    pub required: bool,
}

/// Digits only, without the spaces people type in the middle.
fn clean_code(code: &str) -> Option<String> {
    let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    (digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// A recovery code as stored: letters folded, separators dropped, look-alikes mapped.
fn recovery_digest(code: &str) -> Option<Vec<u8>> {
    let norm: String = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_lowercase() {
            'o' => '0',
            'i' | 'l' => '1',
            c => c,
        })
        .collect();
    (norm.len() == 12 && norm.bytes().all(|b| CODE_ALPHABET.contains(&b))).then(|| secrets::digest(&norm))
}

/// Fresh recovery codes (`xxxx-xxxx-xxxx`, 60 random bits each) and their digests.
fn recovery_codes() -> (Vec<String>, Vec<Vec<u8>>) {
    let mut rng = rand::rng();
    let codes: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| {
            let chars: Vec<u8> = (0..12).map(|_| CODE_ALPHABET[rng.random_range(0..32)]).collect();
            let groups: Vec<&str> = chars.chunks(4).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect();
            groups.join("-")
        })
        .collect();
    let digests = codes.iter().filter_map(|c| recovery_digest(c)).collect();
    (codes, digests)
}

/// The account name an authenticator app shows (no colon: the URI format forbids it).
fn account_name(user: &User) -> String {
    user.user_id.replace(':', "_")
}

fn totp(secret: Vec<u8>, account: String) -> Result<totp_rs::Totp> {
    totp_rs::Builder::new()
        .with_secret(secret)
        .with_account_name(account)
        .with_issuer(Some(ISSUER))
        .build()
        .map_err(|e| Error::internal(format!("TOTP set-up: {e}")))
}

fn enrolment_of(t: &totp_rs::Totp) -> Result<TotpEnrolment> {
    let uri = t.to_url().map_err(|e| Error::internal(format!("otpauth URI: {e}")))?;
    let qr = qrcode::QrCode::new(uri.as_bytes()).map_err(|e| Error::internal(format!("QR code: {e}")))?;
    let qr_svg = qr
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(220, 220)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build();
    Ok(TotpEnrolment { secret: t.secret().to_base32(), otpauth_uri: uri, qr_svg })
}

fn unix(now: DateTime<Utc>) -> u64 {
    u64::try_from(now.timestamp()).unwrap_or_default()
}

fn wrong_password() -> Error {
    Invalid::one("password", "incorrect", "The password is not correct.").into()
}

impl Usher {
    /// The cipher for TOTP secrets; the key is made once and kept by the database.
    async fn totp_cipher(&self) -> Result<ChaCha20Poly1305> {
        let mut candidate = [0u8; 32];
        getrandom::fill(&mut candidate).map_err(|e| Error::internal(format!("random source: {e}")))?;
        let key = self.store.server_secret(KEY_NAME, &candidate).await?;
        ChaCha20Poly1305::new_from_slice(&key).map_err(|_| Error::internal("stored TOTP key has a wrong length"))
    }

    async fn seal(&self, user: UserId, secret: &[u8]) -> Result<Vec<u8>> {
        let cipher = self.totp_cipher().await?;
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).map_err(|e| Error::internal(format!("random source: {e}")))?;
        let sealed = cipher
            .encrypt(&Nonce::from(nonce), Payload { msg: secret, aad: user.uuid().as_bytes() })
            .map_err(|_| Error::internal("TOTP secret encryption failed"))?;
        Ok([nonce.as_slice(), &sealed].concat())
    }

    async fn unseal(&self, user: UserId, sealed: &[u8]) -> Result<Vec<u8>> {
        if sealed.len() < 12 {
            return Err(Error::internal("stored TOTP secret is too short"));
        }
        let (nonce, body) = sealed.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| Error::internal("stored TOTP nonce"))?;
        self.totp_cipher()
            .await?
            .decrypt(&Nonce::from(nonce), Payload { msg: body, aad: user.uuid().as_bytes() })
            .map_err(|_| Error::internal("a stored TOTP secret cannot be decrypted"))
    }

    async fn totp_of(&self, user: &User, record: &TotpRecord) -> Result<totp_rs::Totp> {
        totp(self.unseal(user.id, &record.secret).await?, account_name(user))
    }

    /// Checks a code against the user's confirmed authenticator and, when it
    /// matches a step newer than the last one used, records that step.
    async fn accept_code(&self, user: &User, code: &str, now: DateTime<Utc>) -> Result<bool> {
        let Some(code) = clean_code(code) else { return Ok(false) };
        let Some(record) = self.store.totp(user.id).await?.filter(|r| r.confirmed_at.is_some()) else {
            return Ok(false);
        };
        let Some(step) = self.totp_of(user, &record).await?.check(&code, unix(now)) else { return Ok(false) };
        let step = i64::try_from(step).unwrap_or(i64::MAX);
        Ok(self.store.use_totp_step(user.id, step).await?)
    }

    /// The organization's two-step rule.
    pub async fn mfa_setting(&self, org_id: OrgId) -> Result<MfaSetting> {
        match self.store.setting(org_id, MFA_SETTING).await? {
            Some(v) => serde_json::from_value(v).map_err(|e| Error::internal(format!("stored two-step setting: {e}"))),
            None => Ok(MfaSetting::default()),
        }
    }

    /// The two-step rule as an administrator reads it (scope `settings:read`).
    pub async fn mfa_setting_for(&self, p: &Principal) -> Result<MfaSetting> {
        let admin = &policy::authorize(p, Operation::ReadSettings)?;
        self.mfa_setting(admin.org_id()).await
    }

    /// Requires two-step verification for everyone, or stops requiring it
    /// (Administrators only). Users without it enrol at their next sign-in.
    pub async fn set_mfa_setting(
        &self,
        ctx: &RequestContext,
        p: &Principal,
        setting: MfaSetting,
    ) -> Result<MfaSetting> {
        let admin = &policy::authorize(p, Operation::ChangeSettings)?;
        let before = self.mfa_setting(admin.org_id()).await?;
        let value = serde_json::to_value(setting).map_err(|e| Error::internal(e.to_string()))?;
        self.store.put_setting(admin.org_id(), MFA_SETTING, &value, self.now()).await?;
        let details = json!({ "before": before, "after": setting });
        let entry = Entry {
            org_id: admin.org_id(),
            action: action::MFA_SETTING_UPDATED,
            actor: Some(admin.user()),
            target: None,
            details,
        };
        self.audit(ctx, entry).await?;
        Ok(setting)
    }

    /// Where the caller stands with two-step verification (scope `profile:read`).
    pub async fn mfa_status(&self, me: &Principal) -> Result<MfaStatus> {
        policy::authorize(me, Operation::ReadOwnAccount)?;
        let record = self.store.totp(me.user.id).await?;
        let required = self.mfa_setting(me.user.org_id).await?.required;
        Ok(MfaStatus {
            enabled: record.as_ref().is_some_and(|r| r.confirmed_at.is_some()),
            pending: record.as_ref().is_some_and(|r| r.confirmed_at.is_none()),
            enabled_at: record.as_ref().and_then(|r| r.confirmed_at),
            recovery_codes_left: record
                .as_ref()
                .filter(|r| r.confirmed_at.is_some())
                .map_or(0, |r| r.recovery_codes_left),
            required,
        })
    }

    /// Starts enrolment: a new secret, shown until the first code confirms it
    /// (scope `profile:write`). Replaces an earlier unconfirmed one; refused (409)
    /// while an authenticator is on.
    pub async fn start_totp(&self, me: &Principal) -> Result<TotpEnrolment> {
        policy::authorize(me, Operation::ChangeOwnAccount)?;
        let mut secret = vec![0u8; 20];
        getrandom::fill(&mut secret).map_err(|e| Error::internal(format!("random source: {e}")))?;
        let t = totp(secret.clone(), account_name(&me.user))?;
        let sealed = self.seal(me.user.id, &secret).await?;
        self.store.put_pending_totp(me.user.id, &sealed, self.now()).await?;
        enrolment_of(&t)
    }

    /// The authenticator waiting for its first code, if any (to show it again).
    pub async fn pending_totp(&self, me: &Principal) -> Result<Option<TotpEnrolment>> {
        policy::authorize(me, Operation::ReadOwnAccount)?;
        match self.store.totp(me.user.id).await? {
            Some(record) if record.confirmed_at.is_none() => {
                Ok(Some(enrolment_of(&self.totp_of(&me.user, &record).await?)?))
            }
            _ => Ok(None),
        }
    }

    /// Turns two-step verification on with the first code from the app, and
    /// answers the recovery codes (shown once).
    pub async fn confirm_totp(&self, ctx: &RequestContext, me: &Principal, code: &str) -> Result<Vec<String>> {
        policy::authorize(me, Operation::ChangeOwnAccount)?;
        let user = &me.user;
        let Some(record) = self.store.totp(user.id).await?.filter(|r| r.confirmed_at.is_none()) else {
            return Err(Invalid::one(
                "code",
                "no_enrolment",
                "Start by adding an authenticator: there is none waiting.",
            )
            .into());
        };
        let now = self.now();
        let step = match clean_code(code) {
            Some(code) => self.totp_of(user, &record).await?.check(&code, unix(now)),
            None => None,
        };
        let Some(step) = step else {
            return Err(Invalid::one(
                "code",
                "incorrect",
                "This code is not correct. Check the time on your device and try the next code.",
            )
            .into());
        };
        let (codes, digests) = recovery_codes();
        let step = i64::try_from(step).unwrap_or(i64::MAX);
        if !self.store.confirm_totp(user.id, step, &digests, now).await? {
            return Err(Conflict::AuthenticatorChanged.into());
        }
        let entry = Entry {
            org_id: user.org_id,
            action: action::MFA_ENABLED,
            actor: Some(user),
            target: Some(user),
            details: json!({ "method": "totp" }),
        };
        self.audit(ctx, entry).await?;
        Ok(codes)
    }

    /// Verifies the caller's password for a sensitive change (failures are audited).
    async fn reauthenticate(&self, ctx: &RequestContext, me: &Principal, password: &str, what: &str) -> Result<()> {
        let stored = self.store.password_hash(me.user.id).await?;
        if self.hasher.verify(password, stored).await? {
            return Ok(());
        }
        let user = &me.user;
        let details = json!({ "reason": "wrong_password", "change": what });
        let entry = Entry {
            org_id: user.org_id,
            action: action::REAUTHENTICATION_FAILED,
            actor: Some(user),
            target: Some(user),
            details,
        };
        self.audit(ctx, entry).await?;
        Err(wrong_password())
    }

    /// Turns two-step verification off, given the password (scope `profile:write`);
    /// refused while the organization requires it.
    pub async fn disable_totp(&self, ctx: &RequestContext, me: &Principal, password: &str) -> Result<()> {
        policy::authorize(me, Operation::ChangeOwnAccount)?;
        if self.mfa_setting(me.user.org_id).await?.required {
            return Err(Error::Forbidden("Your organization requires two-step verification: it cannot be turned off."));
        }
        self.reauthenticate(ctx, me, password, "mfa_disable").await?;
        if !self.store.delete_totp(me.user.id).await? {
            return Err(Error::NotFound);
        }
        let user = &me.user;
        let entry = Entry {
            org_id: user.org_id,
            action: action::MFA_DISABLED,
            actor: Some(user),
            target: Some(user),
            details: json!({}),
        };
        self.audit(ctx, entry).await
    }

    /// New recovery codes replacing the old ones, given the password (scope `profile:write`).
    pub async fn regenerate_recovery_codes(
        &self,
        ctx: &RequestContext,
        me: &Principal,
        password: &str,
    ) -> Result<Vec<String>> {
        policy::authorize(me, Operation::ChangeOwnAccount)?;
        if self.store.totp(me.user.id).await?.is_none_or(|r| r.confirmed_at.is_none()) {
            return Err(Conflict::TwoStepOff.into());
        }
        self.reauthenticate(ctx, me, password, "recovery_codes").await?;
        let (codes, digests) = recovery_codes();
        self.store.replace_recovery_codes(me.user.id, &digests, self.now()).await?;
        let user = &me.user;
        let entry = Entry {
            org_id: user.org_id,
            action: action::MFA_RECOVERY_CODES_REGENERATED,
            actor: Some(user),
            target: Some(user),
            details: json!({}),
        };
        self.audit(ctx, entry).await?;
        Ok(codes)
    }

    /// Removes a user's authenticator and recovery codes, e.g. after they lost
    /// their phone (Administrators and User Managers, scope `users:write`). If the
    /// organization requires two-step verification, they enrol again at sign-in.
    pub async fn reset_mfa(&self, ctx: &RequestContext, p: &Principal, id: UserId) -> Result<bool> {
        let admin = &policy::authorize(p, Operation::ManageUsers)?;
        let user = self.store.user(id).await?.ok_or(Error::NotFound)?;
        admin.may_manage(&user)?;
        let removed = self.store.delete_totp(user.id).await?;
        let entry = Entry {
            org_id: admin.org_id(),
            action: action::MFA_RESET,
            actor: Some(admin.user()),
            target: Some(&user),
            details: json!({ "had_authenticator": removed }),
        };
        self.audit(ctx, entry).await?;
        Ok(removed)
    }

    /// Whether this user must enrol before doing anything else: the organization
    /// requires two-step verification and they have no authenticator.
    pub(crate) async fn enrolment_due(&self, user: &User) -> Result<bool> {
        let facts = self.store.sign_in_facts(user.org_id, user.id).await?;
        Ok(!facts.totp && required(facts.mfa_setting.as_ref()))
    }

    /// After a correct password: a ticket for the second step.
    pub(crate) async fn issue_ticket(&self, user: &User, now: DateTime<Utc>) -> Result<SignIn> {
        let ticket = secrets::random_secret()?;
        let record = LoginTicket {
            digest: secrets::digest(&ticket),
            user: user.id,
            created_at: now,
            expires_at: now + TICKET_TTL,
            attempts: 0,
        };
        self.store.insert_login_ticket(&record).await?;
        Ok(SignIn::SecondStep { ticket, expires_at: record.expires_at })
    }

    /// The second step of a sign-in: the ticket from the password step and a code
    /// or a recovery code. Locks and wrong codes count like failed passwords; an
    /// unknown, expired or used ticket answers [`Error::Unauthenticated`].
    pub async fn login_second_step(
        &self,
        ctx: &RequestContext,
        ticket: &str,
        factor: SecondFactor<'_>,
    ) -> Result<LoginOutcome> {
        if ticket.is_empty() || ticket.len() > 100 {
            return Err(Error::Unauthenticated);
        }
        let digest = secrets::digest(ticket);
        let now = self.now();
        let Some((_, user)) = self.store.login_ticket(&digest, now).await? else {
            return Err(Error::Unauthenticated);
        };
        let keys = Keys::of_user(user.id, ctx.address.as_deref());
        let guard = match self.take_attempt(&keys, now).await {
            Ok(guard) => guard,
            Err(e) => {
                self.audit_failed_sign_in(
                    ctx,
                    Some(user.org_id),
                    Some(&user),
                    "locked",
                    user.user_id.as_str(),
                    "second",
                )
                .await?;
                return Err(e);
            }
        };
        guard.slow_down().await;
        if user.status != UserStatus::Active {
            self.store.take_login_ticket(&digest, now).await?;
            return Err(Error::Unauthenticated);
        }
        let (ok, method) = match factor {
            SecondFactor::Code(code) => (self.accept_code(&user, code, now).await?, "totp"),
            SecondFactor::RecoveryCode(code) => {
                let used = match recovery_digest(code) {
                    Some(d) => self.store.use_recovery_code(user.id, &d, now).await?,
                    None => false,
                };
                (used, "recovery_code")
            }
        };
        if !ok {
            self.store.login_ticket_failed(&digest, TICKET_MAX_ATTEMPTS).await?;
            self.attempt_failed(ctx, Some(user.org_id), &guard, Some(&user)).await?;
            let reason = if method == "totp" { "bad_code" } else { "bad_recovery_code" };
            self.audit_failed_sign_in(ctx, Some(user.org_id), Some(&user), reason, user.user_id.as_str(), "second")
                .await?;
            return Err(Error::BadCode);
        }
        if !self.store.take_login_ticket(&digest, now).await? {
            return Err(Error::Unauthenticated);
        }
        self.attempt_succeeded(&guard, true).await?;
        let mut details = json!({ "second_step": method });
        if method == "recovery_code" {
            let left = self.store.totp(user.id).await?.map_or(0, |r| r.recovery_codes_left);
            details["recovery_codes_left"] = json!(left);
        }
        let facts = self.store.sign_in_facts(user.org_id, user.id).await?;
        let user = self.expire_password_if_due(ctx, user, facts.password_policy.as_ref(), now).await?;
        self.open_session(ctx, user, now, false, details).await
    }

    /// Replaces the caller's session (restricted to enrolment) by a normal one
    /// once they turned two-step verification on. Answers the new secret, or
    /// `None` for a caller without a session.
    pub async fn upgrade_session(&self, ctx: &RequestContext, me: &Principal) -> Result<Option<LoginOutcome>> {
        let Some(old) = me.session_id else { return Ok(None) };
        if self.enrolment_due(&me.user).await? {
            return Err(Error::Forbidden("Turn two-step verification on first."));
        }
        let now = self.now();
        let secret = secrets::random_secret()?;
        let max = Duration::from_std(self.config.session_max).unwrap_or(Duration::hours(10));
        let session = Session {
            id: SessionId::generate(),
            user: me.user.id,
            secret_digest: secrets::digest(&secret),
            created_at: now,
            last_active_at: now,
            expires_at: now + max,
            address: ctx.address.clone(),
            client: ctx.client.as_ref().map(|c| c.chars().take(300).collect()),
            forced_change_proof: me.forced_change_proof,
        };
        self.store.insert_session(&session).await?;
        self.store.delete_session(old).await?;
        let csrf_token = secrets::csrf_token(&secret);
        Ok(Some(LoginOutcome { user: me.user.clone(), session_secret: secret, csrf_token }))
    }
}

/// Whether a stored two-step setting requires it.
pub(crate) fn required(setting: Option<&serde_json::Value>) -> bool {
    setting.and_then(|v| v.get("required")).and_then(serde_json::Value::as_bool).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_cleaned_and_checked_for_shape() {
        assert_eq!(clean_code(" 123 456 ").as_deref(), Some("123456"));
        assert_eq!(clean_code("12345"), None);
        assert_eq!(clean_code("12345a"), None);
        assert_eq!(clean_code("١٢٣٤٥٦"), None, "only ASCII digits");
    }

    #[test]
    fn recovery_codes_are_random_and_typed_loosely() {
        let (codes, digests) = recovery_codes();
        assert_eq!((codes.len(), digests.len()), (RECOVERY_CODES, RECOVERY_CODES));
        let code = &codes[0];
        assert_eq!(code.len(), 14);
        assert_eq!(code.matches('-').count(), 2);
        assert_eq!(recovery_digest(code), Some(digests[0].clone()));
        assert_eq!(recovery_digest(&code.to_uppercase().replace('-', " ")), Some(digests[0].clone()));
        assert_eq!(recovery_digest("OOOO-IIII-LLLL"), recovery_digest("0000-1111-1111"));
        assert_eq!(recovery_digest("short"), None);
        let (again, _) = recovery_codes();
        assert_ne!(codes, again);
    }

    #[test]
    fn enrolment_has_a_uri_and_a_qr_code() {
        let t = totp(vec![7u8; 20], "ann:x".replace(':', "_")).unwrap();
        let e = enrolment_of(&t).unwrap();
        assert!(e.otpauth_uri.starts_with("otpauth://totp/Usher:ann_x?secret="), "{}", e.otpauth_uri);
        assert!(e.otpauth_uri.contains("issuer=Usher"));
        assert_eq!(e.secret.len(), 32);
        assert!(e.qr_svg.contains("<svg") && e.qr_svg.contains("</svg>"));
        assert!(is_enrolment_session("enrol.abc") && !is_enrolment_session("abc"));
    }

    #[test]
    fn settings_read_required() {
        assert!(required(Some(&json!({ "required": true }))));
        assert!(!required(Some(&json!({ "required": false }))));
        assert!(!required(None));
    }
}
