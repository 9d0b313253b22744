//! The one authorization policy: who may do what to which resource.
//!
//! Every public service of `usher-core` takes the caller (`&Principal`) and
//! names its [`Operation`]; [`check`] (or [`authorize`], which also answers the
//! [`Manager`] proof the people and settings services work with) decides here.
//! No edge (API, web, CLI, and the edges to come: SCIM, OpenID Connect) picks
//! a role: it passes the caller and maps a refusal to its 403. Edges may ask
//! [`permits`], [`may_manage`], [`grantable_roles`] or [`Capabilities`] what
//! to *show*; the service refuses anyway. Two checks always apply together:
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
//!   Administrator role (`Manager::may_manage`, `Manager::may_grant`).
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
//!   manage the user (`Manager::may_manage`);
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

/// Every operation the core authorizes, one per row of the table above.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// Read one's own account, sessions and two-step state.
    ReadOwnAccount,
    /// Change one's own profile, password, sessions and two-step verification.
    ChangeOwnAccount,
    /// List and read one's own API tokens.
    ReadOwnTokens,
    /// Create, change, revoke, regenerate and delete one's own API tokens.
    ManageOwnTokens,
    /// `GET /me/apps`.
    MyApps,
    /// List and search users; a user's details, failed sign-ins, sessions,
    /// two-step and lock state, API tokens; the invitations.
    ReadUsers,
    /// Invite, create, edit, disable, enable, delete users; reset their
    /// passwords or two-step; unlock them; end their sessions; make or delete
    /// their API tokens; resend or withdraw invitations.
    ManageUsers,
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
    /// Read the custom metadata field definitions (people managers need them to
    /// edit users).
    ReadMetadataFields,
    /// Read and preview the invitation email template.
    ReadInvitationTemplate,
    /// Read the password, token and two-step settings.
    ReadSettings,
    /// Change any setting (password, token, invitation template, two-step,
    /// custom metadata fields).
    ChangeSettings,
    /// Read the audit log.
    ReadAudit,
}

impl Operation {
    /// Every operation, for tests and documentation.
    pub const ALL: [Operation; 24] = [
        Operation::ReadOwnAccount,
        Operation::ChangeOwnAccount,
        Operation::ReadOwnTokens,
        Operation::ManageOwnTokens,
        Operation::MyApps,
        Operation::ReadUsers,
        Operation::ManageUsers,
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
        Operation::ReadMetadataFields,
        Operation::ReadInvitationTemplate,
        Operation::ReadSettings,
        Operation::ChangeSettings,
        Operation::ReadAudit,
    ];

