//! The one authorization policy: who may do what to which resource.
//!
//! Every service checks the caller here (or, for the older areas, through the
//! `Principal::admin()` / `user_manager()` proofs and `require(scope)`, which
//! this table restates). Two checks always apply together:
//!
//! 1. **Role**: the caller's *current* organization roles, and for app
//!    operations their App Owner / App Developer role on that app.
//! 2. **Scope**: a caller using an API token also needs the token scope in the
//!    last column (`write` includes `read`; umbrella `read`/`write` cover all).
//!    A token therefore never does more than its owner's roles allow.
//!
//! | operation | Administrator | User Manager | Developer | User | App Owner (of that app) | App Developer (of that app) | scope |
//! |---|---|---|---|---|---|---|---|
//! | own profile, password, sessions, two-step, `GET /me/apps` | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | `profile:*` |
//! | own API tokens | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | `tokens:*` |
//! | list users, user details, another user's tokens | ✓ | ✓ ¹ | – | – | – | – | `users:*` |
//! | invite, create, edit, disable, delete users, reset passwords or two-step, end sessions | ✓ | ✓ ¹ | – | – | – | – | `users:write` |
//! | read a user's roles | ✓ | ✓ | – | – | – | – | `users:read` |
//! | assign roles | ✓ | ✓ ¹ ² | – | – | – | – | `users:write` |
//! | list groups, read a group | ✓ | ✓ | ✓ | – | ✓ ³ | – | `users:read` |
//! | read a group's members | ✓ | ✓ | – | – | – | – | `users:read` |
//! | create, edit, delete groups, change members | ✓ | ✓ ⁴ | – | – | – | – | `users:write` |
//! | list all apps | ✓ | ✓ | ✓ | – | – | – | `users:read` |
//! | read an app (owners, developers, groups) | ✓ | ✓ | ✓ | – | ✓ | ✓ | `users:read` |
//! | create an app (the creator becomes its App Owner) | ✓ | – | ✓ | – | – | – | `users:write` |
//! | edit an app's name, description, URL and groups with access | ✓ | – | – | – | ✓ | – | `users:write` |
//! | set an app's developers | ✓ | ✓ | – | – | ✓ | – | `users:write` |
//! | set an app's owners | ✓ | ✓ | – | – | – | – | `users:write` |
//! | delete an app | ✓ | – | – | – | – | – | `users:write` |
//! | read the custom metadata fields; read and preview the invitation template | ✓ | ✓ | – | – | – | – | `settings:read` |
//! | password, token, invitation template, two-step settings, custom metadata fields | ✓ | – | – | – | – | – | `settings:*` |
//! | audit log | ✓ | – | – | – | – | – | `audit:read` |
//!
//! ¹ A User Manager cannot act on an Administrator, nor give or take the
//!   Administrator role (`Admin::may_manage`, `Admin::may_grant`).
//! ² Also: an Administrator must have an email address, and the organization
//!   always keeps at least one Administrator.
//! ³ An App Owner of any app may list groups, to choose which ones get access
//!   to their app.
//! ⁴ Including Administrators: group membership gives access to apps, never a
//!   role or a credential, so putting an Administrator in a group (or taking
//!   them out) manages the group, not the Administrator's account.
//!
//! Objects that carry roles or reach someone else's account are held to the
//! same rules on every operation, not only when they are made:
//! - an invitation may be resent, withdrawn or its link seen only by someone who
//!   may give every role it carries and manage the account it was made for
//!   (`Usher::may_act_on_invitation`); a link made before its account gained
//!   roles no longer registers it;
//! - a password-reset link or temporary password only by someone who may
//!   manage the user (`Admin::may_manage`);
//! - an API token whose secret someone other than its owner was given acts with
//!   at most the roles its owner had then (`store::TokenAuthority`), so
//!   promoting the owner never widens it.
//!
//! Why these choices (after the Digital.ai and Ivanti pages): roles govern the
//! admin portal and groups govern access to apps; Administrators manage
//! everything, User Managers manage people (users, groups, role assignments,
//! including who owns and develops an app, since they are the ones told when an
//! app is left without an owner) but not apps themselves or Administrators;
//! Developers create apps and own what they create; an App Owner runs their
//! app (details, developers, which groups may use it) but only Administrators
//! delete apps or hand out ownership besides User Managers. Reading is never
//! wider than needed: plain Users see only their own apps; group member lists
//! are personal data, for people managers only.

use usher_domain::{Access, Resource, Role};

use crate::{Error, Result, auth::Principal};

/// The operations of the access area, one per row of the table above.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// `GET /me/apps`.
    MyApps,
    /// `GET /users/{id}/roles`.
    ReadRoles,
    /// `PUT /users/{id}/roles`.
    AssignRoles,
    /// `GET /groups`, `GET /groups/{id}`.
    ListGroups,
    /// `GET /groups/{id}/members`.
    ReadGroupMembers,
    /// Create, edit, delete a group; change its members.
    ManageGroups,
    /// `GET /apps`.
    ListApps,
    /// `GET /apps/{id}`, `GET /apps/{id}/groups`.
    ReadApp,
    /// `POST /apps`.
    CreateApp,
    /// Name, description, URL, groups with access.
    EditApp,
    /// Who develops the app.
    SetAppDevelopers,
    /// Who owns the app.
    SetAppOwners,
    /// `DELETE /apps/{id}`.
    DeleteApp,
}

impl Operation {
    /// Every operation, for tests and documentation.
    pub const ALL: [Operation; 13] = [
        Operation::MyApps,
        Operation::ReadRoles,
        Operation::AssignRoles,
        Operation::ListGroups,
        Operation::ReadGroupMembers,
        Operation::ManageGroups,
        Operation::ListApps,
        Operation::ReadApp,
        Operation::CreateApp,
        Operation::EditApp,
        Operation::SetAppDevelopers,
        Operation::SetAppOwners,
        Operation::DeleteApp,
    ];

