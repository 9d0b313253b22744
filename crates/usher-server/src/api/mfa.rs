//! Two-step verification: the second sign-in step, one's own authenticator and
//! recovery codes, the organization's rule, and what administrators do for a user
//! (reset two-step verification, lift a sign-in lock). Also the gate that keeps a
//! session restricted to enrolment on the enrolment endpoints.

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, HeaderValue, Method, StatusCode},
    response::{IntoResponse, Response},
};
use axum_extra::extract::CookieJar;
use usher_api_types::{
    LoginAnswer, MfaChallenge, MfaLogin, MfaSettingBody, MfaStatusBody, PasswordConfirm, Problem, RecoveryCodes,
    TotpConfirm, TotpEnrolmentBody, UserBody, UserSecurityBody,
};
use usher_core::{
    auth::LoginOutcome,
    mfa::{MfaSetting, SecondFactor, SignIn, TotpEnrolment, is_enrolment_session},
};
use usher_domain::{Invalid, UserId};

use super::user_body;
use crate::{
    app::AppState,
    error::{ApiError, ApiResult},
    extract::{ApiJson, ApiPath, Authed, CSRF_HEADER, Ctx, SESSION_COOKIE, session_cookie},
};

/// Whether the request's session is restricted to two-step enrolment.
pub fn enrolment_session(headers: &HeaderMap) -> bool {
    CookieJar::from_headers(headers).get(SESSION_COOKIE).is_some_and(|c| is_enrolment_session(c.value()))
}

/// What a session restricted to enrolment may still do: read who it is and its
/// two-step state, add the authenticator, sign out.
pub fn allowed_while_enrolling(method: &Method, path: &str) -> bool {
    matches!(
        (method, path.trim_end_matches('/')),
        (&Method::GET, "/api/v1/me" | "/api/v1/me/mfa")
            | (&Method::POST, "/api/v1/me/mfa/totp" | "/api/v1/me/mfa/totp/confirm" | "/api/v1/auth/logout")
    )
}

/// The refusal a session restricted to enrolment gets everywhere else.
pub fn enrolment_required() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "mfa-enrolment-required",
        "Two-step verification required",
        "Your organization requires two-step verification. Add an authenticator with POST /api/v1/me/mfa/totp \
         and POST /api/v1/me/mfa/totp/confirm before doing anything else.",
    )
}

/// The answer of a successful sign-in: session cookie, CSRF header, the user.
fn signed_in(state: &AppState, jar: CookieJar, outcome: LoginOutcome) -> Response {
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&outcome.csrf_token) {
        headers.insert(CSRF_HEADER, v);
    }
    let jar = jar.add(session_cookie(state, outcome.session_secret));
    (jar, headers, Json(LoginAnswer::SignedIn(user_body(&outcome.user)))).into_response()
}

/// The answer of `POST /auth/login`: signed in, or the second-step challenge.
pub fn login_response(state: &AppState, jar: CookieJar, answer: SignIn) -> Response {
    match answer {
        SignIn::Session(outcome) => signed_in(state, jar, outcome),
        SignIn::SecondStep { ticket, expires_at } => {
            Json(LoginAnswer::SecondStep(MfaChallenge { mfa_required: true, ticket, expires_at })).into_response()
        }
    }
}

/// The second sign-in step: the ticket from `POST /auth/login` with the current
/// code of the authenticator app (`code`) or a recovery code (`recovery_code`).
/// Wrong codes count as failed sign-ins; a ticket lasts 5 minutes and is used once.
#[utoipa::path(post, path = "/auth/login/mfa", tag = "auth", request_body = MfaLogin,
    responses(
        (status = 200, body = UserBody, headers(("x-csrf-token" = String, description = "Send back on changes"))),
        (status = 401, body = Problem, description = "`bad-code`: wrong or used code (try again); `unauthenticated`: the ticket is unknown, used or expired (sign in again)"),
        (status = 422, body = Problem),
        (status = 429, body = Problem, headers(("retry-after" = u64, description = "Seconds until the lock ends"))),
    ))]
