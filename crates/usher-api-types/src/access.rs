//! Bodies of roles, groups and apps (`/users/{id}/roles`, `/groups`, `/apps`, `/me/apps`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::some;

/// One role assignment.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleAssignment {
    /// `administrator`, `user_manager`, `developer`, `user` (organization roles),
    /// or `app_owner`, `app_developer` (app roles, with `app_id`).
    pub role: String,
    /// The app of an app role; absent for organization roles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<Uuid>,
    /// The app's name (read only; ignored when sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_name: Option<String>,
}

/// `GET/PUT /api/v1/users/{id}/roles`: all of a user's roles. `PUT` replaces them.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolesBody {
    pub roles: Vec<RoleAssignment>,
}

/// A group.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GroupBody {
    pub id: Uuid,
    /// Unique in the organization (case-insensitive).
    pub name: String,
    pub description: String,
    pub member_count: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `POST /api/v1/groups`
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupCreate {
    /// 1–100 characters, unique in the organization (case-insensitive).
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// At most 2000 characters.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub description: Option<String>,
}

/// `PATCH /api/v1/groups/{id}`: absent fields stay as they are.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupPatch {
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    #[schema(max_length = 2000)]
    pub description: Option<String>,
}

/// `PUT /api/v1/groups/{id}/members`: the complete new member list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MembersPut {
    /// User ids (the `id` of users, not their user IDs).
    pub user_ids: Vec<Uuid>,
}

/// `POST /api/v1/groups/{id}/members`: one more member.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberAdd {
    pub user_id: Uuid,
}

/// What a replace changed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SetChanged {
    pub added: Vec<Uuid>,
    pub removed: Vec<Uuid>,
}

/// A user as lists of people show them (group members, app owners and developers).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UserRef {
    pub id: Uuid,
    pub user_id: String,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// `invited`, `active` or `disabled`.
    pub status: String,
}

/// A group as an app's access list shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GroupRef {
    pub id: Uuid,
    pub name: String,
}

/// An app.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AppBody {
    pub id: Uuid,
    /// Unique in the organization (case-insensitive).
    pub name: String,
    pub description: String,
    /// Where people open it.
    pub url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An app with its owners, developers and the groups with access.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AppDetailsBody {
    #[serde(flatten)]
    pub app: AppBody,
    pub owners: Vec<UserRef>,
    pub developers: Vec<UserRef>,
    pub groups: Vec<GroupRef>,
}

/// `POST /api/v1/apps`
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppCreate {
    /// 1–100 characters, unique in the organization (case-insensitive).
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// An `https://` or `http://` address.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub url: Option<String>,
    /// The App Owners (Administrators only); absent: the creator.
    #[serde(default)]
    pub owners: Option<Vec<Uuid>>,
}

/// `PATCH /api/v1/apps/{id}`: absent fields stay; the lists, when sent, replace
/// the current ones; `url: null` removes the URL.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppPatch {
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub url: Option<Option<String>>,
    /// User ids of the App Owners (Administrators, User Managers).
    pub owners: Option<Vec<Uuid>>,
    /// User ids of the App Developers (Administrators, User Managers, the app's owners).
    pub developers: Option<Vec<Uuid>>,
    /// Ids of the groups with access (Administrators, the app's owners).
    pub groups: Option<Vec<Uuid>>,
}

/// `PUT /api/v1/apps/{id}/groups`: the complete list of groups with access.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppGroupsPut {
    pub group_ids: Vec<Uuid>,
}

/// One of "My apps".
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MyAppBody {
    #[serde(flatten)]
    pub app: AppBody,
    /// How you reach it: `group` (one of your groups has access), `owner`, `developer`.
    pub access: Vec<String>,
}