    /// The token scope the operation needs.
    pub fn scope(self) -> (Resource, Access) {
        match self {
            Operation::MyApps => (Resource::Profile, Access::Read),
            Operation::ReadRoles
            | Operation::ListGroups
            | Operation::ReadGroupMembers
            | Operation::ListApps
            | Operation::ReadApp => (Resource::Users, Access::Read),
            Operation::AssignRoles
            | Operation::ManageGroups
            | Operation::CreateApp
            | Operation::EditApp
            | Operation::SetAppDevelopers
            | Operation::SetAppOwners
            | Operation::DeleteApp => (Resource::Users, Access::Write),
        }
    }
}

/// The caller's App Owner / App Developer standing: on the app an operation is
/// about, or (for [`Operation::ListGroups`]) on any app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Standing {
    pub owner: bool,
    pub developer: bool,
}

/// The table itself: whether someone with these organization roles and this
/// standing on the app may do `op` (scopes aside).
pub fn allows(roles: &[Role], standing: Standing, op: Operation) -> bool {
    let admin = roles.contains(&Role::Administrator);
    let manager = roles.contains(&Role::UserManager);
    let developer = roles.contains(&Role::Developer);
    match op {
        Operation::MyApps => true,
        Operation::ReadRoles | Operation::AssignRoles | Operation::ReadGroupMembers | Operation::ManageGroups => {
            admin || manager
        }
        Operation::ListGroups => admin || manager || developer || standing.owner,
        Operation::ListApps => admin || manager || developer,
        Operation::ReadApp => admin || manager || developer || standing.owner || standing.developer,
        Operation::CreateApp => admin || developer,
        Operation::EditApp => admin || standing.owner,
        Operation::SetAppDevelopers => admin || manager || standing.owner,
        Operation::SetAppOwners => admin || manager,
        Operation::DeleteApp => admin,
    }
}

/// Checks role and scope together; the error says which one is missing.
pub fn check(principal: &Principal, op: Operation, standing: Standing) -> Result<()> {
    if !allows(&principal.user.roles, standing, op) {
        return Err(Error::Forbidden(denial(op)));
    }
    let (resource, access) = op.scope();
    principal.require(resource, access)
}

fn denial(op: Operation) -> &'static str {
    match op {
        Operation::MyApps => "You may not see your apps.",
        Operation::ReadRoles | Operation::AssignRoles => {
            "Only Administrators and User Managers may see or assign roles."
        }
        Operation::ReadGroupMembers | Operation::ManageGroups => {
            "Only Administrators and User Managers may manage groups."
        }
        Operation::ListGroups => "Only Administrators, User Managers, Developers and App Owners may list groups.",
        Operation::ListApps => "Only Administrators, User Managers and Developers may list all apps.",
        Operation::ReadApp => "You have no role on this app.",
        Operation::CreateApp => "Only Administrators and Developers may create apps.",
        Operation::EditApp => "Only Administrators and the app's owners may change this app.",
        Operation::SetAppDevelopers => {
            "Only Administrators, User Managers and the app's owners may choose its developers."
        }
        Operation::SetAppOwners => "Only Administrators and User Managers may choose an app's owners.",
        Operation::DeleteApp => "Only Administrators may delete apps.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONE: Standing = Standing { owner: false, developer: false };
    const OWNER: Standing = Standing { owner: true, developer: false };
    const DEV: Standing = Standing { owner: false, developer: true };

    /// The table above, row by row: (operation, [Administrator, User Manager,
    /// Developer, User, App Owner, App Developer]).
    #[test]
    fn the_code_says_what_the_table_says() {
        use Operation::*;
        let table: [(Operation, [bool; 6]); 13] = [
            (MyApps, [true, true, true, true, true, true]),
            (ReadRoles, [true, true, false, false, false, false]),
            (AssignRoles, [true, true, false, false, false, false]),
            (ListGroups, [true, true, true, false, true, false]),
            (ReadGroupMembers, [true, true, false, false, false, false]),
            (ManageGroups, [true, true, false, false, false, false]),
            (ListApps, [true, true, true, false, false, false]),
            (ReadApp, [true, true, true, false, true, true]),
            (CreateApp, [true, false, true, false, false, false]),
            (EditApp, [true, false, false, false, true, false]),
            (SetAppDevelopers, [true, true, false, false, true, false]),
            (SetAppOwners, [true, true, false, false, false, false]),
            (DeleteApp, [true, false, false, false, false, false]),
        ];
        let callers = [
            (vec![Role::Administrator], NONE),
            (vec![Role::UserManager], NONE),
            (vec![Role::Developer], NONE),
            (vec![Role::User], NONE),
            (vec![Role::User], OWNER),
            (vec![Role::User], DEV),
        ];
        assert_eq!(table.len(), Operation::ALL.len());
        for (op, expected) in table {
            for ((roles, standing), want) in callers.iter().zip(expected) {
                assert_eq!(allows(roles, *standing, op), want, "{op:?} for {roles:?} {standing:?}");
            }
        }
    }

    #[test]
    fn reads_need_read_scopes_and_changes_write_scopes() {
        for op in Operation::ALL {
            let (_, access) = op.scope();
            let reads = matches!(
                op,
                Operation::MyApps
                    | Operation::ReadRoles
                    | Operation::ListGroups
                    | Operation::ReadGroupMembers
                    | Operation::ListApps
                    | Operation::ReadApp
            );
            assert_eq!(access == Access::Read, reads, "{op:?}");
        }
    }
}
