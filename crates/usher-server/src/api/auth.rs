use axum::{
    Json,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use axum_extra::extract::cookie::CookieJar;
use usher_api_types::{LoginRequest, Problem, UserBody};

use super::user_body;
use crate::{
    app::AppState,
    error::ApiResult,
    extract::{ApiJson, Authed, CSRF_HEADER, Ctx, session_cookie, session_removal},
};

/// Sign in with a user ID or email and a password. Sets the session cookie and
/// returns the CSRF token for later changes in the `X-CSRF-Token` header.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, body = UserBody, headers(("x-csrf-token" = String, description = "Send back on changes"))),
        (status = 401, body = Problem, description = "Same answer whether or not the user exists"),
        (status = 422, body = Problem),
    ))]
pub async fn login(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    jar: CookieJar,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let outcome = state.usher.login(&ctx, req.organization.as_deref(), &req.login, &req.password).await?;
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&outcome.csrf_token) {
        headers.insert(CSRF_HEADER, v);
    }
    let jar = jar.add(session_cookie(&state, outcome.session_secret));
    Ok((jar, headers, Json(user_body(&outcome.user))).into_response())
}

/// Sign out: ends the current session.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", security(("session" = []), ("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem)))]
pub async fn logout(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    jar: CookieJar,
) -> ApiResult<Response> {
    state.usher.logout(&ctx, &me).await?;
    Ok((jar.add(session_removal(&state)), StatusCode::NO_CONTENT).into_response())
}
