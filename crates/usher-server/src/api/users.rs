//! The organization's users (Administrators and User Managers): list, create,
//! details, edit, failed sign-ins, sessions, password reset, disable/enable, delete.

use axum::{
    Json,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use usher_api_types::{
    FailedLoginBody, Page, PasswordResetMode, Problem, ProfilePatch, SessionBody, TemporaryPassword, UserBody,
    UserCreate, UserCreated, UserPasswordReset,
};
use usher_core::{
    accounts::ProfileInput,
    store::Session,
    users::{CreateUser, Invite, ResetMode},
};
use usher_domain::UserId;

use super::user_body;
use crate::{
    app::AppState,
    error::ApiResult,
    extract::{ApiJson, ApiPath, ApiQuery, Authed, Ctx},
};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UserListParams {
    /// Search. Plain text: a case-insensitive substring of first name, last name
    /// or phone, or exactly a user ID or email (case-insensitive).
    /// `field_name:text`: a case-insensitive substring of that custom metadata
    /// field (the name exact and case-sensitive; empty text finds nothing).
    q: Option<String>,
    /// `user_id`, `email`, `first_name`, `last_name` (default), `phone`, `role`
    /// (User, Administrator, Developer, User Manager), `status`, `created_at`, `last_login_at`.
    sort: Option<String>,
    /// `asc` (default) or `desc`.
    order: Option<String>,
    /// Comma-separated properties to return, e.g. `user_id,email,metadata` (`id` always).
    fields: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page (same `sort` and `order`).
    cursor: Option<String>,
}

/// The organization's users: searched, sorted, paged with stable cursors.
#[utoipa::path(get, path = "/users", tag = "users", params(UserListParams), security(("session" = []), ("bearer" = [])),
    responses((status = 200, body = Page<UserBody>), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem, description = "A bad sort, order, fields, limit or cursor")))]
pub async fn list_users(
    State(state): State<AppState>,
    Authed(me): Authed,
    ApiQuery(p): ApiQuery<UserListParams>,
) -> ApiResult<Json<Page<serde_json::Value>>> {
    let query =
        usher_core::directory::UserQuery { q: p.q, sort: p.sort, order: p.order, cursor: p.cursor, limit: p.limit };
    // The service answers first, so a caller it refuses never learns about bad fields.
    let page = state.usher.search_users(&me, &query).await?;
    let fields = super::directory::parse_fields(p.fields.as_deref())?;
    let items = page.items.iter().map(|u| super::directory::project(user_body(u), fields.as_deref())).collect();
    Ok(Json(Page { items, next_cursor: page.next_cursor }))
}

/// Create a user (Administrators, User Managers; only Administrators create
/// Administrators). The user has no password (`status: invited`); with `invite`
/// they are invited to set one, by email or, with `send_invitation: false`, by
/// the `invitation_link` in this response. A user ID or email already used
/// (even by a creation at the same instant) answers 409.
#[utoipa::path(post, path = "/users", tag = "users", request_body = UserCreate, security(("session" = []), ("bearer" = [])),
    responses((status = 201, body = UserCreated), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem, description = "The user ID or email is already used (`user_id_taken`, `email_taken`)"), (status = 422, body = Problem)))]
pub async fn create_user(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    ApiJson(body): ApiJson<UserCreate>,
) -> ApiResult<(StatusCode, Json<UserCreated>)> {
    let invite = match (body.invite, body.send_invitation.unwrap_or(true)) {
        (false, _) => Invite::No,
        (true, true) => Invite::Email,
        (true, false) => Invite::Link,
    };
    let input = CreateUser {
        user_id: body.user_id,
        email: body.email,
        first_name: body.first_name,
        last_name: body.last_name,
        phone: body.phone,
        roles: body.roles,
        invite,
        metadata: body.metadata,
    };
    let created = state.usher.admin_create_user(&ctx, &me, input).await?;
    let body = UserCreated { user: user_body(&created.user), invitation_link: created.invitation_link };
    Ok((StatusCode::CREATED, Json(body)))
}