    /// The token scopes that let a token do the operation (any one of them).
    pub fn scopes(self) -> &'static [(Resource, Access)] {
        use Operation::*;
        match self {
            ReadOwnAccount | MyApps => &[(Resource::Profile, Access::Read)],
            ChangeOwnAccount => &[(Resource::Profile, Access::Write)],
            ReadOwnTokens => &[(Resource::Tokens, Access::Read)],
            ManageOwnTokens => &[(Resource::Tokens, Access::Write)],
            ReadUsers | ReadRoles | ListGroups | ReadGroupMembers | ListApps | ReadApp => {
                &[(Resource::Users, Access::Read)]
            }
            ManageUsers | AssignRoles | ManageGroups | CreateApp | EditApp | SetAppDevelopers | SetAppOwners
            | DeleteApp => &[(Resource::Users, Access::Write)],
            // Reading the fields belongs to editing users as much as to settings.
            ReadMetadataFields => &[(Resource::Settings, Access::Read), (Resource::Users, Access::Read)],
            ReadInvitationTemplate | ReadSettings => &[(Resource::Settings, Access::Read)],
            ChangeSettings => &[(Resource::Settings, Access::Write)],
            ReadAudit => &[(Resource::Audit, Access::Read)],
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
    use Operation::*;
    let admin = roles.contains(&Role::Administrator);
    let manager = roles.contains(&Role::UserManager);
    let developer = roles.contains(&Role::Developer);
    match op {
        ReadOwnAccount | ChangeOwnAccount | ReadOwnTokens | ManageOwnTokens | MyApps => true,
        ReadUsers
        | ManageUsers
        | ReadRoles
        | AssignRoles
        | ReadGroupMembers
        | ManageGroups
        | ReadMetadataFields
        | ReadInvitationTemplate => admin || manager,
        ListGroups => admin || manager || developer || standing.owner,
        ListApps => admin || manager || developer,
        ReadApp => admin || manager || developer || standing.owner || standing.developer,
        CreateApp => admin || developer,
        EditApp => admin || standing.owner,
        SetAppDevelopers => admin || manager || standing.owner,
        SetAppOwners => admin || manager,
        DeleteApp | ReadSettings | ChangeSettings | ReadAudit => admin,
    }
}

/// Checks role and scope together; the error says which one is missing.
pub fn check(principal: &Principal, op: Operation, standing: Standing) -> Result<()> {
    if !allows(&principal.user.roles, standing, op) {
        return Err(Error::Forbidden(denial(op)));
    }
    match &principal.scopes {
        Some(have) if !op.scopes().iter().any(|(r, a)| have.iter().any(|s| s.grants(*r, *a))) => {
            Err(Error::Forbidden(match op.scopes()[0].1 {
                Access::Read => "This API token has no scope to read this.",
                Access::Write => "This API token has no scope to change this (it may be read-only).",
            }))
        }
        _ => Ok(()),
    }
}

/// Checks an operation that needs no standing on an app, and answers the proof
/// that the services of people and settings administration work with (which
/// also keeps User Managers away from Administrators: [`Manager::may_manage`],
/// [`Manager::may_grant`]). Only the core can make one.
pub(crate) fn authorize(principal: &Principal, op: Operation) -> Result<Manager<'_>> {
    check(principal, op, Standing::default())?;
    Ok(Manager(principal))
}

/// Whether the caller may do `op` (no standing on an app, scopes included).
/// Edges use it to choose what to show, never to guard: the service refuses anyway.
pub fn permits(principal: &Principal, op: Operation) -> bool {
    check(principal, op, Standing::default()).is_ok()
}

/// Whether the caller may manage this user (edit, disable, delete, reset,
/// assign roles): people management, and only an Administrator acts on an
/// Administrator. For edges to decide which controls to show.
pub fn may_manage(principal: &Principal, target: &crate::store::User) -> bool {
    authorize(principal, Operation::ManageUsers).and_then(|m| m.may_manage(target)).is_ok()
}

/// The organization roles the caller may give (and take), strongest first;
/// none when they may not manage users.
pub fn grantable_roles(principal: &Principal) -> Vec<Role> {
    match authorize(principal, Operation::ManageUsers) {
        Ok(m) => [Role::Administrator, Role::UserManager, Role::Developer, Role::User]
            .into_iter()
            .filter(|r| m.may_grant(&[*r]).is_ok())
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// What the caller's roles let them reach, for an edge to decide which links
/// and controls to show. Computed from [`allows`], so it never disagrees with
/// what the services enforce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capabilities {
    /// Users and invitations.
    pub users: bool,
    /// The list of groups (App Owners of an app may list them too, from their app).
    pub groups: bool,
    /// The list of all apps.
    pub apps: bool,
    /// Password, token and two-step settings.
    pub settings: bool,
    /// The custom metadata fields and the invitation template (read at least).
    pub people_settings: bool,
    pub audit: bool,
    /// Holds the Administrator role's powers: acts on Administrators, gives the role.
    pub administrator: bool,
}

impl Capabilities {
    pub fn of(principal: &Principal) -> Self {
        let may = |op| permits(principal, op);
        Self {
            users: may(Operation::ReadUsers),
            groups: may(Operation::ListGroups),
            apps: may(Operation::ListApps),
            settings: may(Operation::ReadSettings),
            people_settings: may(Operation::ReadMetadataFields),
            audit: may(Operation::ReadAudit),
            administrator: grantable_roles(principal).contains(&Role::Administrator),
        }
    }
}

/// Proof that the caller passed [`authorize`] for an operation of people or
/// settings administration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Manager<'a>(&'a Principal);

impl Manager<'_> {
    pub fn user(&self) -> &crate::store::User {
        &self.0.user
    }

    pub fn org_id(&self) -> usher_domain::OrgId {
        self.0.user.org_id
    }

    /// Fails unless the caller may act on `target`: same organization, and
    /// only an Administrator may change an Administrator. A user outside the
    /// organization answers as not found, so ids of other organizations leak nothing.
    pub fn may_manage(&self, target: &crate::store::User) -> Result<()> {
        if target.org_id != self.org_id() {
            return Err(Error::NotFound);
        }
        if target.has_role(Role::Administrator) && !self.user().has_role(Role::Administrator) {
            return Err(Error::Forbidden("Only an Administrator may change an Administrator."));
        }
        Ok(())
    }

    /// Fails unless the caller may give the `roles` (User Managers may not make
    /// Administrators).
    pub fn may_grant(&self, roles: &[Role]) -> Result<()> {
        if roles.contains(&Role::Administrator) && !self.user().has_role(Role::Administrator) {
            return Err(Error::Forbidden("Only an Administrator may give the Administrator role."));
        }
        Ok(())
    }
}

