//! Personal API tokens: the caller's own (`/me/tokens`) and, for Administrators
//! and User Managers, other users' (`/users/{id}/tokens`).

use axum::{Json, extract::State, http::StatusCode};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use usher_api_types::{Page, Problem, TokenBody, TokenCreate, TokenCreated, TokenPatch};
use usher_core::{
    store::{ApiToken, TokenFilter},
    tokens::{Expiry, IssuedToken, TokenSpec, TokenStatus},
};
use usher_domain::{Invalid, TokenId, UserId};

use crate::{
    app::AppState,
    error::ApiResult,
    extract::{ApiJson, ApiPath, ApiQuery, Authed, Ctx},
};

/// The API view of a token; its status as of `now`.
pub fn token_body(t: &ApiToken, now: DateTime<Utc>) -> TokenBody {
    TokenBody {
        id: t.id.into(),
        description: t.description.clone(),
        client: t.client.clone(),
        scopes: t.scopes.clone(),
        status: TokenStatus::of(t, now).as_str().to_owned(),
        created_at: t.created_at,
        expires_at: t.expires_at,
        revoked_at: t.revoked_at,
        last_used_at: t.last_used_at,
        first_chars: t.first_chars.clone(),
        last_chars: t.last_chars.clone(),
        created_by: t.created_by.map(Into::into),
    }
}

fn created(issued: IssuedToken, now: DateTime<Utc>) -> Json<TokenCreated> {
    Json(TokenCreated { details: token_body(&issued.token, now), token: issued.secret })
}

fn expiry(asked: Option<Option<DateTime<Utc>>>) -> Expiry {
    match asked {
        None => Expiry::Default,
        Some(None) => Expiry::Never,
        Some(Some(at)) => Expiry::At(at),
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TokenListParams {
    /// `active`, `inactive` (revoked or expired) or `all` (default).
    status: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    cursor: Option<String>,
}

async fn list(
    state: &AppState,
    me: &usher_core::auth::Principal,
    user: Option<UserId>,
    p: TokenListParams,
) -> ApiResult<Json<Page<TokenBody>>> {
    let filter = match p.status.as_deref() {
        None | Some("all") => Ok(TokenFilter::All),
        Some("active") => Ok(TokenFilter::Active),
        Some("inactive") => Ok(TokenFilter::Inactive),
        Some(_) => Err(Invalid::one("status", "invalid", "status must be active, inactive or all.")),
    };
    let cursor = p
        .cursor
        .map(|c| c.parse::<TokenId>().map_err(|_| Invalid::one("cursor", "invalid", "This cursor is not valid.")))
        .transpose();
    let (filter, cursor) = match (filter, cursor) {
        (Ok(filter), Ok(cursor)) => (filter, cursor),
        (Err(e), _) | (_, Err(e)) => {
            // Someone the service refuses learns nothing about their parameters.
            state.usher.token_holder(me, user).await?;
            return Err(e.into());
        }
    };
    let page = state.usher.tokens(me, user, filter, cursor, p.limit.unwrap_or(50)).await?;
    let now = state.usher.now();
    Ok(Json(Page {
        items: page.items.iter().map(|t| token_body(t, now)).collect(),
        next_cursor: page.next_cursor.map(|c| c.to_string()),
    }))
}

async fn create(
    state: &AppState,
    ctx: &usher_core::RequestContext,
    me: &usher_core::auth::Principal,
    user: Option<UserId>,
    body: TokenCreate,
) -> ApiResult<(StatusCode, Json<TokenCreated>)> {
    let spec = TokenSpec {
        description: body.description,
        client: body.client,
        scopes: body.scopes,
        expires: expiry(body.expires_at),
    };
    Ok((StatusCode::CREATED, created(state.usher.create_token(ctx, me, user, spec).await?, state.usher.now())))
}

/// Your API tokens, newest first, with their status.
#[utoipa::path(get, path = "/me/tokens", tag = "tokens", params(TokenListParams), security(("session" = []), ("bearer" = [])),
    responses((status = 200, body = Page<TokenBody>), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn list_my_tokens(
    State(state): State<AppState>,
    Authed(me): Authed,
    ApiQuery(p): ApiQuery<TokenListParams>,
) -> ApiResult<Json<Page<TokenBody>>> {
    list(&state, &me, None, p).await
}

/// Create an API token. The secret (`token`) is in this response only.
#[utoipa::path(post, path = "/me/tokens", tag = "tokens", request_body = TokenCreate, security(("session" = []), ("bearer" = [])),
    responses((status = 201, body = TokenCreated), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_my_token(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    ApiJson(body): ApiJson<TokenCreate>,
) -> ApiResult<(StatusCode, Json<TokenCreated>)> {
    create(&state, &ctx, &me, None, body).await
}

/// One of your tokens.
#[utoipa::path(get, path = "/me/tokens/{id}", tag = "tokens", params(("id" = Uuid, Path, description = "The token's id")), security(("session" = []), ("bearer" = [])),
    responses((status = 200, body = TokenBody), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn get_my_token(
    State(state): State<AppState>,
    Authed(me): Authed,
    ApiPath(id): ApiPath<TokenId>,
) -> ApiResult<Json<TokenBody>> {
    Ok(Json(token_body(&state.usher.token(&me, None, id).await?, state.usher.now())))
}

/// Change a token's description or expiry.
#[utoipa::path(patch, path = "/me/tokens/{id}", tag = "tokens", request_body = TokenPatch, params(("id" = Uuid, Path, description = "The token's id")), security(("session" = []), ("bearer" = [])),
    responses((status = 200, body = TokenBody), (status = 404, body = Problem), (status = 409, body = Problem, description = "The token is revoked (`token_revoked`)"), (status = 422, body = Problem)))]
pub async fn patch_my_token(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    ApiPath(id): ApiPath<TokenId>,
    ApiJson(body): ApiJson<TokenPatch>,
) -> ApiResult<Json<TokenBody>> {
    let expires = body.expires_at.map(|e| expiry(Some(e)));
    Ok(Json(token_body(
        &state.usher.update_token(&ctx, &me, None, id, body.description, expires).await?,
        state.usher.now(),
    )))
}

/// Delete a token (revoked, expired, or active: it stops at once).
#[utoipa::path(delete, path = "/me/tokens/{id}", tag = "tokens", params(("id" = Uuid, Path, description = "The token's id")), security(("session" = []), ("bearer" = [])),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_my_token(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    ApiPath(id): ApiPath<TokenId>,
) -> ApiResult<StatusCode> {
    state.usher.delete_token(&ctx, &me, None, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revoke a token: it stops working at once, and stays listed as revoked.
#[utoipa::path(post, path = "/me/tokens/{id}/revoke", tag = "tokens", params(("id" = Uuid, Path, description = "The token's id")), security(("session" = []), ("bearer" = [])),
    responses((status = 200, body = TokenBody), (status = 404, body = Problem)))]
pub async fn revoke_my_token(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    ApiPath(id): ApiPath<TokenId>,
) -> ApiResult<Json<TokenBody>> {
    Ok(Json(token_body(&state.usher.revoke_token(&ctx, &me, None, id).await?, state.usher.now())))
}

/// A new secret with the same settings; the old secret stops at once.
#[utoipa::path(post, path = "/me/tokens/{id}/regenerate", tag = "tokens", params(("id" = Uuid, Path, description = "The token's id")), security(("session" = []), ("bearer" = [])),
    responses((status = 200, body = TokenCreated), (status = 404, body = Problem), (status = 409, body = Problem, description = "The token is revoked (`token_revoked`)")))]
