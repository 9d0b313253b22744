//! Apps: the applications whose access Usher manages, with their owners,
//! developers and the groups whose members may use them; and each user's
//! "My apps". Who may do what is in [`super::policy`].

use serde_json::json;
use usher_domain::{Access, AppId, AppRole, FieldError, GroupId, Invalid, OrgId, Resource, UserId, fold};

use super::{
    App, AppAccess, Group, Page, SetChange, decode_cursor, distinct, page_of, parse_description, parse_name,
    policy::{self, Operation, Standing},
};
use crate::{Error, RequestContext, Result, Usher, audit::action, auth::Principal, store::User};

/// The longest app URL.
pub const URL_MAX: usize = 2000;

/// An app's own fields as asked: on create `name` is required; on edit absent
/// fields stay as they are and `url: Some(None)` clears the URL.
#[derive(Debug, Clone, Default)]
pub struct AppInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub url: Option<Option<String>>,
}

impl AppInput {
    fn is_empty(&self) -> bool {
        self.name.is_none() && self.description.is_none() && self.url.is_none()
    }
}

/// A change to an app: its fields, and (each optional) the complete new lists
/// of owners, developers and groups with access.
#[derive(Debug, Clone, Default)]
pub struct AppChange {
    pub fields: AppInput,
    pub owners: Option<Vec<UserId>>,
    pub developers: Option<Vec<UserId>>,
    pub groups: Option<Vec<GroupId>>,
}

/// An app with its people and groups, and what the caller may do to it.
#[derive(Debug, Clone)]
pub struct AppDetails {
    pub app: App,
    pub owners: Vec<User>,
    pub developers: Vec<User>,
    pub groups: Vec<Group>,
    /// The caller may change name, description, URL and groups.
    pub may_edit: bool,
    pub may_set_developers: bool,
    pub may_set_owners: bool,
    pub may_delete: bool,
}

/// One app of "My apps" and how the user reaches it.
#[derive(Debug, Clone)]
pub struct MyApp {
    pub app: App,
    pub access: AppAccess,
}

/// An app URL: absent, or an absolute `http(s)` address on one line.
fn parse_url(raw: Option<&str>, errors: &mut Vec<FieldError>) -> Option<String> {
    let s = raw.map(str::trim).filter(|s| !s.is_empty())?;
    let lower = s.to_ascii_lowercase();
    let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://"));
    let host_ok = rest.is_some_and(|r| r.split(['/', '?', '#']).next().is_some_and(|h| !h.is_empty()));
    if s.chars().count() > URL_MAX {
        errors.push(FieldError::new("url", "too_long", format!("At most {URL_MAX} characters.")));
    } else if !host_ok || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        errors.push(FieldError::new("url", "invalid", "Enter an address starting with https:// or http://."));
    }
    Some(s.to_owned())
}

impl Usher {
    /// Every app of the organization, in name order (Administrators, User
    /// Managers, Developers).
    pub async fn apps(&self, p: &Principal, cursor: Option<&str>, limit: u32) -> Result<Page<App>> {
        policy::check(p, Operation::ListApps, Standing::default())?;
        let after = decode_cursor(cursor)?;
        let limit = limit.clamp(1, 200);
        let items = self.store.apps_page(p.user.org_id, after.as_deref(), limit).await?;
        Ok(page_of(items, limit, |a| fold(&a.name)))
    }

    /// The apps the caller may use: through their groups, or as an owner or developer.
    pub async fn my_apps(&self, p: &Principal, cursor: Option<&str>, limit: u32) -> Result<Page<MyApp>> {
        policy::check(p, Operation::MyApps, Standing::default())?;
        let after = decode_cursor(cursor)?;
        let limit = limit.clamp(1, 200);
        let rows = self.store.apps_of(p.user.id, after.as_deref(), limit).await?;
        let items = rows.into_iter().map(|(app, access)| MyApp { app, access }).collect();
        Ok(page_of(items, limit, |a: &MyApp| fold(&a.app.name)))
    }

