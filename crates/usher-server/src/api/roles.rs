//! A user's roles: organization roles and app roles, read and replaced as one
//! list (Administrators and User Managers; see `usher_core::access::policy`).

use axum::{Json, extract::State};
use usher_api_types::{Problem, RoleAssignment, RolesBody};
use usher_core::access::{Assignment, RolesOf};
use usher_domain::UserId;

use crate::{
    app::AppState,
    error::ApiResult,
    extract::{ApiJson, ApiPath, Authed, Ctx},
};

fn roles_body(r: &RolesOf) -> RolesBody {
    let roles = r
        .assignments()
        .into_iter()
        .map(|(name, app)| RoleAssignment {
            role: name.as_str().to_owned(),
            app_id: app.map(|a| a.app_id.into()),
            app_name: app.map(|a| a.app_name.clone()),
        })
        .collect();
    RolesBody { roles }
}

/// A user's roles (Administrators, User Managers; scope `users:read`).
#[utoipa::path(get, path = "/users/{id}/roles", tag = "roles", security(("session" = []), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "The user's id")),
    responses((status = 200, body = RolesBody), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_roles(
    State(state): State<AppState>,
    Authed(me): Authed,
    ApiPath(id): ApiPath<UserId>,
) -> ApiResult<Json<RolesBody>> {
    Ok(Json(roles_body(&state.usher.roles_of(&me, id).await?)))
}

/// Replace all of a user's roles (Administrators, User Managers; scope `users:write`).
/// App roles need `app_id`; organization roles must not have one. A User Manager
/// cannot give or take the Administrator role nor change an Administrator (403);
/// an Administrator needs an email address (422); the last Administrator cannot
/// lose the role (409).
#[utoipa::path(put, path = "/users/{id}/roles", tag = "roles", request_body = RolesBody, security(("session" = []), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "The user's id")),
    responses((status = 200, body = RolesBody), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "The last active Administrator (`last_administrator`)"), (status = 422, body = Problem)))]
pub async fn put_roles(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    ApiPath(id): ApiPath<UserId>,
    ApiJson(body): ApiJson<RolesBody>,
) -> ApiResult<Json<RolesBody>> {
    let wanted: Vec<Assignment> =
        body.roles.into_iter().map(|r| Assignment { role: r.role, app_id: r.app_id.map(Into::into) }).collect();
    Ok(Json(roles_body(&state.usher.set_roles(&ctx, &me, id, &wanted).await?)))
}