pub async fn regenerate_my_token(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    ApiPath(id): ApiPath<TokenId>,
) -> ApiResult<Json<TokenCreated>> {
    Ok(created(state.usher.regenerate_token(&ctx, &me, None, id).await?, state.usher.now()))
}

/// A user's API tokens (Administrators, User Managers).
#[utoipa::path(get, path = "/users/{id}/tokens", tag = "tokens", params(("id" = Uuid, Path, description = "The user's id"), TokenListParams), security(("session" = []), ("bearer" = [])),
    responses((status = 200, body = Page<TokenBody>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_user_tokens(
    State(state): State<AppState>,
    Authed(me): Authed,
    ApiPath(id): ApiPath<UserId>,
    ApiQuery(p): ApiQuery<TokenListParams>,
) -> ApiResult<Json<Page<TokenBody>>> {
    list(&state, &me, Some(id), p).await
}

/// Create a token for a user (Administrators, User Managers). The secret is in this response only.
#[utoipa::path(post, path = "/users/{id}/tokens", tag = "tokens", request_body = TokenCreate, params(("id" = Uuid, Path, description = "The user's id")), security(("session" = []), ("bearer" = [])),
    responses((status = 201, body = TokenCreated), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn create_user_token(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    ApiPath(id): ApiPath<UserId>,
    ApiJson(body): ApiJson<TokenCreate>,
) -> ApiResult<(StatusCode, Json<TokenCreated>)> {
    create(&state, &ctx, &me, Some(id), body).await
}

/// Delete a user's token (Administrators, User Managers).
#[utoipa::path(delete, path = "/users/{id}/tokens/{token_id}", tag = "tokens", params(("id" = Uuid, Path, description = "The user's id"), ("token_id" = Uuid, Path, description = "The token's id")), security(("session" = []), ("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_user_token(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    ApiPath((id, token_id)): ApiPath<(UserId, TokenId)>,
) -> ApiResult<StatusCode> {
    state.usher.delete_token(&ctx, &me, Some(id), token_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