    /// The app and the caller's standing on it; an app of another organization is not found.
    async fn app_and_standing(&self, p: &Principal, id: AppId) -> Result<(App, Standing)> {
        let app = self.store.app(p.user.org_id, id).await?.ok_or(Error::NotFound)?;
        let standing = self.standing_on(p, app.id).await?;
        Ok((app, standing))
    }

    /// One app with its owners, developers and groups.
    pub async fn app(&self, p: &Principal, id: AppId) -> Result<AppDetails> {
        let (app, standing) = self.app_and_standing(p, id).await?;
        policy::check(p, Operation::ReadApp, standing)?;
        self.details(p, app, standing).await
    }

    async fn details(&self, p: &Principal, app: App, standing: Standing) -> Result<AppDetails> {
        let people = self.store.app_people(app.id).await?;
        let groups = self.store.app_groups(app.id).await?;
        let (mut owners, mut developers) = (Vec::new(), Vec::new());
        for (role, user) in people {
            match role {
                AppRole::Owner => owners.push(user),
                AppRole::Developer => developers.push(user),
            }
        }
        let may = |op| policy::allows(&p.user.roles, standing, op);
        Ok(AppDetails {
            app,
            owners,
            developers,
            groups,
            may_edit: may(Operation::EditApp),
            may_set_developers: may(Operation::SetAppDevelopers),
            may_set_owners: may(Operation::SetAppOwners),
            may_delete: may(Operation::DeleteApp),
        })
    }

    /// The groups with access to an app.
    pub async fn app_groups(&self, p: &Principal, id: AppId) -> Result<Vec<Group>> {
        Ok(self.app(p, id).await?.groups)
    }

    /// Creates an app (Administrators, Developers). Its owners are `owners`
    /// when given (Administrators only), else the creator.
    pub async fn create_app(
        &self,
        ctx: &RequestContext,
        p: &Principal,
        fields: AppInput,
        owners: Option<Vec<UserId>>,
    ) -> Result<AppDetails> {
        policy::check(p, Operation::CreateApp, Standing::default())?;
        if owners.is_some() {
            policy::check(p, Operation::SetAppOwners, Standing::default())?;
        }
        let mut errors = Vec::new();
        let name = parse_name(fields.name.as_deref().unwrap_or(""), &mut errors);
        let description = parse_description(fields.description.as_deref().unwrap_or(""), &mut errors);
        let url = parse_url(fields.url.flatten().as_deref(), &mut errors);
        if !errors.is_empty() {
            return Err(Invalid(errors).into());
        }
        let owners = match owners {
            Some(ids) => Some(self.known_users(p.user.org_id, &ids, "owners").await?),
            None => None,
        };
        let now = self.now();
        let app = App {
            id: AppId::generate(),
            org_id: p.user.org_id,
            name,
            description,
            url,
            created_at: now,
            updated_at: now,
        };
        let first_owner = match &owners {
            Some(list) => list.first().map(|u| u.id),
            None => Some(p.user.id),
        };
        self.store.insert_app(&app, &fold(&app.name), first_owner).await?;
        if let Some(list) = &owners
            && list.len() > 1
        {
            let ids: Vec<UserId> = list.iter().map(|u| u.id).collect();
            self.store.set_app_people(app.id, AppRole::Owner, &ids, now).await?;
        }
        let owner_ids: Vec<UserId> = owners.map_or_else(|| vec![p.user.id], |l| l.iter().map(|u| u.id).collect());
        let details = json!({
            "app_id": app.id, "name": app.name, "description": app.description, "url": app.url, "owners": owner_ids,
        });
        self.audit_access(ctx, p, action::APP_CREATED, None, details).await?;
        let standing = self.standing_on(p, app.id).await?;
        self.details(p, app, standing).await
    }

