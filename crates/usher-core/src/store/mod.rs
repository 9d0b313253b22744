//! The storage contract, one trait per aggregate (users, sessions, tokens,
//! access, ...), and the records they store. `usher-store` implements it on
//! SQLite and on PostgreSQL, chosen once at start-up; services never see an
//! engine's own error types.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use usher_domain::{AppId, AppRole, EventId, Language, OrgId, Role, SessionId, TimeZone, TokenId, UserId};
use uuid::Uuid;

mod access;
mod audit;
mod directory;
mod import;
mod invitations;
mod lockout;
mod mail;
mod organizations;
mod sessions;
mod settings;
mod tokens;
mod two_step;
mod users;

pub use access::AccessStore;
pub use audit::AuditStore;
pub use directory::DirectoryStore;
pub use import::ImportStore;
pub use invitations::InvitationStore;
pub use lockout::{Attempt, FailureCount, LockoutStore, ThrottleRow};
pub use mail::{MailStore, ReminderRenderer, ReminderScope};
pub use organizations::OrganizationStore;
pub use sessions::{LoginTicket, SessionStore, SignInFacts};
pub use settings::SettingsStore;
pub use tokens::TokenStore;
pub use two_step::{TotpRecord, TwoStepStore};
pub use users::UserStore;

/// What can go wrong in a store, in terms services can act on.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness or guard rule was hit; `constraint` names it, one of
    /// [`crate::conflict::constraint`] (any other name is a generic conflict).
    #[error("conflict on {constraint}")]
    Conflict { constraint: String },
    /// The database cannot serve this now but should soon: its disk is full,
    /// it is read-only or locked too long, or the connection to it was lost.
    /// Worth retrying after a pause; the text is for the log.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Any other failure of the engine, kept whole for the log.
    #[error(transparent)]
    Backend(crate::Cause),
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: OrgId,
    pub slug: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// The sizes of an organization, as its overview shows them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrgCounts {
    /// Users, counted up to [`OrgCounts::CAP`] (a count of `CAP` means "at least").
    pub users: u64,
    /// Disabled users, counted up to [`OrgCounts::CAP`].
    pub disabled_users: u64,
    pub groups: u64,
    pub apps: u64,
    pub pending_invitations: u64,
}

impl OrgCounts {
    /// Counts of users stop here: past it, "more than 10,000" is enough.
    pub const CAP: u64 = 10_001;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserStatus {
    Invited,
    Active,
    Disabled,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Invited => "invited",
            UserStatus::Active => "active",
            UserStatus::Disabled => "disabled",
        }
    }

    /// Reads a stored status; anything unknown is treated as disabled (fail closed).
    pub fn from_stored(s: &str) -> Self {
        match s {
            "active" => UserStatus::Active,
            "invited" => UserStatus::Invited,
            _ => UserStatus::Disabled,
        }
    }
}

/// The profile fields a user edits themselves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub contact_person: Option<String>,
    pub company: Option<String>,
    pub language: Language,
    pub timezone: TimeZone,
}

/// A user as stored, with their organization roles.
#[derive(Debug, Clone)]
pub struct User {
    pub id: UserId,
    pub org_id: OrgId,
    pub user_id: String,
    pub email: Option<String>,
    pub profile: Profile,
    pub status: UserStatus,
    pub roles: Vec<Role>,
    pub must_change_password: bool,
    pub password_changed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
    /// Custom metadata values by field name (see [`crate::metadata`]).
    pub metadata: crate::metadata::Metadata,
}

impl User {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// "First Last", falling back to the user ID: how audit entries name people.
    pub fn display_name(&self) -> String {
        let name = [self.profile.first_name.as_deref(), self.profile.last_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        if name.is_empty() { self.user_id.clone() } else { name }
    }
}

/// A user to insert. Keys (`*_key`) are the case-folded forms uniqueness uses.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: UserId,
    pub org_id: OrgId,
    pub user_id: String,
    pub user_id_key: String,
    pub email: Option<String>,
    pub email_key: Option<String>,
    pub profile: Profile,
    pub status: UserStatus,
    pub roles: Vec<Role>,
    pub password_hash: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl NewUser {
    /// The user as the store will hold them once inserted.
    pub fn to_user(&self, metadata: crate::metadata::Metadata) -> User {
        User {
            id: self.id,
            org_id: self.org_id,
            user_id: self.user_id.clone(),
            email: self.email.clone(),
            profile: self.profile.clone(),
            status: self.status,
            roles: self.roles.clone(),
            must_change_password: false,
            password_changed_at: self.password_hash.as_ref().map(|_| self.created_at),
            created_at: self.created_at,
            updated_at: self.created_at,
            last_login_at: None,
            metadata,
        }
    }
}

/// A server-side session; the browser holds the secret, the store its digest.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: SessionId,
    pub user: UserId,
    pub secret_digest: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub last_active_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub address: Option<String>,
    pub client: Option<String>,
    /// When the sign-in that opened this session proved the password the user
    /// then had to change (a temporary or expired one); `None` for any other
    /// session. Such a session may choose the new password without typing the
    /// old one again, for a little while (see [`crate::auth::FORCED_CHANGE_WINDOW`]).
    pub forced_change_proof: Option<DateTime<Utc>>,
}

