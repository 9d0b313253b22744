//! Request extractors: who is calling, from where, and bodies that fail as problems.

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, FromRequest, FromRequestParts, Request},
    http::{HeaderMap, Method, header, request::Parts},
};
use axum_extra::extract::CookieJar;
use serde::de::DeserializeOwned;
use usher_core::{RequestContext, auth::Principal, secrets};

use crate::{
    app::AppState,
    error::{ApiError, ApiResult},
};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "usher_session";
/// The header that carries the CSRF token on cookie-authenticated changes.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A JSON body whose rejections are problem responses.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> ApiResult<Self> {
        let axum::Json(value) = axum::Json::<T>::from_request(req, state).await?;
        Ok(Self(value))
    }
}

/// Query parameters whose rejections are problem responses.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> ApiResult<Self> {
        let axum::extract::Query(value) = axum::extract::Query::<T>::from_request_parts(parts, state).await?;
        Ok(Self(value))
    }
}

/// Where the request came from (address and client), for the audit log.
pub struct Ctx(pub RequestContext);

impl FromRequestParts<AppState> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        Ok(Self(request_context(parts, state.config.trust_proxy)))
    }
}

pub fn request_context(parts: &Parts, trust_proxy: bool) -> RequestContext {
    let forwarded = trust_proxy
        .then(|| parts.headers.get("x-forwarded-for")?.to_str().ok()?.split(',').next().map(|s| s.trim().to_owned()))
        .flatten();
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
    let client = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(300).collect());
    RequestContext { address: forwarded.or(peer), client }
}

/// An authenticated API caller. Cookie-authenticated requests that change
/// something must carry the CSRF header.
pub struct Authed(pub Principal);

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        if parts.headers.contains_key(header::AUTHORIZATION) {
            // API tokens arrive with their own issue; until then a bearer header is not accepted.
            return Err(ApiError::unauthenticated());
        }
        let principal = session_principal(&parts.headers, state).await?.ok_or_else(ApiError::unauthenticated)?;
        if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
            let expected = principal.csrf_token.as_deref().unwrap_or("");
            if !secrets::same(sent, expected) {
                return Err(ApiError::csrf());
            }
        }
        Ok(Self(principal))
    }
}

/// The principal behind the request's session cookie, if any.
pub async fn session_principal(headers: &HeaderMap, state: &AppState) -> ApiResult<Option<Principal>> {
    let jar = CookieJar::from_headers(headers);
    let Some(cookie) = jar.get(SESSION_COOKIE) else { return Ok(None) };
    Ok(state.usher.authenticate_session(cookie.value()).await?)
}
