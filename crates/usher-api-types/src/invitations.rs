//! Bodies of invitations (`/invitations`), the invitation email template
//! (`/settings/invitation-template`) and password resets (`/auth/password-reset`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

fn yes() -> bool {
    true
}

/// `POST /api/v1/invitations`
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationCreate {
    /// The address to invite; it must not be used by a user yet.
    pub email: String,
    /// `true` (default): Usher emails the invitation. `false`: "send my own
    /// invitation": the answer carries the `link` to pass on.
    #[serde(default = "yes")]
    pub send: bool,
    /// Organization roles the new user gets (default `["user"]`); only
    /// Administrators give `administrator`.
    #[serde(default)]
    pub roles: Option<Vec<String>>,
}

/// `POST /api/v1/invitations/{id}/resend` (optional body).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationResend {
    /// `true` (default): email the new link; `false`: answer it in `link`.
    #[serde(default = "yes")]
    pub send: bool,
}

/// An invitation as administrators see it (never its secret).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InvitationBody {
    pub id: Uuid,
    pub email: String,
    /// `pending`, `accepted`, `expired` or `withdrawn`.
    pub status: String,
    pub roles: Vec<String>,
    pub invited_by: Option<Uuid>,
    /// The inviter's name as it was when they invited.
    pub invited_by_name: Option<String>,
    /// For an invitation to set a password: the user created beforehand.
    pub user: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    /// The user who registered with it.
    pub accepted_user: Option<Uuid>,
    pub withdrawn_at: Option<DateTime<Utc>>,
}

/// A new or resent invitation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InvitationCreated {
    #[serde(flatten)]
    pub details: InvitationBody,
    /// Whether Usher emailed it.
    pub sent: bool,
    /// The registration link, when the inviter sends it themselves (`send: false`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// `GET /api/v1/invitations/{token}`: what the registration page shows.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InvitationPublic {
    /// `pending` (registration possible), `accepted`, `expired` or `withdrawn`.
    pub status: String,
    /// The organization inviting.
    pub organization: String,
    pub expires_at: DateTime<Utc>,
    /// The invited address (empty unless pending).
    pub email: String,
    /// The user ID to prefill (the email, or the user ID chosen by an administrator).
    pub user_id: String,
    /// The account exists already and only needs a password (user ID fixed).
    pub existing_user: bool,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

/// `POST /api/v1/invitations/{token}/accept`
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationAccept {
    /// The user ID to sign in with (ignored for an account created beforehand).
    #[serde(default)]
    pub user_id: String,
    #[schema(max_length = 200)]
    pub first_name: String,
    #[schema(max_length = 200)]
    pub last_name: String,
    /// Must meet the organization's password policy.
    #[schema(min_length = 1, max_length = 1024)]
    pub password: String,
    /// Optional, any common notation; stored as E.164.
    #[serde(default)]
    pub phone: Option<String>,
}

/// `GET/PUT /api/v1/settings/invitation-template` and the preview's input.
/// Placeholders: `{{link}}` (required in the body), `{{organization}}`,
/// `{{inviter}}`, `{{email}}`, `{{expires_at}}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationTemplateBody {
    #[schema(min_length = 1, max_length = 200)]
    pub subject: String,
    #[schema(max_length = 10000)]
    pub body: String,
    /// Whether this is the organization's own text (`false`: Usher's default). Read only.
    #[serde(default)]
    pub custom: bool,
}

/// `POST /api/v1/settings/invitation-template/preview`: an email as it would be sent.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RenderedEmail {
    pub subject: String,
    pub text: String,
}

/// `POST /api/v1/auth/password-reset`
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    /// User ID or email address.
    pub login: String,
    /// Organization slug; the default organization when absent.
    #[serde(default)]
    pub organization: Option<String>,
}

/// `POST /api/v1/auth/password-reset/complete`
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetComplete {
    /// The token from the emailed link (`/reset-password/{token}`).
    pub token: String,
    #[schema(min_length = 1, max_length = 1024)]
    pub new_password: String,
}