    /// Changes an app. Each part needs its own right (see the policy); every
    /// part is checked and validated before anything is written.
    pub async fn update_app(
        &self,
        ctx: &RequestContext,
        p: &Principal,
        id: AppId,
        change: AppChange,
    ) -> Result<AppDetails> {
        let (before, standing) = self.app_and_standing(p, id).await?;
        let edits_fields = !change.fields.is_empty();
        if edits_fields || change.groups.is_some() {
            policy::check(p, Operation::EditApp, standing)?;
        }
        if change.developers.is_some() {
            policy::check(p, Operation::SetAppDevelopers, standing)?;
        }
        if change.owners.is_some() {
            policy::check(p, Operation::SetAppOwners, standing)?;
        }
        // A change that changes nothing still needs the right to change something.
        if !edits_fields && change.groups.is_none() && change.developers.is_none() && change.owners.is_none() {
            let may_any = [Operation::EditApp, Operation::SetAppDevelopers, Operation::SetAppOwners]
                .into_iter()
                .any(|op| policy::allows(&p.user.roles, standing, op));
            if !may_any {
                policy::check(p, Operation::EditApp, standing)?;
            }
            p.require(Resource::Users, Access::Write)?;
        }
        let mut app = before.clone();
        let mut errors = Vec::new();
        let fields = change.fields;
        if let Some(name) = fields.name {
            app.name = parse_name(&name, &mut errors);
        }
        if let Some(description) = fields.description {
            app.description = parse_description(&description, &mut errors);
        }
        if let Some(url) = fields.url {
            app.url = parse_url(url.as_deref(), &mut errors);
        }
        if !errors.is_empty() {
            return Err(Invalid(errors).into());
        }
        let org = p.user.org_id;
        let owners = match &change.owners {
            Some(ids) => Some(self.known_users(org, ids, "owners").await?),
            None => None,
        };
        let developers = match &change.developers {
            Some(ids) => Some(self.known_users(org, ids, "developers").await?),
            None => None,
        };
        let groups = match &change.groups {
            Some(ids) => Some(self.known_groups(org, ids, "groups").await?),
            None => None,
        };
        let now = self.now();
        if app != before {
            app.updated_at = now;
            self.store.update_app(&app, &fold(&app.name)).await?;
            let details = json!({
                "app_id": app.id,
                "before": { "name": before.name, "description": before.description, "url": before.url },
                "after": { "name": app.name, "description": app.description, "url": app.url },
            });
            self.audit_access(ctx, p, action::APP_UPDATED, None, details).await?;
        }
        for (role, users) in [(AppRole::Owner, owners), (AppRole::Developer, developers)] {
            if let Some(users) = users {
                let ids: Vec<UserId> = users.iter().map(|u| u.id).collect();
                let change = self.store.set_app_people(app.id, role, &ids, now).await?;
                self.audit_app_set(ctx, p, &app, action::APP_PEOPLE_CHANGED, Some(role), &change).await?;
            }
        }
        if let Some(groups) = groups {
            let ids: Vec<GroupId> = groups.iter().map(|g| g.id).collect();
            let change = self.store.set_app_groups(app.id, &ids, now).await?;
            self.audit_app_set(ctx, p, &app, action::APP_GROUPS_CHANGED, None, &change).await?;
        }
        let standing = self.standing_on(p, app.id).await?;
        self.details(p, app, standing).await
    }

    /// Makes the groups with access to an app exactly `group_ids`.
    pub async fn set_app_groups(
        &self,
        ctx: &RequestContext,
        p: &Principal,
        id: AppId,
        group_ids: Vec<GroupId>,
    ) -> Result<AppDetails> {
        self.update_app(ctx, p, id, AppChange { groups: Some(group_ids), ..AppChange::default() }).await
    }

    /// Deletes an app (Administrators): its roles and group access go with it.
    pub async fn delete_app(&self, ctx: &RequestContext, p: &Principal, id: AppId) -> Result<()> {
        let (app, standing) = self.app_and_standing(p, id).await?;
        policy::check(p, Operation::DeleteApp, standing)?;
        self.store.delete_app(p.user.org_id, app.id).await?;
        let details = json!({ "app_id": app.id, "name": app.name });
        self.audit_access(ctx, p, action::APP_DELETED, None, details).await
    }