pub async fn login_mfa(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    jar: CookieJar,
    ApiJson(body): ApiJson<MfaLogin>,
) -> ApiResult<Response> {
    let factor = match (body.code.as_deref(), body.recovery_code.as_deref()) {
        (Some(code), None) => SecondFactor::Code(code),
        (None, Some(code)) => SecondFactor::RecoveryCode(code),
        _ => return Err(Invalid::one("code", "required", "Send either code or recovery_code.").into()),
    };
    let outcome = state.usher.login_second_step(&ctx, &body.ticket, factor).await?;
    Ok(signed_in(&state, jar, outcome))
}

fn enrolment_body(e: TotpEnrolment) -> TotpEnrolmentBody {
    TotpEnrolmentBody { secret: e.secret, otpauth_uri: e.otpauth_uri, qr_svg: e.qr_svg }
}

/// Your two-step verification: on or not, recovery codes left, whether it is required.
#[utoipa::path(get, path = "/me/mfa", tag = "mfa", security(("session" = []), ("bearer" = [])),
    responses((status = 200, body = MfaStatusBody), (status = 401, body = Problem)))]
pub async fn mfa_status(State(state): State<AppState>, Authed(me): Authed) -> ApiResult<Json<MfaStatusBody>> {
    let s = state.usher.mfa_status(&me).await?;
    Ok(Json(MfaStatusBody {
        totp_enabled: s.enabled,
        totp_pending: s.pending,
        enabled_at: s.enabled_at,
        recovery_codes_left: s.recovery_codes_left,
        required: s.required,
    }))
}

/// Start adding an authenticator app: a new secret, its `otpauth://` URI and a QR
/// code. Nothing changes until `POST /me/mfa/totp/confirm` gets a first code;
/// calling this again replaces the unconfirmed secret. 409 while two-step
/// verification is on.
#[utoipa::path(post, path = "/me/mfa/totp", tag = "mfa", security(("session" = []), ("bearer" = [])),
    responses((status = 200, body = TotpEnrolmentBody), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem, description = "Two-step verification is already on (`two_step_on`)")))]
pub async fn start_totp(State(state): State<AppState>, Authed(me): Authed) -> ApiResult<Json<TotpEnrolmentBody>> {
    Ok(Json(enrolment_body(state.usher.start_totp(&me).await?)))
}

/// Turn two-step verification on with the current code of the app. Answers the
/// recovery codes, shown this once. A session that was restricted to enrolment
/// is replaced by a normal one (new cookie and `X-CSRF-Token`).
#[utoipa::path(post, path = "/me/mfa/totp/confirm", tag = "mfa", request_body = TotpConfirm, security(("session" = []), ("bearer" = [])),
    responses((status = 200, body = RecoveryCodes), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem, description = "The authenticator was replaced meanwhile (`authenticator_changed`)"), (status = 422, body = Problem)))]
pub async fn confirm_totp(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    headers: HeaderMap,
    jar: CookieJar,
    ApiJson(body): ApiJson<TotpConfirm>,
) -> ApiResult<Response> {
    let recovery_codes = state.usher.confirm_totp(&ctx, &me, &body.code).await?;
    let answer = Json(RecoveryCodes { recovery_codes });
    if !enrolment_session(&headers) {
        return Ok(answer.into_response());
    }
    let Some(outcome) = state.usher.upgrade_session(&ctx, &me).await? else { return Ok(answer.into_response()) };
    let mut out = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&outcome.csrf_token) {
        out.insert(CSRF_HEADER, v);
    }
    Ok((jar.add(session_cookie(&state, outcome.session_secret)), out, answer).into_response())
}

/// Turn two-step verification off, giving your password. Refused while the
/// organization requires it.
#[utoipa::path(delete, path = "/me/mfa/totp", tag = "mfa", request_body = PasswordConfirm, security(("session" = []), ("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn disable_totp(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    ApiJson(body): ApiJson<PasswordConfirm>,
) -> ApiResult<StatusCode> {
    state.usher.disable_totp(&ctx, &me, &body.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// New recovery codes, replacing the old ones, giving your password.
#[utoipa::path(post, path = "/me/mfa/recovery-codes", tag = "mfa", request_body = PasswordConfirm, security(("session" = []), ("bearer" = [])),
    responses((status = 200, body = RecoveryCodes), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem, description = "Two-step verification is off (`two_step_off`)"), (status = 422, body = Problem)))]
