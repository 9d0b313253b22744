//! Roles, groups and apps. Every lookup by id is scoped to an organization, so
//! ids of another organization are not found. Name uniqueness is the stores'
//! unique indexes (conflicts `groups_name` and `apps_name`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use usher_domain::{AppId, AppRole, GroupId, OrgId, Role, UserId};

use super::{StoreResult, User};
use crate::access::{App, AppAccess, AppRoleOf, Group, SetChange, StoredRoles};

#[async_trait]
pub trait AccessStore: Send + Sync {
    /// Apps whose only App Owner is this user (id, name), in name order: what
    /// deleting the user would leave without an owner.
    async fn apps_solely_owned_by(&self, user: UserId) -> StoreResult<Vec<(AppId, String)>>;
    /// The users of the organization among `ids` (unknown or foreign ids are left out).
    async fn org_users(&self, org_id: OrgId, ids: &[UserId]) -> StoreResult<Vec<User>>;

    async fn insert_group(&self, group: &Group, name_key: &str) -> StoreResult<()>;
    async fn group(&self, org_id: OrgId, id: GroupId) -> StoreResult<Option<Group>>;
    /// Groups in name order, after the name key `after`.
    async fn groups_page(&self, org_id: OrgId, after: Option<&str>, limit: u32) -> StoreResult<Vec<Group>>;
    /// The groups of the organization among `ids`.
    async fn org_groups(&self, org_id: OrgId, ids: &[GroupId]) -> StoreResult<Vec<Group>>;
    /// Saves name and description.
    async fn update_group(&self, group: &Group, name_key: &str) -> StoreResult<()>;
    async fn delete_group(&self, org_id: OrgId, id: GroupId) -> StoreResult<()>;
    /// Members in user-ID order, after the user-ID key `after`.
    async fn group_members(&self, group: GroupId, after: Option<&str>, limit: u32) -> StoreResult<Vec<User>>;
    /// Makes the members exactly `users` (already checked to be in the organization).
    async fn set_group_members(
        &self,
        group: GroupId,
        users: &[UserId],
        at: DateTime<Utc>,
    ) -> StoreResult<SetChange<UserId>>;
    /// Adds one member; false when they already were one.
    async fn add_group_member(&self, group: GroupId, user: UserId, at: DateTime<Utc>) -> StoreResult<bool>;
    /// Removes one member; false when they were not one.
    async fn remove_group_member(&self, group: GroupId, user: UserId) -> StoreResult<bool>;
    /// A user's groups, in name order.
    async fn groups_of(&self, user: UserId) -> StoreResult<Vec<Group>>;

    /// Inserts an app and, when given, its first App Owner, in one transaction.
    async fn insert_app(&self, app: &App, name_key: &str, owner: Option<UserId>) -> StoreResult<()>;
    async fn app(&self, org_id: OrgId, id: AppId) -> StoreResult<Option<App>>;
    /// Apps in name order, after the name key `after`.
    async fn apps_page(&self, org_id: OrgId, after: Option<&str>, limit: u32) -> StoreResult<Vec<App>>;
    /// The apps of the organization among `ids`.
    async fn org_apps(&self, org_id: OrgId, ids: &[AppId]) -> StoreResult<Vec<App>>;
    /// Saves name, description and URL.
    async fn update_app(&self, app: &App, name_key: &str) -> StoreResult<()>;
    async fn delete_app(&self, org_id: OrgId, id: AppId) -> StoreResult<()>;
    /// The app's owners and developers, in user-ID order.
    async fn app_people(&self, app: AppId) -> StoreResult<Vec<(AppRole, User)>>;
    /// Makes the users with `role` on the app exactly `users`.
    async fn set_app_people(
        &self,
        app: AppId,
        role: AppRole,
        users: &[UserId],
        at: DateTime<Utc>,
    ) -> StoreResult<SetChange<UserId>>;
    /// The groups with access to the app, in name order.
    async fn app_groups(&self, app: AppId) -> StoreResult<Vec<Group>>;
    /// Makes the groups with access exactly `groups`.
    async fn set_app_groups(
        &self,
        app: AppId,
        groups: &[GroupId],
        at: DateTime<Utc>,
    ) -> StoreResult<SetChange<GroupId>>;
    /// The user's roles on this one app.
    async fn app_roles_on(&self, user: UserId, app: AppId) -> StoreResult<Vec<AppRole>>;
    /// All of a user's app roles, in app-name order.
    async fn app_roles_of(&self, user: UserId) -> StoreResult<Vec<AppRoleOf>>;
    /// The apps a user reaches through their groups or app roles, in name order,
    /// after the name key `after`.
    async fn apps_of(&self, user: UserId, after: Option<&str>, limit: u32) -> StoreResult<Vec<(App, AppAccess)>>;

    /// Replaces a user's organization and app roles in one transaction and
    /// returns what they were. Fails with the conflict `last_administrator`
    /// (and changes nothing) when the organization would be left without an
    /// Administrator; role changes in one organization are serialized so two
    /// concurrent demotions cannot both pass that check.
    async fn replace_roles(
        &self,
        org_id: OrgId,
        user: UserId,
        org_roles: &[Role],
        app_roles: &[(AppRole, AppId)],
        at: DateTime<Utc>,
    ) -> StoreResult<StoredRoles>;
}
