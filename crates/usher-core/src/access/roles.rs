//! Role assignments: a user's organization roles and app roles, read and
//! replaced as one list (`GET/PUT /users/{id}/roles`).

use serde_json::json;
use usher_domain::{AppId, AppRole, FieldError, Invalid, OrgId, Role, RoleName, UserId};

use super::{
    AppRoleOf, Group, StoredRoles,
    policy::{self, Operation},
};
use crate::{Error, RequestContext, Result, Usher, audit::action, auth::Principal, store::User};

/// One role assignment as asked: a role name, and the app for app roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub role: String,
    pub app_id: Option<AppId>,
}

/// A user's roles and groups, for the roles tab and `GET /users/{id}/roles`.
#[derive(Debug, Clone)]
pub struct RolesOf {
    pub user: User,
    pub org: Vec<Role>,
    pub apps: Vec<AppRoleOf>,
    pub groups: Vec<Group>,
}

impl RolesOf {
    /// The roles as assignments, organization roles first.
    pub fn assignments(&self) -> Vec<(RoleName, Option<&AppRoleOf>)> {
        let org = self.org.iter().map(|r| (RoleName::Org(*r), None));
        org.chain(self.apps.iter().map(|a| (RoleName::App(a.role), Some(a)))).collect()
    }
}

fn stored_json(org: &[Role], apps: &[AppRoleOf]) -> serde_json::Value {
    let org = org.iter().map(|r| json!({ "role": r.as_str() }));
    let apps = apps.iter().map(|a| json!({ "role": a.role.as_str(), "app_id": a.app_id, "app_name": a.app_name }));
    serde_json::Value::Array(org.chain(apps).collect())
}

impl Usher {
    /// The target user, checked to be in the caller's organization and, for a
    /// User Manager, not an Administrator when `changing`.
    async fn role_target(&self, p: &Principal, id: UserId, op: Operation) -> Result<User> {
        let manager = policy::authorize(p, op)?;
        let user = self.store.user(id).await?.filter(|u| u.org_id == p.user.org_id).ok_or(Error::NotFound)?;
        if op == Operation::AssignRoles {
            manager.may_manage(&user)?;
        }
        Ok(user)
    }

    /// A user's roles and groups (Administrators, User Managers).
    pub async fn roles_of(&self, p: &Principal, id: UserId) -> Result<RolesOf> {
        let user = self.role_target(p, id, Operation::ReadRoles).await?;
        self.load_roles(user).await
    }

    async fn load_roles(&self, user: User) -> Result<RolesOf> {
        let apps = self.store.app_roles_of(user.id).await?;
        let groups = self.store.groups_of(user.id).await?;
        Ok(RolesOf { org: user.roles.clone(), user, apps, groups })
    }

    /// Replaces all of a user's roles. Administrators and User Managers assign;
    /// a User Manager neither gives nor takes the Administrator role nor touches
    /// an Administrator; an Administrator needs an email address; the
    /// organization keeps at least one Administrator (409 otherwise). The
    /// replace is one transaction, audited with the roles before and after.
    pub async fn set_roles(
        &self,
        ctx: &RequestContext,
        p: &Principal,
        id: UserId,
        wanted: &[Assignment],
    ) -> Result<RolesOf> {
        let user = self.role_target(p, id, Operation::AssignRoles).await?;
        let (org_roles, app_roles) = self.parse_assignments(p.user.org_id, wanted).await?;
        policy::authorize(p, Operation::AssignRoles)?.may_grant(&org_roles)?;
        if org_roles.contains(&Role::Administrator) && user.email.is_none() {
            return Err(Invalid::one("roles", "email_required", "Administrators must have an email address.").into());
        }
        let before = self.store.replace_roles(p.user.org_id, user.id, &org_roles, &app_roles, self.now()).await?;
        let user = self.store.user(user.id).await?.ok_or(Error::NotFound)?;
        let after = self.load_roles(user).await?;
        if before != (StoredRoles { org: after.org.clone(), apps: after.apps.clone() }) {
            let details = json!({
                "before": stored_json(&before.org, &before.apps),
                "after": stored_json(&after.org, &after.apps),
            });
            self.audit_access(ctx, p, action::ROLES_CHANGED, Some(&after.user), details).await?;
        }
        Ok(after)
    }

    /// Parses assignments, reporting every problem at once with its position
    /// (`roles[2].app_id`); app ids must name apps of the organization.
    async fn parse_assignments(
        &self,
        org_id: OrgId,
        wanted: &[Assignment],
    ) -> Result<(Vec<Role>, Vec<(AppRole, AppId)>)> {
        if wanted.len() > 1000 {
            return Err(Invalid::one("roles", "too_many", "At most 1000 role assignments.").into());
        }
        let mut errors = Vec::new();
        let mut org_roles = Vec::new();
        let mut app_roles = Vec::new();
        for (i, a) in wanted.iter().enumerate() {
            let field = |f: &str| format!("roles[{i}].{f}");
            match (a.role.parse::<RoleName>(), a.app_id) {
                (Err(e), _) => errors.extend(e.in_field(&field("role")).0),
                (Ok(RoleName::Org(_)), Some(_)) => errors.push(FieldError::new(
                    &field("app_id"),
                    "not_allowed",
                    "Organization roles are not given for an app; leave app_id out.",
                )),
                (Ok(RoleName::App(_)), None) => errors.push(FieldError::new(
                    &field("app_id"),
                    "required",
                    "App roles need the app they are for (app_id).",
                )),
                (Ok(RoleName::Org(r)), None) => org_roles.push(r),
                (Ok(RoleName::App(r)), Some(app)) => app_roles.push((i, r, app)),
            }
        }
        let app_ids: Vec<AppId> = app_roles.iter().map(|(_, _, app)| *app).collect();
        let known = if app_ids.is_empty() { Vec::new() } else { self.store.org_apps(org_id, &app_ids).await? };
        for (i, _, app) in &app_roles {
            if !known.iter().any(|a| a.id == *app) {
                errors.push(FieldError::new(
                    &format!("roles[{i}].app_id"),
                    "unknown_app",
                    format!("There is no app {app}."),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(Invalid(errors).into());
        }
        org_roles.sort();
        org_roles.dedup();
        let mut app_roles: Vec<(AppRole, AppId)> = app_roles.into_iter().map(|(_, r, app)| (r, app)).collect();
        app_roles.sort();
        app_roles.dedup();
        Ok((org_roles, app_roles))
    }
}