pub async fn regenerate_recovery_codes(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    ApiJson(body): ApiJson<PasswordConfirm>,
) -> ApiResult<Json<RecoveryCodes>> {
    let recovery_codes = state.usher.regenerate_recovery_codes(&ctx, &me, &body.password).await?;
    Ok(Json(RecoveryCodes { recovery_codes }))
}

/// Whether the organization requires two-step verification (Administrators).
#[utoipa::path(get, path = "/settings/mfa", tag = "settings", security(("session" = []), ("bearer" = [])),
    responses((status = 200, body = MfaSettingBody), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn get_mfa_setting(State(state): State<AppState>, Authed(me): Authed) -> ApiResult<Json<MfaSettingBody>> {
    let setting = state.usher.mfa_setting_for(&me).await?;
    Ok(Json(MfaSettingBody { required: setting.required }))
}

/// Require two-step verification for everyone, or stop requiring it
/// (Administrators). Users without it enrol right after their next sign-in.
#[utoipa::path(put, path = "/settings/mfa", tag = "settings", request_body = MfaSettingBody, security(("session" = []), ("bearer" = [])),
    responses((status = 200, body = MfaSettingBody), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn put_mfa_setting(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    ApiJson(body): ApiJson<MfaSettingBody>,
) -> ApiResult<Json<MfaSettingBody>> {
    let setting = state.usher.set_mfa_setting(&ctx, &me, MfaSetting { required: body.required }).await?;
    Ok(Json(MfaSettingBody { required: setting.required }))
}

/// A user's two-step verification, sign-in lock and password expiry
/// (Administrators and User Managers).
#[utoipa::path(get, path = "/users/{id}/security", tag = "users", params(("id" = Uuid, Path, description = "The user's id")),
    security(("session" = []), ("bearer" = [])),
    responses((status = 200, body = UserSecurityBody), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn user_security(
    State(state): State<AppState>,
    Authed(me): Authed,
    ApiPath(id): ApiPath<UserId>,
) -> ApiResult<Json<UserSecurityBody>> {
    let (_, s) = state.usher.user_security(&me, id).await?;
    Ok(Json(UserSecurityBody {
        totp_enabled: s.totp_enabled,
        recovery_codes_left: s.recovery_codes_left,
        locked_until: s.lock.locked_until,
        recent_failures: s.lock.recent_failures,
        last_failure_at: s.lock.last_failure_at,
        password_expires_at: s.password_expires_at,
    }))
}

/// Remove a user's authenticator and recovery codes (e.g. a lost phone). If the
/// organization requires two-step verification, they enrol again at sign-in.
#[utoipa::path(post, path = "/users/{id}/mfa/reset", tag = "users", params(("id" = Uuid, Path, description = "The user's id")),
    security(("session" = []), ("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn reset_user_mfa(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    ApiPath(id): ApiPath<UserId>,
) -> ApiResult<StatusCode> {
    state.usher.reset_mfa(&ctx, &me, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lift a user's sign-in lock and forget their failed attempts.
#[utoipa::path(post, path = "/users/{id}/unlock", tag = "users", params(("id" = Uuid, Path, description = "The user's id")),
    security(("session" = []), ("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn unlock_user(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    ApiPath(id): ApiPath<UserId>,
) -> ApiResult<StatusCode> {
    state.usher.unlock_user(&ctx, &me, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_restricted_to_enrolment_reaches_only_enrolment_and_sign_out() {
        let allowed = [
            (Method::GET, "/api/v1/me"),
            (Method::GET, "/api/v1/me/mfa/"),
            (Method::POST, "/api/v1/me/mfa/totp"),
            (Method::POST, "/api/v1/me/mfa/totp/confirm"),
            (Method::POST, "/api/v1/auth/logout"),
        ];
        for (m, p) in &allowed {
            assert!(allowed_while_enrolling(m, p), "{m} {p}");
        }
        let refused = [
            (Method::PATCH, "/api/v1/me"),
            (Method::DELETE, "/api/v1/me/mfa/totp"),
            (Method::GET, "/api/v1/me/sessions"),
            (Method::POST, "/api/v1/me/mfa/recovery-codes"),
            (Method::GET, "/api/v1/users"),
        ];
        for (m, p) in &refused {
            assert!(!allowed_while_enrolling(m, p), "{m} {p}");
        }
    }
}