/// One user's details (Administrators, User Managers).
#[utoipa::path(get, path = "/users/{id}", tag = "users", params(("id" = Uuid, Path, description = "The user's id")),
    security(("session" = []), ("bearer" = [])),
    responses((status = 200, body = UserBody), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_user(
    State(state): State<AppState>,
    Authed(me): Authed,
    ApiPath(id): ApiPath<UserId>,
) -> ApiResult<Json<UserBody>> {
    Ok(Json(user_body(&state.usher.user_details(&me, id).await?)))
}

/// Edit a user's profile like `PATCH /api/v1/me`: absent fields stay, `null`
/// clears, every bad field is reported at once. The email cannot change (422 `immutable`).
#[utoipa::path(patch, path = "/users/{id}", tag = "users", request_body = ProfilePatch,
    params(("id" = Uuid, Path, description = "The user's id")), security(("session" = []), ("bearer" = [])),
    responses((status = 200, body = UserBody), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn patch_user(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    ApiPath(id): ApiPath<UserId>,
    ApiJson(patch): ApiJson<ProfilePatch>,
) -> ApiResult<Json<UserBody>> {
    let input = ProfileInput {
        first_name: patch.first_name,
        last_name: patch.last_name,
        phone: patch.phone,
        contact_person: patch.contact_person,
        company: patch.company,
        language: patch.language,
        timezone: patch.timezone,
        email: patch.email,
    };
    let user = state.usher.admin_update_user(&ctx, &me, id, input, patch.metadata.as_ref()).await?;
    Ok(Json(user_body(&user)))
}

/// Delete a user: account data, tokens, sessions, role assignments and group
/// memberships go; audit entries and apps stay. Not yourself, not the last
/// active Administrator (409); User Managers cannot delete Administrators.
#[utoipa::path(delete, path = "/users/{id}", tag = "users", params(("id" = Uuid, Path, description = "The user's id")),
    security(("session" = []), ("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "The last active Administrator (`last_administrator`)")))]
pub async fn delete_user(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    ApiPath(id): ApiPath<UserId>,
) -> ApiResult<StatusCode> {
    state.usher.delete_user(&ctx, &me, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The user's last five failed sign-in attempts, newest first.
#[utoipa::path(get, path = "/users/{id}/failed-logins", tag = "users", params(("id" = Uuid, Path, description = "The user's id")),
    security(("session" = []), ("bearer" = [])),
    responses((status = 200, body = Page<FailedLoginBody>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn failed_logins(
    State(state): State<AppState>,
    Authed(me): Authed,
    ApiPath(id): ApiPath<UserId>,
) -> ApiResult<Json<Page<FailedLoginBody>>> {
    let items = state
        .usher
        .failed_logins(&me, id)
        .await?
        .into_iter()
        .map(|f| FailedLoginBody { at: f.at, address: f.address, client: f.client, reason: f.reason })
        .collect();
    Ok(Json(Page { items, next_cursor: None }))
}

fn session_body(s: Session) -> SessionBody {
    SessionBody {
        id: s.id.into(),
        client: usher_core::sessions::describe_client(s.client.as_deref()),
        user_agent: s.client,
        address: s.address,
        created_at: s.created_at,
        last_active_at: s.last_active_at,
    }
}

/// The user's active sessions, newest first.
#[utoipa::path(get, path = "/users/{id}/sessions", tag = "users", params(("id" = Uuid, Path, description = "The user's id")),
    security(("session" = []), ("bearer" = [])),
    responses((status = 200, body = Page<SessionBody>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_sessions(
    State(state): State<AppState>,
    Authed(me): Authed,
    ApiPath(id): ApiPath<UserId>,
) -> ApiResult<Json<Page<SessionBody>>> {
    let items = state.usher.user_sessions(&me, id).await?.into_iter().map(session_body).collect();
    Ok(Json(Page { items, next_cursor: None }))
}

/// End all of the user's sessions: their browsers are signed out at the next request.
#[utoipa::path(delete, path = "/users/{id}/sessions", tag = "users", params(("id" = Uuid, Path, description = "The user's id")),
    security(("session" = []), ("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn end_sessions(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    ApiPath(id): ApiPath<UserId>,
) -> ApiResult<StatusCode> {
    state.usher.end_user_sessions(&ctx, &me, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reset a user's password. `temporary` answers a generated password (200, this
/// once) that the user must change at their next sign-in, and ends their
/// sessions; `link` emails a reset link valid one day (202), and the old password
/// keeps working until the link is used. Not for your own password.
#[utoipa::path(post, path = "/users/{id}/password-reset", tag = "users", request_body = UserPasswordReset,
    params(("id" = Uuid, Path, description = "The user's id")), security(("session" = []), ("bearer" = [])),
    responses((status = 200, body = TemporaryPassword, description = "mode temporary"), (status = 202, description = "mode link: the email is queued"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn reset_password(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    ApiPath(id): ApiPath<UserId>,
    ApiJson(body): ApiJson<UserPasswordReset>,
) -> ApiResult<Response> {
    let mode = match body.mode {
        PasswordResetMode::Temporary => ResetMode::Temporary,
        PasswordResetMode::Link => ResetMode::Link,
    };
    Ok(match state.usher.reset_password(&ctx, &me, id, mode).await? {
        Some(temporary_password) => Json(TemporaryPassword { temporary_password }).into_response(),
        None => StatusCode::ACCEPTED.into_response(),
    })
}

/// Disable a user: they cannot sign in, and their sessions and API tokens stop at
/// once. Not yourself; not the last active Administrator (409).
#[utoipa::path(post, path = "/users/{id}/disable", tag = "users", params(("id" = Uuid, Path, description = "The user's id")),
    security(("session" = []), ("bearer" = [])),
    responses((status = 200, body = UserBody), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "The last active Administrator (`last_administrator`)")))]
pub async fn disable_user(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    ApiPath(id): ApiPath<UserId>,
) -> ApiResult<Json<UserBody>> {
    Ok(Json(user_body(&state.usher.disable_user(&ctx, &me, id).await?)))
}

/// Enable a disabled user (`active`, or `invited` if they never set a password).
#[utoipa::path(post, path = "/users/{id}/enable", tag = "users", params(("id" = Uuid, Path, description = "The user's id")),
    security(("session" = []), ("bearer" = [])),
    responses((status = 200, body = UserBody), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn enable_user(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    ApiPath(id): ApiPath<UserId>,
) -> ApiResult<Json<UserBody>> {
    Ok(Json(user_body(&state.usher.enable_user(&ctx, &me, id).await?)))
}
