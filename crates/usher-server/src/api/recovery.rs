//! Self-service password reset ("forgot password"): ask for a link by email, then
//! set a new password with the link's token.

use axum::{extract::State, http::StatusCode};
use usher_api_types::{PasswordResetComplete, PasswordResetRequest, Problem};

use crate::{
    app::AppState,
    error::ApiResult,
    extract::{ApiJson, Ctx},
};

/// Ask for a password-reset link. Always 202, at once, whether or not the
/// account exists: the lookup and the email happen in the background, so neither
/// the answer nor its timing tells anything. At most 3 links per account per hour.
#[utoipa::path(post, path = "/auth/password-reset", tag = "auth", request_body = PasswordResetRequest,
    responses((status = 202, description = "If the account exists and has an email address, a link is on its way"),
        (status = 422, body = Problem)))]
pub async fn request_password_reset(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    ApiJson(req): ApiJson<PasswordResetRequest>,
) -> StatusCode {
    spawn_reset_request(&state, ctx, req.organization, req.login);
    StatusCode::ACCEPTED
}

/// Runs a reset request off the request path (shared with the web form).
pub fn spawn_reset_request(
    state: &AppState,
    ctx: usher_core::RequestContext,
    organization: Option<String>,
    login: String,
) {
    let usher = state.usher.clone();
    tokio::spawn(async move {
        if let Err(e) = usher.request_password_reset(&ctx, organization.as_deref(), &login).await {
            tracing::error!(error = %usher_core::Chain(&e), "password reset request");
        }
    });
}

/// Set a new password with a reset link's token. The organization's password
/// policy and history apply (422 lists every failed rule); the link then stops
/// working, every session of the user ends, and a forced password change is
/// cleared. An unknown, used or expired token is 404.
#[utoipa::path(post, path = "/auth/password-reset/complete", tag = "auth", request_body = PasswordResetComplete,
    responses((status = 204), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn complete_password_reset(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    ApiJson(req): ApiJson<PasswordResetComplete>,
) -> ApiResult<StatusCode> {
    state.usher.complete_password_reset(&ctx, &req.token, &req.new_password).await?;
    Ok(StatusCode::NO_CONTENT)
}
