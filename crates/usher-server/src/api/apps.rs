//! Apps, the groups with access to them, and the caller's "My apps". Who may do
//! what is `usher_core::access::policy`.

use axum::{Json, extract::State, http::StatusCode};
use usher_api_types::{
    AppBody, AppCreate, AppDetailsBody, AppGroupsPut, AppPatch, GroupBody, GroupRef, MyAppBody, Page, Problem,
};
use usher_core::access::{App, AppChange, AppDetails, AppInput};
use usher_domain::AppId;

use super::{
    groups::{ListParams, group_body, user_ref},
    typed,
};
use crate::{
    app::AppState,
    error::ApiResult,
    extract::{ApiJson, ApiPath, ApiQuery, Authed, Ctx},
};

fn app_body(a: &App) -> AppBody {
    AppBody {
        id: a.id.into(),
        name: a.name.clone(),
        description: a.description.clone(),
        url: a.url.clone(),
        created_at: a.created_at,
        updated_at: a.updated_at,
    }
}

fn details_body(d: &AppDetails) -> AppDetailsBody {
    AppDetailsBody {
        app: app_body(&d.app),
        owners: d.owners.iter().map(user_ref).collect(),
        developers: d.developers.iter().map(user_ref).collect(),
        groups: d.groups.iter().map(|g| GroupRef { id: g.id.into(), name: g.name.clone() }).collect(),
    }
}

/// Every app of the organization in name order (Administrators, User Managers,
/// Developers; scope `users:read`).
#[utoipa::path(get, path = "/apps", tag = "apps", params(ListParams), security(("session" = []), ("bearer" = [])),
    responses((status = 200, body = Page<AppBody>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list_apps(
    State(state): State<AppState>,
    Authed(me): Authed,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<AppBody>>> {
    let page = state.usher.apps(&me, p.cursor.as_deref(), p.limit.unwrap_or(50)).await?;
    Ok(Json(Page { items: page.items.iter().map(app_body).collect(), next_cursor: page.next_cursor }))
}

/// Create an app (Administrators, Developers; scope `users:write`). The creator
/// becomes its App Owner unless an Administrator names `owners`.
#[utoipa::path(post, path = "/apps", tag = "apps", request_body = AppCreate, security(("session" = []), ("bearer" = [])),
    responses((status = 201, body = AppDetailsBody), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem, description = "The name is taken (`app_name_taken`)"), (status = 422, body = Problem)))]
pub async fn create_app(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    ApiJson(body): ApiJson<AppCreate>,
) -> ApiResult<(StatusCode, Json<AppDetailsBody>)> {
    let fields = AppInput { name: Some(body.name), description: body.description, url: Some(body.url) };
    let details = state.usher.create_app(&ctx, &me, fields, body.owners.map(typed)).await?;
    Ok((StatusCode::CREATED, Json(details_body(&details))))
}

/// One app with its owners, developers and groups with access (Administrators,
/// User Managers, Developers, and the app's owners and developers).
#[utoipa::path(get, path = "/apps/{id}", tag = "apps", security(("session" = []), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "The app's id")),
    responses((status = 200, body = AppDetailsBody), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_app(
    State(state): State<AppState>,
    Authed(me): Authed,
    ApiPath(id): ApiPath<AppId>,
) -> ApiResult<Json<AppDetailsBody>> {
    Ok(Json(details_body(&state.usher.app(&me, id).await?)))
}

/// Change an app: its fields and groups (Administrators, its owners), its
/// developers (also User Managers), its owners (Administrators, User Managers).
#[utoipa::path(patch, path = "/apps/{id}", tag = "apps", request_body = AppPatch, security(("session" = []), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "The app's id")),
    responses((status = 200, body = AppDetailsBody), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "The name is taken (`app_name_taken`)"), (status = 422, body = Problem)))]
pub async fn patch_app(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    ApiPath(id): ApiPath<AppId>,
    ApiJson(body): ApiJson<AppPatch>,
) -> ApiResult<Json<AppDetailsBody>> {
    let change = AppChange {
        fields: AppInput { name: body.name, description: body.description, url: body.url },
        owners: body.owners.map(typed),
        developers: body.developers.map(typed),
        groups: body.groups.map(typed),
    };
    Ok(Json(details_body(&state.usher.update_app(&ctx, &me, id, change).await?)))
}

/// Delete an app (Administrators): its role assignments and group access go with it.
#[utoipa::path(delete, path = "/apps/{id}", tag = "apps", security(("session" = []), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "The app's id")),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_app(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    ApiPath(id): ApiPath<AppId>,
) -> ApiResult<StatusCode> {
    state.usher.delete_app(&ctx, &me, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn groups_page(groups: &[usher_core::access::Group]) -> Page<GroupBody> {
    Page { items: groups.iter().map(group_body).collect(), next_cursor: None }
}

/// The groups whose members may use the app.
#[utoipa::path(get, path = "/apps/{id}/groups", tag = "apps", security(("session" = []), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "The app's id")),
    responses((status = 200, body = Page<GroupBody>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_app_groups(
    State(state): State<AppState>,
    Authed(me): Authed,
    ApiPath(id): ApiPath<AppId>,
) -> ApiResult<Json<Page<GroupBody>>> {
    Ok(Json(groups_page(&state.usher.app_groups(&me, id).await?)))
}

/// Replace the groups with access (Administrators, the app's owners; unknown ids: 422).
#[utoipa::path(put, path = "/apps/{id}/groups", tag = "apps", request_body = AppGroupsPut, security(("session" = []), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "The app's id")),
    responses((status = 200, body = Page<GroupBody>), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn put_app_groups(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    ApiPath(id): ApiPath<AppId>,
    ApiJson(body): ApiJson<AppGroupsPut>,
) -> ApiResult<Json<Page<GroupBody>>> {
    let details = state.usher.set_app_groups(&ctx, &me, id, typed(body.group_ids)).await?;
    Ok(Json(groups_page(&details.groups)))
}

/// Your apps: those your groups give you access to, and those you own or
/// develop, in name order (scope `profile:read`).
#[utoipa::path(get, path = "/me/apps", tag = "apps", params(ListParams), security(("session" = []), ("bearer" = [])),
    responses((status = 200, body = Page<MyAppBody>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn my_apps(
    State(state): State<AppState>,
    Authed(me): Authed,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<MyAppBody>>> {
    let page = state.usher.my_apps(&me, p.cursor.as_deref(), p.limit.unwrap_or(50)).await?;
    let items = page
        .items
        .iter()
        .map(|m| {
            let access = [(m.access.via_group, "group"), (m.access.owner, "owner"), (m.access.developer, "developer")]
                .into_iter()
                .filter(|(on, _)| *on)
                .map(|(_, name)| name.to_owned())
                .collect();
            MyAppBody { app: app_body(&m.app), access }
        })
        .collect();
    Ok(Json(Page { items, next_cursor: page.next_cursor }))
}
