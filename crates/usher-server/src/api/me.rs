use axum::{
    Json,
    extract::State,
    http::{HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use usher_api_types::{PasswordChange, Problem, ProfilePatch, UserBody};
use usher_core::accounts::ProfileInput;
use usher_domain::Invalid;

use super::user_body;
use crate::{
    app::AppState,
    error::ApiResult,
    extract::{ApiJson, Authed, CSRF_HEADER, Ctx},
};

/// The signed-in user's profile. Also returns the session's CSRF token.
#[utoipa::path(get, path = "/me", tag = "me", security(("session" = []), ("bearer" = [])),
    responses((status = 200, body = UserBody), (status = 401, body = Problem)))]
pub async fn get_me(State(state): State<AppState>, Authed(me): Authed) -> ApiResult<Response> {
    let mut res = Json(user_body(&state.usher.me(&me)?)).into_response();
    if let Some(v) = me.csrf_token.as_deref().and_then(|t| HeaderValue::from_str(t).ok()) {
        res.headers_mut().insert(CSRF_HEADER, v);
    }
    Ok(res)
}

/// Edit your own profile. Every field but the email can change; `null` clears a field.
#[utoipa::path(patch, path = "/me", tag = "me", security(("session" = []), ("bearer" = [])), request_body = ProfilePatch,
    responses((status = 200, body = UserBody), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn patch_me(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    ApiJson(patch): ApiJson<ProfilePatch>,
) -> ApiResult<Json<UserBody>> {
    if patch.metadata.is_some() {
        return Err(Invalid::one("metadata", "immutable", "Custom metadata is set by administrators.").into());
    }
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
    let user = state.usher.update_profile(&ctx, &me, input).await?;
    Ok(Json(user_body(&user)))
}

/// Change your password, giving the current one (which a session that must change its password may
/// leave out for 10 minutes after signing in with it). Every failed policy rule is listed in `errors`.
#[utoipa::path(put, path = "/me/password", tag = "me", security(("session" = []), ("bearer" = [])), request_body = PasswordChange,
    responses((status = 204), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn change_password(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    ApiJson(body): ApiJson<PasswordChange>,
) -> ApiResult<StatusCode> {
    state.usher.change_password(&ctx, &me, body.current_password.as_deref(), &body.new_password).await?;
    Ok(StatusCode::NO_CONTENT)
}