    /// Checks `ids` are groups of the organization; unknown ones are field errors.
    async fn known_groups(&self, org_id: OrgId, ids: &[GroupId], field: &str) -> Result<Vec<Group>> {
        let ids = distinct(ids);
        let found = self.store.org_groups(org_id, &ids).await?;
        let missing: Vec<FieldError> = ids
            .iter()
            .filter(|id| !found.iter().any(|g| g.id == **id))
            .map(|id| FieldError::new(field, "unknown_group", format!("There is no group {id}.")))
            .collect();
        if missing.is_empty() { Ok(found) } else { Err(Invalid(missing).into()) }
    }

    async fn audit_app_set(
        &self,
        ctx: &RequestContext,
        p: &Principal,
        app: &App,
        action: &'static str,
        role: Option<AppRole>,
        change: &SetChange<impl serde::Serialize>,
    ) -> Result<()> {
        if change.is_empty() {
            return Ok(());
        }
        let mut details =
            json!({ "app_id": app.id, "name": app.name, "added": change.added, "removed": change.removed });
        if let (Some(role), Some(map)) = (role, details.as_object_mut()) {
            map.insert("role".into(), json!(role.as_str()));
        }
        self.audit_access(ctx, p, action, None, details).await
    }
}

impl Usher {
    /// Adds one owner or developer, named by user ID or email (the web form's way).
    pub async fn add_app_person(
        &self,
        ctx: &RequestContext,
        p: &Principal,
        id: AppId,
        role: AppRole,
        login: &str,
    ) -> Result<AppDetails> {
        let details = self.app(p, id).await?;
        let user = self.user_by_name(p, "user", login).await?;
        let mut ids = people_ids(&details, role);
        ids.push(user.id);
        self.update_app(ctx, p, id, people_change(role, ids)).await
    }

    /// Removes one owner or developer.
    pub async fn remove_app_person(
        &self,
        ctx: &RequestContext,
        p: &Principal,
        id: AppId,
        role: AppRole,
        user: UserId,
    ) -> Result<AppDetails> {
        let details = self.app(p, id).await?;
        let ids: Vec<UserId> = people_ids(&details, role).into_iter().filter(|u| *u != user).collect();
        self.update_app(ctx, p, id, people_change(role, ids)).await
    }

    /// Every app of the organization (up to 1000), for pickers.
    pub async fn all_apps(&self, p: &Principal) -> Result<Vec<App>> {
        policy::check(p, Operation::ListApps, Standing::default())?;
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..5 {
            let page = self.store.apps_page(p.user.org_id, after.as_deref(), 200).await?;
            let full = page.len() == 200;
            after = page.last().map(|a| fold(&a.name));
            out.extend(page);
            if !full {
                break;
            }
        }
        Ok(out)
    }
}

fn people_ids(d: &AppDetails, role: AppRole) -> Vec<UserId> {
    let list = match role {
        AppRole::Owner => &d.owners,
        AppRole::Developer => &d.developers,
    };
    list.iter().map(|u| u.id).collect()
}

fn people_change(role: AppRole, ids: Vec<UserId>) -> AppChange {
    match role {
        AppRole::Owner => AppChange { owners: Some(ids), ..AppChange::default() },
        AppRole::Developer => AppChange { developers: Some(ids), ..AppChange::default() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_web_addresses() {
        let check = |s: &str| {
            let mut errors = Vec::new();
            let out = parse_url(Some(s), &mut errors);
            (out, errors.into_iter().map(|e| e.code).collect::<Vec<_>>())
        };
        assert_eq!(check(" https://app.example.org/x "), (Some("https://app.example.org/x".into()), vec![]));
        assert_eq!(check(""), (None, vec![]));
        for bad in ["javascript:alert(1)", "ftp://x", "https://", "http://a b", "example.org"] {
            assert_eq!(check(bad).1, ["invalid"], "{bad}");
        }
    }
}
