use axum::{Json, extract::State};
use usher_api_types::{PasswordPolicyBody, PasswordPolicyPreset, Problem, TokenPolicyBody};
use usher_domain::{PasswordPolicy, TokenPolicy};

use crate::{
    app::AppState,
    error::ApiResult,
    extract::{ApiJson, Authed, Ctx},
};

fn body(p: PasswordPolicy) -> PasswordPolicyBody {
    PasswordPolicyBody {
        min_length: p.min_length,
        require_digit: p.require_digit,
        require_special: p.require_special,
        require_digit_or_special: p.require_digit_or_special,
        require_upper: p.require_upper,
        require_lower: p.require_lower,
        forbid_user_id: p.forbid_user_id,
        min_strength: p.min_strength,
        history: p.history,
        max_age_days: p.max_age_days,
    }
}

fn policy(b: PasswordPolicyBody) -> PasswordPolicy {
    PasswordPolicy {
        min_length: b.min_length,
        require_digit: b.require_digit,
        require_special: b.require_special,
        require_digit_or_special: b.require_digit_or_special,
        require_upper: b.require_upper,
        require_lower: b.require_lower,
        forbid_user_id: b.forbid_user_id,
        min_strength: b.min_strength,
        history: b.history,
        max_age_days: b.max_age_days,
    }
}

/// The organization's password policy (administrators).
#[utoipa::path(get, path = "/settings/password-policy", tag = "settings", security(("session" = []), ("bearer" = [])),
    responses((status = 200, body = PasswordPolicyBody), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn get_password_policy(
    State(state): State<AppState>,
    Authed(me): Authed,
) -> ApiResult<Json<PasswordPolicyBody>> {
    Ok(Json(body(state.usher.password_policy_for(&me).await?)))
}

/// Replace the organization's password policy (administrators).
#[utoipa::path(put, path = "/settings/password-policy", tag = "settings", security(("session" = []), ("bearer" = [])), request_body = PasswordPolicyBody,
    responses((status = 200, body = PasswordPolicyBody), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn put_password_policy(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    ApiJson(b): ApiJson<PasswordPolicyBody>,
) -> ApiResult<Json<PasswordPolicyBody>> {
    Ok(Json(body(state.usher.set_password_policy(&ctx, &me, policy(b)).await?)))
}

/// Named presets matching other products' documented policies (administrators).
#[utoipa::path(get, path = "/settings/password-policy/presets", tag = "settings", security(("session" = []), ("bearer" = [])),
    responses((status = 200, body = Vec<PasswordPolicyPreset>), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn password_policy_presets(Authed(me): Authed) -> ApiResult<Json<Vec<PasswordPolicyPreset>>> {
    Ok(Json(
        usher_core::settings::password_policy_presets(&me)?
            .into_iter()
            .map(|(name, p)| PasswordPolicyPreset { name: name.into(), policy: body(p) })
            .collect(),
    ))
}

/// The organization's API token policy (administrators).
#[utoipa::path(get, path = "/settings/token-policy", tag = "settings", security(("session" = []), ("bearer" = [])),
    responses((status = 200, body = TokenPolicyBody), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn get_token_policy(State(state): State<AppState>, Authed(me): Authed) -> ApiResult<Json<TokenPolicyBody>> {
    Ok(Json(token_policy_body(state.usher.token_policy_for(&me).await?)))
}

/// Replace the API token policy (administrators): lifetime cap, "never expires", allowed scopes.
#[utoipa::path(put, path = "/settings/token-policy", tag = "settings", request_body = TokenPolicyBody, security(("session" = []), ("bearer" = [])),
    responses((status = 200, body = TokenPolicyBody), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn put_token_policy(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    ApiJson(b): ApiJson<TokenPolicyBody>,
) -> ApiResult<Json<TokenPolicyBody>> {
    let policy = TokenPolicy {
        default_lifetime_days: b.default_lifetime_days,
        max_lifetime_days: b.max_lifetime_days,
        allow_never_expiring: b.allow_never_expiring,
        scopes: b.scopes,
    };
    Ok(Json(token_policy_body(state.usher.set_token_policy(&ctx, &me, policy).await?)))
}

fn token_policy_body(p: TokenPolicy) -> TokenPolicyBody {
    TokenPolicyBody {
        default_lifetime_days: p.default_lifetime_days,
        max_lifetime_days: p.max_lifetime_days,
        allow_never_expiring: p.allow_never_expiring,
        scopes: p.scopes,
    }
}
