//! Administration of users: create, password reset, failed sign-ins, sessions.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::UserBody;

/// `POST /api/v1/users`: a user created by an administrator, without a password.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserCreate {
    /// The login name: unique in the organization (case-insensitive), not necessarily an email.
    #[schema(min_length = 1, max_length = 200)]
    pub user_id: String,
    /// Unique in the organization; required for Administrators and to email an invitation.
    #[serde(default)]
    pub email: Option<String>,
    #[schema(max_length = 200)]
    pub first_name: String,
    #[schema(max_length = 200)]
    pub last_name: String,
    #[serde(default)]
    pub phone: Option<String>,
    /// Organization roles (`administrator`, `user_manager`, `developer`, `user`); default `["user"]`.
    #[serde(default)]
    pub roles: Option<Vec<String>>,
    /// Invite the user to set their password.
    #[serde(default)]
    pub invite: bool,
    /// With `invite`: `false` answers the invitation link instead of emailing it. Default `true`.
    #[serde(default)]
    pub send_invitation: Option<bool>,
    /// Custom metadata values by field name, checked by type; when given, the
    /// organization's required fields must be there.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A user just created; `invitation_link` when an invitation was made without email.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UserCreated {
    #[serde(flatten)]
    pub user: UserBody,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitation_link: Option<String>,
}

/// How an administrator resets a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PasswordResetMode {
    /// A generated password, answered once; the user must change it at the next sign-in.
    Temporary,
    /// A reset link emailed to the user, valid one day; the old password works until it is used.
    Link,
}

/// `POST /api/v1/users/{id}/password-reset`
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPasswordReset {
    pub mode: PasswordResetMode,
}

/// The answer to a `temporary` password reset: the password, shown this once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TemporaryPassword {
    pub temporary_password: String,
}

/// One failed sign-in attempt.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FailedLoginBody {
    pub at: DateTime<Utc>,
    pub address: Option<String>,
    /// The client's user agent.
    pub client: Option<String>,
    /// `bad_password`, `account_disabled`, ...
    pub reason: String,
}

/// A live sign-in session.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SessionBody {
    pub id: Uuid,
    /// Browser and system, e.g. `Firefox on Linux`, or the program's name.
    pub client: Option<String>,
    /// The raw user agent.
    pub user_agent: Option<String>,
    pub address: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_active_at: DateTime<Utc>,
}