fn denial(op: Operation) -> &'static str {
    use Operation::*;
    match op {
        ReadOwnAccount | ChangeOwnAccount | ReadOwnTokens | ManageOwnTokens | MyApps => "You may not do this.",
        ReadUsers | ManageUsers => "This requires the Administrator or User Manager role.",
        ReadRoles | AssignRoles => "Only Administrators and User Managers may see or assign roles.",
        ReadGroupMembers | ManageGroups => "Only Administrators and User Managers may manage groups.",
        ListGroups => "Only Administrators, User Managers, Developers and App Owners may list groups.",
        ListApps => "Only Administrators, User Managers and Developers may list all apps.",
        ReadApp => "You have no role on this app.",
        CreateApp => "Only Administrators and Developers may create apps.",
        EditApp => "Only Administrators and the app's owners may change this app.",
        SetAppDevelopers => "Only Administrators, User Managers and the app's owners may choose its developers.",
        SetAppOwners => "Only Administrators and User Managers may choose an app's owners.",
        DeleteApp => "Only Administrators may delete apps.",
        ReadMetadataFields | ReadInvitationTemplate => "This requires the Administrator or User Manager role.",
        ReadSettings | ChangeSettings | ReadAudit => "This requires the Administrator role.",
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
        let table: [(Operation, [bool; 6]); 24] = [
            (ReadOwnAccount, [true, true, true, true, true, true]),
            (ChangeOwnAccount, [true, true, true, true, true, true]),
            (ReadOwnTokens, [true, true, true, true, true, true]),
            (ManageOwnTokens, [true, true, true, true, true, true]),
            (MyApps, [true, true, true, true, true, true]),
            (ReadUsers, [true, true, false, false, false, false]),
            (ManageUsers, [true, true, false, false, false, false]),
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
            (ReadMetadataFields, [true, true, false, false, false, false]),
            (ReadInvitationTemplate, [true, true, false, false, false, false]),
            (ReadSettings, [true, false, false, false, false, false]),
            (ChangeSettings, [true, false, false, false, false, false]),
            (ReadAudit, [true, false, false, false, false, false]),
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
        use Operation::*;
        for op in Operation::ALL {
            let reads = matches!(
                op,
                ReadOwnAccount
                    | ReadOwnTokens
                    | MyApps
                    | ReadUsers
                    | ReadRoles
                    | ListGroups
                    | ReadGroupMembers
                    | ListApps
                    | ReadApp
                    | ReadMetadataFields
                    | ReadInvitationTemplate
                    | ReadSettings
                    | ReadAudit
            );
            for (_, access) in op.scopes() {
                assert_eq!(*access == Access::Read, reads, "{op:?}");
            }
        }
    }
}
