//! The storage contract. One implementation per database engine
//! (`usher-store`: `sqlite`, `postgres`), chosen once at start-up;
//! services never see an engine's own error types.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use usher_domain::{AppRole, Language, Role, TimeZone};
use uuid::Uuid;

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
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
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
    pub id: Uuid,
    pub org_id: Uuid,
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
    pub id: Uuid,
    pub org_id: Uuid,
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
    pub id: Uuid,
    pub user_id: Uuid,
    pub secret_digest: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub last_active_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub address: Option<String>,
    pub client: Option<String>,
}

/// A personal API token as stored: never the secret, only its digest and the
/// few characters shown to help people recognise it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: Uuid,
    pub user_id: Uuid,
    pub org_id: Uuid,
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
    pub created_by: Option<Uuid>,
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
    pub apps: Vec<(AppRole, Uuid)>,
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
                    if let (Ok(role), Ok(app)) = (role.parse::<AppRole>(), app.parse::<Uuid>()) {
                        authority.apps.push((role, app));
                    }
                }
            }
        }
        authority
    }

    /// Whether the token may use `role` on `app`.
    pub fn allows_app(&self, role: AppRole, app: Uuid) -> bool {
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
    pub id: Uuid,
    pub org_id: Uuid,
    pub at: DateTime<Utc>,
    pub action: String,
    pub actor_id: Option<Uuid>,
    pub actor_name: Option<String>,
    pub target_id: Option<Uuid>,
    pub target_name: Option<String>,
    pub address: Option<String>,
    pub client: Option<String>,
    pub details: serde_json::Value,
}

/// Filters for reading the audit log, newest first; `before` is the cursor.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub action: Option<String>,
    pub actor_id: Option<Uuid>,
    pub target_id: Option<Uuid>,
    pub before: Option<Uuid>,
    pub limit: u32,
}

/// Everything Usher stores. Areas added later have their own traits, defined next
/// to their services (`mail`, `invitations`, `access`, `users`).
#[async_trait]
pub trait Store:
    crate::mail::MailStore
    + crate::invitations::InvitationStore
    + crate::access::AccessStore
    + crate::users::UserAdminStore
    + crate::security::SecurityStore
    + crate::directory::DirectoryStore
    + Send
    + Sync
    + 'static
{
    async fn ping(&self) -> StoreResult<()>;

    /// Whether the database takes writes now: a write that needs new space,
    /// undone at once (nothing is kept). Fails with `Unavailable` on a full
    /// disk, a read-only database or a user without write rights.
    async fn check_writable(&self) -> StoreResult<()>;

    async fn default_organization(&self) -> StoreResult<Option<Organization>>;
    async fn organization_by_slug(&self, slug: &str) -> StoreResult<Option<Organization>>;
    /// Inserts the organization; the first one inserted is the default.
    async fn insert_organization(&self, org: &Organization) -> StoreResult<()>;

    /// Inserts a user with their roles and password, in one transaction.
    async fn insert_user(&self, user: &NewUser) -> StoreResult<()>;
    async fn user(&self, id: Uuid) -> StoreResult<Option<User>>;
    /// The user whose user ID, or else whose email, has this key, with their password hash.
    async fn user_by_login(&self, org_id: Uuid, key: &str) -> StoreResult<Option<(User, Option<String>)>>;
    async fn update_profile(&self, id: Uuid, profile: &Profile, at: DateTime<Utc>) -> StoreResult<()>;
    /// Records a sign-in in one transaction: the user's last sign-in time (the
    /// session's creation), the new session, and the audit entry.
    async fn sign_in(&self, session: &Session, event: &AuditEvent) -> StoreResult<()>;
    async fn count_users_with_role(&self, org_id: Uuid, role: Role) -> StoreResult<u64>;
    /// Users of an organization in user-ID order, after the user-ID key `after`.
    async fn users_page(&self, org_id: Uuid, after: Option<&str>, limit: u32) -> StoreResult<Vec<User>>;

    async fn password_hash(&self, user: Uuid) -> StoreResult<Option<String>>;
    /// Replaces the password; the previous hash joins the history, which keeps `keep` entries.
    async fn set_password(&self, user: Uuid, hash: &str, at: DateTime<Utc>, keep: u32) -> StoreResult<()>;
    /// The newest `limit` previous password hashes.
    async fn password_history(&self, user: Uuid, limit: u32) -> StoreResult<Vec<String>>;

    async fn insert_session(&self, session: &Session) -> StoreResult<()>;
    /// The session with this secret digest and its user, whatever their state.
    async fn session_by_digest(&self, digest: &[u8]) -> StoreResult<Option<(Session, User)>>;
    async fn touch_session(&self, id: Uuid, at: DateTime<Utc>) -> StoreResult<()>;
    async fn delete_session(&self, id: Uuid) -> StoreResult<()>;

    async fn setting(&self, org_id: Uuid, key: &str) -> StoreResult<Option<serde_json::Value>>;
    async fn put_setting(
        &self,
        org_id: Uuid,
        key: &str,
        value: &serde_json::Value,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;

    async fn append_audit(&self, event: &AuditEvent) -> StoreResult<()>;
    async fn audit_events(&self, org_id: Uuid, query: &AuditQuery) -> StoreResult<Vec<AuditEvent>>;

    async fn insert_token(&self, token: &ApiToken) -> StoreResult<()>;
    /// A user's tokens, newest first, older than the `before` id when given.
    async fn tokens(
        &self,
        user: Uuid,
        filter: TokenFilter,
        now: DateTime<Utc>,
        before: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<ApiToken>>;
    async fn token(&self, user: Uuid, id: Uuid) -> StoreResult<Option<ApiToken>>;
    /// The tokens with these digests and their owners, whatever their state, in
    /// any order; digests no token has are left out (one query for all).
    async fn tokens_by_digests(&self, digests: &[&[u8]]) -> StoreResult<Vec<(ApiToken, User)>>;
    /// Saves description, expiry, revocation and secret fields of an existing token.
    async fn update_token(&self, token: &ApiToken) -> StoreResult<()>;
    async fn delete_token(&self, user: Uuid, id: Uuid) -> StoreResult<()>;
    /// Records use, unless it was recorded less than a minute before `at`.
    async fn touch_token(&self, id: Uuid, at: DateTime<Utc>) -> StoreResult<()>;

    async fn insert_setup_token(&self, digest: &[u8], org_id: Uuid, expires_at: DateTime<Utc>) -> StoreResult<()>;
    /// The organization of an unused, unexpired setup token, without using it.
    async fn setup_token_org(&self, digest: &[u8], now: DateTime<Utc>) -> StoreResult<Option<Uuid>>;
    /// Marks an unused, unexpired setup token used and returns its organization.
    async fn take_setup_token(&self, digest: &[u8], now: DateTime<Utc>) -> StoreResult<Option<Uuid>>;
}