/// A personal API token as stored: never the secret, only its digest and the
/// few characters shown to help people recognise it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: TokenId,
    pub owner: UserId,
    pub org_id: OrgId,
    pub description: String,
    pub client: String,
    pub scopes: Vec<String>,
    pub digest: Vec<u8>,
    /// e.g. `ush_AbCd`
    pub first_chars: String,
    /// e.g. `x9Qz`
    pub last_chars: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// Who created it, when not the owner (an administrator).
    pub created_by: Option<UserId>,
    /// For a token whose secret someone else than its owner was given (made or
    /// regenerated by an administrator): the most it may ever do.
    pub authority: Option<TokenAuthority>,
}

/// The roles a token made by someone else than its owner may use: those its
/// owner had when the secret was handed out. The token acts with the roles its
/// owner has now *and* had then, so promoting a user never widens a token
/// someone else holds (a User Manager who made a `write` token for a plain User
/// does not get an Administrator's token when that User is promoted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenAuthority {
    pub roles: Vec<Role>,
    pub apps: Vec<(AppRole, AppId)>,
}

impl TokenAuthority {
    /// As stored: `administrator user app_owner:<app id>`.
    pub fn to_text(&self) -> String {
        let roles = self.roles.iter().map(|r| r.as_str().to_owned());
        let apps = self.apps.iter().map(|(r, app)| format!("{}:{app}", r.as_str()));
        roles.chain(apps).collect::<Vec<_>>().join(" ")
    }

    /// Reads [`TokenAuthority::to_text`]; words it does not know are left out,
    /// which can only take power away.
    pub fn parse(text: &str) -> Self {
        let mut authority = Self::default();
        for word in text.split_whitespace() {
            match word.split_once(':') {
                None => authority.roles.extend(word.parse::<Role>().ok()),
                Some((role, app)) => {
                    if let (Ok(role), Ok(app)) = (role.parse::<AppRole>(), app.parse::<AppId>()) {
                        authority.apps.push((role, app));
                    }
                }
            }
        }
        authority
    }

    /// Whether the token may use `role` on `app`.
    pub fn allows_app(&self, role: AppRole, app: AppId) -> bool {
        self.apps.contains(&(role, app))
    }
}

/// Which tokens a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenFilter {
    All,
    Active,
    /// Revoked or expired.
    Inactive,
}

/// One append-only audit log entry. Names are copied in, so the entry still says
/// who was involved after those people are deleted.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub id: EventId,
    pub org_id: OrgId,
    pub at: DateTime<Utc>,
    pub action: String,
    pub actor_id: Option<UserId>,
    pub actor_name: Option<String>,
    pub target_id: Option<Uuid>,
    pub target_name: Option<String>,
    pub address: Option<String>,
    pub client: Option<String>,
    pub details: serde_json::Value,
}

/// Filters for reading the audit log, newest first; `before` is the cursor.
/// Filters left `None` select everything; those given must all hold.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Exactly this action.
    pub action: Option<String>,
    /// Actions of this family, the first word of their code
    /// ([`crate::audit::family_of`]).
    pub family: Option<String>,
    pub actor_id: Option<UserId>,
    pub target_id: Option<Uuid>,
    /// Events at this time or later.
    pub since: Option<DateTime<Utc>>,
    /// Events before this time.
    pub until: Option<DateTime<Utc>>,
    pub before: Option<EventId>,
    pub limit: u32,
}

/// Everything Usher stores: the sum of one trait per aggregate.
#[async_trait]
pub trait Store:
    OrganizationStore
    + UserStore
    + SessionStore
    + TwoStepStore
    + TokenStore
    + AccessStore
    + InvitationStore
    + MailStore
    + AuditStore
    + LockoutStore
    + SettingsStore
    + DirectoryStore
    + ImportStore
    + Send
    + Sync
    + 'static
{
    async fn ping(&self) -> StoreResult<()>;

    /// Whether the database takes writes now: a write that needs new space,
    /// undone at once (nothing is kept). Fails with `Unavailable` on a full
    /// disk, a read-only database or a user without write rights.
    async fn check_writable(&self) -> StoreResult<()>;
}
