//! Groups and their members (Administrators and User Managers manage them).

use axum::{Json, extract::State, http::StatusCode};
use serde::Deserialize;
use usher_api_types::{GroupBody, GroupCreate, GroupPatch, MemberAdd, MembersPut, Page, Problem, SetChanged, UserRef};
use usher_core::{
    access::{Group, GroupInput},
    store::User,
};
use usher_domain::{GroupId, UserId};

use super::{typed, uuids};
use crate::{
    app::AppState,
    error::ApiResult,
    extract::{ApiJson, ApiPath, ApiQuery, Authed, Ctx},
};

pub fn group_body(g: &Group) -> GroupBody {
    GroupBody {
        id: g.id.into(),
        name: g.name.clone(),
        description: g.description.clone(),
        member_count: g.member_count,
        created_at: g.created_at,
        updated_at: g.updated_at,
    }
}

pub fn user_ref(u: &User) -> UserRef {
    UserRef {
        id: u.id.into(),
        user_id: u.user_id.clone(),
        email: u.email.clone(),
        first_name: u.profile.first_name.clone(),
        last_name: u.profile.last_name.clone(),
        status: u.status.as_str().to_owned(),
    }
}

/// `?limit=&cursor=` of the lists of this area.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// The organization's groups in name order (scope `users:read`).
#[utoipa::path(get, path = "/groups", tag = "groups", params(ListParams), security(("session" = []), ("bearer" = [])),
    responses((status = 200, body = Page<GroupBody>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list_groups(
    State(state): State<AppState>,
    Authed(me): Authed,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<GroupBody>>> {
    let page = state.usher.groups(&me, p.cursor.as_deref(), p.limit.unwrap_or(50)).await?;
    Ok(Json(Page { items: page.items.iter().map(group_body).collect(), next_cursor: page.next_cursor }))
}

/// Create a group (Administrators, User Managers; scope `users:write`). Names are
/// unique in the organization, ignoring case (409).
#[utoipa::path(post, path = "/groups", tag = "groups", request_body = GroupCreate, security(("session" = []), ("bearer" = [])),
    responses((status = 201, body = GroupBody), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem, description = "The name is taken (`group_name_taken`)"), (status = 422, body = Problem)))]
pub async fn create_group(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    ApiJson(body): ApiJson<GroupCreate>,
) -> ApiResult<(StatusCode, Json<GroupBody>)> {
    let input = GroupInput { name: Some(body.name), description: body.description };
    Ok((StatusCode::CREATED, Json(group_body(&state.usher.create_group(&ctx, &me, input).await?))))
}

/// One group.
#[utoipa::path(get, path = "/groups/{id}", tag = "groups", security(("session" = []), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "The group's id")),
    responses((status = 200, body = GroupBody), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_group(
    State(state): State<AppState>,
    Authed(me): Authed,
    ApiPath(id): ApiPath<GroupId>,
) -> ApiResult<Json<GroupBody>> {
    Ok(Json(group_body(&state.usher.group(&me, id).await?)))
}

/// Rename a group or change its description.
#[utoipa::path(patch, path = "/groups/{id}", tag = "groups", request_body = GroupPatch, security(("session" = []), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "The group's id")),
    responses((status = 200, body = GroupBody), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "The name is taken (`group_name_taken`)"), (status = 422, body = Problem)))]
pub async fn patch_group(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    ApiPath(id): ApiPath<GroupId>,
    ApiJson(body): ApiJson<GroupPatch>,
) -> ApiResult<Json<GroupBody>> {
    let input = GroupInput { name: body.name, description: body.description };
    Ok(Json(group_body(&state.usher.update_group(&ctx, &me, id, input).await?)))
}

/// Delete a group: its members stay, and lose the access it gave them.
#[utoipa::path(delete, path = "/groups/{id}", tag = "groups", security(("session" = []), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "The group's id")),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_group(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    ApiPath(id): ApiPath<GroupId>,
) -> ApiResult<StatusCode> {
    state.usher.delete_group(&ctx, &me, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A group's members in user-ID order (Administrators, User Managers).
#[utoipa::path(get, path = "/groups/{id}/members", tag = "groups", params(("id" = Uuid, Path, description = "The group's id"), ListParams),
    security(("session" = []), ("bearer" = [])),
    responses((status = 200, body = Page<UserRef>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_members(
    State(state): State<AppState>,
    Authed(me): Authed,
    ApiPath(id): ApiPath<GroupId>,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<UserRef>>> {
    let page = state.usher.group_members(&me, id, p.cursor.as_deref(), p.limit.unwrap_or(50)).await?;
    Ok(Json(Page { items: page.items.iter().map(user_ref).collect(), next_cursor: page.next_cursor }))
}

/// Replace a group's members with `user_ids` (unknown ids: 422).
#[utoipa::path(put, path = "/groups/{id}/members", tag = "groups", request_body = MembersPut, security(("session" = []), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "The group's id")),
    responses((status = 200, body = SetChanged), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn put_members(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    ApiPath(id): ApiPath<GroupId>,
    ApiJson(body): ApiJson<MembersPut>,
) -> ApiResult<Json<SetChanged>> {
    let change = state.usher.set_group_members(&ctx, &me, id, &typed(body.user_ids)).await?;
    Ok(Json(SetChanged { added: uuids(change.added), removed: uuids(change.removed) }))
}

/// Add one member (no change if they already are one).
#[utoipa::path(post, path = "/groups/{id}/members", tag = "groups", request_body = MemberAdd, security(("session" = []), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "The group's id")),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn add_member(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    ApiPath(id): ApiPath<GroupId>,
    ApiJson(body): ApiJson<MemberAdd>,
) -> ApiResult<StatusCode> {
    state.usher.add_group_member(&ctx, &me, id, body.user_id.into()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove one member.
#[utoipa::path(delete, path = "/groups/{id}/members/{user_id}", tag = "groups", security(("session" = []), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "The group's id"), ("user_id" = Uuid, Path, description = "The member's id")),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn remove_member(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    ApiPath((id, user_id)): ApiPath<(GroupId, UserId)>,
) -> ApiResult<StatusCode> {
    state.usher.remove_group_member(&ctx, &me, id, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
