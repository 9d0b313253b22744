//! Two-step verification, the second sign-in step, one's own sessions and
//! sign-in locks.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::UserBody;

/// `POST /api/v1/auth/login` when a second step is needed: no session yet.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MfaChallenge {
    /// Always `true`.
    pub mfa_required: bool,
    /// Send it to `POST /api/v1/auth/login/mfa` with a code; valid 5 minutes, once.
    pub ticket: String,
    pub expires_at: DateTime<Utc>,
}

/// What `POST /api/v1/auth/login` answers: the signed-in user, or the second-step challenge.
// Made once per sign-in and serialized at once: the size difference costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum LoginAnswer {
    SignedIn(UserBody),
    SecondStep(MfaChallenge),
}

/// `POST /api/v1/auth/login/mfa`: the ticket and either a code or a recovery code.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaLogin {
    pub ticket: String,
    /// The 6-digit code of the authenticator app.
    #[serde(default)]
    pub code: Option<String>,
    /// One of the recovery codes (each works once).
    #[serde(default)]
    pub recovery_code: Option<String>,
}

/// `POST /api/v1/me/mfa/totp`: the authenticator to add, until a first code confirms it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TotpEnrolmentBody {
    /// The secret in base32, for typing into the app.
    pub secret: String,
    /// `otpauth://totp/...` (RFC 6238: SHA-1, 6 digits, 30 s).
    pub otpauth_uri: String,
    /// The URI as a QR code, an SVG document.
    pub qr_svg: String,
}

/// `POST /api/v1/me/mfa/totp/confirm`
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpConfirm {
    /// The current 6-digit code of the app.
    pub code: String,
}

/// Recovery codes, shown once: each signs in once instead of a code.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
}

/// Re-authentication for a sensitive change (turning two-step verification off,
/// new recovery codes).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordConfirm {
    pub password: String,
}

/// `GET /api/v1/me/mfa`
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MfaStatusBody {
    /// A confirmed authenticator is on.
    pub totp_enabled: bool,
    /// An authenticator waits for its first code.
    pub totp_pending: bool,
    pub enabled_at: Option<DateTime<Utc>>,
    pub recovery_codes_left: u32,
    /// The organization requires two-step verification.
    pub required: bool,
}

/// `GET|PUT /api/v1/settings/mfa`
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaSettingBody {
    /// Everyone must use two-step verification; users without it enrol right after signing in.
    pub required: bool,
}

/// One of your sessions.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OwnSessionBody {
    pub id: Uuid,
    /// The session this request came with.
    pub current: bool,
    /// Browser and system, e.g. `Firefox on Linux`, or the program's name.
    pub client: Option<String>,
    /// The raw user agent.
    pub user_agent: Option<String>,
    pub address: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_active_at: DateTime<Utc>,
}

/// How many sessions a request ended.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SessionsEnded {
    pub ended: u64,
}

/// `GET /api/v1/users/{id}/security`: two-step verification and sign-in lock of a user.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UserSecurityBody {
    pub totp_enabled: bool,
    pub recovery_codes_left: u32,
    /// Until when sign-in is locked; `null` when it is not.
    pub locked_until: Option<DateTime<Utc>>,
    /// Failed sign-ins in the current window.
    pub recent_failures: u32,
    pub last_failure_at: Option<DateTime<Utc>>,
    /// When the password expires, if it does.
    pub password_expires_at: Option<DateTime<Utc>>,
}
