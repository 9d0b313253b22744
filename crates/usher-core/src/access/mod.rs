//! Roles, groups and apps (issue 4), and the one authorization policy
//! ([`policy`]) that says who may do what to which resource.
//!
//! - Organization roles (Administrator, User Manager, Developer, User) live on
//!   the user; app roles (App Owner, App Developer) tie a user to one app.
//! - Groups gather users; an app lists the groups whose members may use it.
//! - A user's "My apps" are the apps their groups give them, plus the apps they
//!   own or develop.

mod apps;
mod groups;
pub mod policy;
mod roles;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use usher_domain::{AppId, AppRole, FieldError, GroupId, Invalid, OrgId, Role, UserId};

pub use apps::{AppChange, AppDetails, AppInput, MyApp, URL_MAX};
pub use groups::GroupInput;
pub use roles::{Assignment, RolesOf};

use crate::{RequestContext, Result, Usher, audit::Entry, auth::Principal, store::User};

/// A group of users, as stored, with how many members it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: GroupId,
    pub org_id: OrgId,
    pub name: String,
    pub description: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Filled by reads; ignored by writes.
    pub member_count: u64,
}

/// An application whose access Usher manages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub id: AppId,
    pub org_id: OrgId,
    pub name: String,
    pub description: String,
    /// Where people open it, if known.
    pub url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One app role of a user, with the app's name for display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppRoleOf {
    pub role: AppRole,
    pub app_id: AppId,
    pub app_name: String,
}

/// How a user reaches an app in "My apps".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AppAccess {
    /// One of the user's groups has access.
    pub via_group: bool,
    pub owner: bool,
    pub developer: bool,
}

/// What a replace of a set changed (ids added and removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetChange<I> {
    pub added: Vec<I>,
    pub removed: Vec<I>,
}

impl<I> Default for SetChange<I> {
    fn default() -> Self {
        Self { added: Vec::new(), removed: Vec::new() }
    }
}

impl<I> SetChange<I> {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }
}

/// A user's roles before a replace, as the store read them in its transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredRoles {
    pub org: Vec<Role>,
    pub apps: Vec<AppRoleOf>,
}

/// One page of a list and the cursor of the next (opaque, stable under inserts).
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// The name key a cursor carries, or a field error for a cursor we did not make.
fn decode_cursor(cursor: Option<&str>) -> Result<Option<String>, Invalid> {
    cursor
        .filter(|c| !c.is_empty())
        .map(|c| {
            URL_SAFE_NO_PAD
                .decode(c)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                // Names have no control characters, so neither has a real cursor.
                .filter(|key| !usher_domain::text::has_control(key))
                .ok_or_else(|| Invalid::one("cursor", "invalid", "This cursor is not valid."))
        })
        .transpose()
}

/// A page from `limit` rows, the cursor pointing after the last one when the page is full.
fn page_of<T>(items: Vec<T>, limit: u32, key: impl Fn(&T) -> String) -> Page<T> {
    let next_cursor =
        if items.len() == limit as usize { items.last().map(|last| URL_SAFE_NO_PAD.encode(key(last))) } else { None };
    Page { items, next_cursor }
}

/// The longest group or app name.
pub const NAME_MAX: usize = 100;
/// The longest group or app description.
pub const DESCRIPTION_MAX: usize = 2000;

/// A group or app name: required, at most [`NAME_MAX`] characters, one line.
fn parse_name(raw: &str, errors: &mut Vec<FieldError>) -> String {
    let s = raw.trim();
    if s.is_empty() {
        errors.push(FieldError::new("name", "required", "The name is required."));
    } else if s.chars().count() > NAME_MAX {
        errors.push(FieldError::new("name", "too_long", format!("At most {NAME_MAX} characters.")));
    } else if s.chars().any(char::is_control) {
        errors.push(FieldError::new("name", "invalid", "Control characters are not allowed."));
    }
    s.to_owned()
}

/// A description: optional, at most [`DESCRIPTION_MAX`] characters, line breaks allowed.
fn parse_description(raw: &str, errors: &mut Vec<FieldError>) -> String {
    let s = raw.trim();
    if s.chars().count() > DESCRIPTION_MAX {
        errors.push(FieldError::new("description", "too_long", format!("At most {DESCRIPTION_MAX} characters.")));
    } else if s.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        errors.push(FieldError::new("description", "invalid", "Control characters are not allowed."));
    }
    s.to_owned()
}

/// Ids without repeats, in the order given.
fn distinct<I: Copy + Eq + std::hash::Hash>(ids: &[I]) -> Vec<I> {
    let mut seen = std::collections::HashSet::new();
    ids.iter().copied().filter(|id| seen.insert(*id)).collect()
}

impl Usher {
    /// The caller's App Owner / App Developer standing on one app (within what
    /// their token may do, for a token someone else holds).
    async fn standing_on(&self, p: &Principal, app: AppId) -> Result<policy::Standing> {
        let roles = self.store.app_roles_on(p.user.id, app).await?;
        let has = |role| roles.contains(&role) && p.authority.as_ref().is_none_or(|a| a.allows_app(role, app));
        Ok(policy::Standing { owner: has(AppRole::Owner), developer: has(AppRole::Developer) })
    }

    /// The caller's standing on any app (an App Owner of one app may list groups).
    async fn standing_anywhere(&self, p: &Principal) -> Result<policy::Standing> {
        let roles = self.store.app_roles_of(p.user.id).await?;
        let has = |role| {
            roles.iter().any(|r| r.role == role && p.authority.as_ref().is_none_or(|a| a.allows_app(role, r.app_id)))
        };
        Ok(policy::Standing { owner: has(AppRole::Owner), developer: has(AppRole::Developer) })
    }

    /// Checks `users` all belong to the organization; unknown ids are field
    /// errors on `field`, so a foreign id leaks nothing but "unknown".
    async fn known_users(&self, org_id: OrgId, ids: &[UserId], field: &str) -> Result<Vec<User>> {
        let ids = distinct(ids);
        let found = self.store.org_users(org_id, &ids).await?;
        let missing: Vec<FieldError> = ids
            .iter()
            .filter(|id| !found.iter().any(|u| u.id == **id))
            .map(|id| FieldError::new(field, "unknown_user", format!("There is no user {id}.")))
            .collect();
        if missing.is_empty() { Ok(found) } else { Err(Invalid(missing).into()) }
    }

    async fn audit_access(
        &self,
        ctx: &RequestContext,
        actor: &Principal,
        action: &'static str,
        target: Option<&User>,
        mut details: serde_json::Value,
    ) -> Result<()> {
        if let (Some(id), Some(map)) = (actor.token_id, details.as_object_mut()) {
            map.insert("via_token".into(), serde_json::json!(id));
        }
        self.audit(ctx, Entry { org_id: actor.user.org_id, action, actor: Some(&actor.user), target, details }).await
    }
}
