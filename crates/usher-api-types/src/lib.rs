//! Usher REST API v1 request and response bodies, with their OpenAPI schemas.
//! Shared by the server and by anything that calls it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

mod access;
pub use access::*;
mod directory;
pub use directory::*;
mod invitations;
pub use invitations::*;
mod security;
pub use security::*;
mod users;
pub use users::*;

/// `POST /api/v1/auth/login`
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// User ID or email address (case-insensitive).
    pub login: String,
    pub password: String,
    /// Organization slug; the default organization when absent.
    #[serde(default)]
    pub organization: Option<String>,
}

/// A user as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UserBody {
    pub id: Uuid,
    /// The login name, unique in the organization.
    pub user_id: String,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// E.164, e.g. `+33612345678`.
    pub phone: Option<String>,
    pub contact_person: Option<String>,
    pub company: Option<String>,
    /// Interface language: `en`, `fr` or `ru`.
    pub language: String,
    /// IANA time zone, e.g. `Europe/Paris`.
    pub timezone: String,
    /// `invited`, `active` or `disabled`.
    pub status: String,
    /// Organization roles: `administrator`, `user_manager`, `developer`, `user`.
    pub roles: Vec<String>,
    pub must_change_password: bool,
    pub password_changed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
    /// Custom metadata values by field name (see `/api/v1/settings/metadata-fields`).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub metadata: serde_json::Map<String, serde_json::Value>,
}

/// `PATCH /api/v1/me`: absent fields stay as they are, `null` clears a field.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub first_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub last_name: Option<Option<String>>,
    /// Any format with the country code; stored as E.164.
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub contact_person: Option<Option<String>>,
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub company: Option<Option<String>>,
    pub language: Option<String>,
    pub timezone: Option<String>,
    /// Not accepted: the email address cannot be changed here. Present only so
    /// that sending it gets a clear error.
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    /// Custom metadata values to set, by field name (`PATCH /api/v1/users/{id}`
    /// only); `null` or `""` clears one, absent fields stay.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Lets `Option<Option<T>>` tell "absent" (None) from "null" (Some(None)).
fn some<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// `PUT /api/v1/me/password`
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// The password in use. Required, except in a session that must change its
    /// password (`must_change_password`) and was opened by signing in with that
    /// password less than 10 minutes ago: there it may be left out.
    #[serde(default)]
    pub current_password: Option<String>,
    #[schema(min_length = 1, max_length = 1024)]
    pub new_password: String,
}

/// An organization's password policy.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordPolicyBody {
    #[schema(minimum = 1, maximum = 128)]
    pub min_length: u32,
    pub require_digit: bool,
    pub require_special: bool,
    pub require_digit_or_special: bool,
    /// Upper-case letter in any cased script (Latin, Cyrillic, Greek, ...).
    pub require_upper: bool,
    pub require_lower: bool,
    /// The password may not contain the user ID or the email address.
    pub forbid_user_id: bool,
    /// Minimum zxcvbn strength score, 0–4.
    #[schema(minimum = 0, maximum = 4)]
    pub min_strength: u8,
    /// How many previous passwords cannot be reused.
    #[schema(minimum = 0, maximum = 24)]
    pub history: u32,
    /// Maximum password age for non-administrators, in days; `null`: no expiry.
    #[schema(minimum = 1, maximum = 3650)]
    pub max_age_days: Option<u32>,
}

/// A named password policy preset.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PasswordPolicyPreset {
    pub name: String,
    pub policy: PasswordPolicyBody,
}

/// One audit log entry.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditEventBody {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    /// e.g. `auth.login.succeeded`, `user.password.changed`.
    pub action: String,
    pub actor_id: Option<Uuid>,
    pub actor_name: Option<String>,
    pub target_id: Option<Uuid>,
    pub target_name: Option<String>,
    pub address: Option<String>,
    pub client: Option<String>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

/// A page of a list; pass `next_cursor` as `cursor` for the next one.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// RFC 9457 problem details.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// What a conflict (409) is about, as a stable machine code: `user_id_taken`,
    /// `email_taken`, `last_administrator`, `group_name_taken`, `app_name_taken`,
    /// `invitation_pending`, `invitation_closed`, `invitation_link_closed`,
    /// `not_awaiting_password`, `two_step_on`, `two_step_off`,
    /// `authenticator_changed`, `token_revoked`, `taken_during_import` or `exists`
    /// (anything else already there). New codes may be added; absent on other problems.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "email_taken")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
}

/// One invalid field of a validation problem.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProblemField {
    pub field: String,
    /// Stable machine code, e.g. `min_length`, `invalid`, `taken`.
    pub code: String,
    pub message: String,
}

/// `GET /healthz`
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Health {
    pub status: String,
}

/// `POST /api/v1/me/tokens` and `POST /api/v1/users/{id}/tokens`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenCreate {
    /// What the token is for, e.g. "CI upload".
    #[schema(min_length = 1, max_length = 200)]
    pub description: String,
    /// The application the token is for, e.g. "Jenkins".
    #[serde(default)]
    #[schema(max_length = 200)]
    pub client: String,
    /// At least one: `read`, `write`, or `resource:read|write` (`profile`, `users`, `tokens`, `settings`, `audit:read`).
    #[schema(min_items = 1)]
    pub scopes: Vec<String>,
    /// Absent: the organization's default (one year). `null`: never expires (when allowed).
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub expires_at: Option<Option<DateTime<Utc>>>,
}

/// `PATCH /api/v1/me/tokens/{id}`: absent fields stay; `expires_at: null` means never.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenPatch {
    #[schema(min_length = 1, max_length = 200)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub expires_at: Option<Option<DateTime<Utc>>>,
}

/// A personal API token, without its secret.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenBody {
    pub id: Uuid,
    pub description: String,
    pub client: String,
    pub scopes: Vec<String>,
    /// `active`, `revoked` or `expired`.
    pub status: String,
    pub created_at: DateTime<Utc>,
    /// `null`: never expires.
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// The first characters of the secret, e.g. `ush_AbCd`.
    pub first_chars: String,
    /// The last four characters of the secret.
    pub last_chars: String,
    /// The administrator who created it for its owner, if any.
    pub created_by: Option<Uuid>,
}

/// A token just created or regenerated: `token` is the secret, shown this once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenCreated {
    pub token: String,
    #[serde(flatten)]
    pub details: TokenBody,
}

/// An organization's API token policy.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenPolicyBody {
    /// Lifetime when none is asked for (default 365).
    #[schema(minimum = 1, maximum = 3650)]
    pub default_lifetime_days: u32,
    /// Longest lifetime allowed; `null`: no cap.
    #[schema(minimum = 1, maximum = 3650)]
    pub max_lifetime_days: Option<u32>,
    /// Whether tokens may never expire (only without a cap).
    pub allow_never_expiring: bool,
    /// Scopes tokens may be given.
    pub scopes: Vec<String>,
}
