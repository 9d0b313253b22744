use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use axum_extra::extract::cookie::CookieJar;
use usher_api_types::{LoginAnswer, LoginRequest, Problem};

use crate::{
    app::AppState,
    error::ApiResult,
    extract::{ApiJson, Authed, Ctx, session_removal},
};

/// Sign in with a user ID or email and a password. Sets the session cookie and
/// returns the CSRF token for later changes in the `X-CSRF-Token` header. With
/// two-step verification on, answers `{mfa_required: true, ticket}` instead and
/// sets no session: finish with `POST /api/v1/auth/login/mfa`.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, body = LoginAnswer, headers(("x-csrf-token" = String, description = "Send back on changes (when signed in)"))),
        (status = 401, body = Problem, description = "Same answer whether or not the user exists"),
        (status = 422, body = Problem),
        (status = 429, body = Problem, headers(("retry-after" = u64, description = "Seconds until the lock ends")),
            description = "Too many failed sign-ins for this account or address; the same for unknown users"),
    ))]
pub async fn login(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    jar: CookieJar,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let answer = state.usher.login(&ctx, req.organization.as_deref(), &req.login, &req.password).await?;
    Ok(super::mfa::login_response(&state, jar, answer))
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
