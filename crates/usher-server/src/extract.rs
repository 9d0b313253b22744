//! Request extractors: who is calling, from where, and bodies that fail as problems.

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, FromRequest, FromRequestParts, OriginalUri, Request},
    http::{HeaderMap, Method, StatusCode, header, request::Parts},
};
use axum_extra::extract::{
    CookieJar,
    cookie::{Cookie, SameSite},
};
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

/// Path parameters whose rejections (e.g. a malformed id) are problem responses.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> ApiResult<Self> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Self(value)),
            Err(_) => Err(ApiError::not_found()),
        }
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
    let client =
        parts.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(|s| s.chars().take(300).collect());
    RequestContext { address: forwarded.or(peer), client }
}

/// An authenticated API caller. Cookie-authenticated requests that change
/// something must carry the CSRF header.
pub struct Authed(pub Principal);

/// The credentials of an `Authorization: Bearer ...` value. The scheme name is
/// case-insensitive (RFC 9110, section 11.1) and may be followed by several spaces.
fn bearer_credentials(value: &str) -> Option<&str> {
    let (scheme, rest) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
}

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let token = value.to_str().ok().and_then(bearer_credentials).ok_or_else(ApiError::invalid_token)?;
            let principal = state.usher.authenticate_token(token).await?.ok_or_else(ApiError::invalid_token)?;
            return Ok(Self(principal));
        }
        let principal = session_principal(&parts.headers, state).await?.ok_or_else(ApiError::unauthenticated)?;
        if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
            let expected = principal.csrf_token.as_deref().unwrap_or("");
            if !secrets::same(sent, expected) {
                return Err(ApiError::csrf());
            }
        }
        if principal.must_change_password() {
            let path = parts.extensions.get::<OriginalUri>().map_or(parts.uri.path(), |u| u.0.path());
            if !allowed_before_password_change(&parts.method, path) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "password-change-required",
                    "Password change required",
                    "Your password must be changed (an administrator reset it, or it expired). Change it with PUT \
                     /api/v1/me/password before doing anything else.",
                ));
            }
        } else if crate::api::mfa::enrolment_session(&parts.headers) {
            let path = parts.extensions.get::<OriginalUri>().map_or(parts.uri.path(), |u| u.0.path());
            if !crate::api::mfa::allowed_while_enrolling(&parts.method, path) {
                return Err(crate::api::mfa::enrolment_required());
            }
        }
        Ok(Self(principal))
    }
}

/// What a session signed in with a temporary password may still do: read who
/// it is, change the password, sign out.
fn allowed_before_password_change(method: &Method, path: &str) -> bool {
    matches!(
        (method, path.trim_end_matches('/')),
        (&Method::GET, "/api/v1/me") | (&Method::PUT, "/api/v1/me/password") | (&Method::POST, "/api/v1/auth/logout")
    )
}

/// The principal behind the request's session cookie, if any.
pub async fn session_principal(headers: &HeaderMap, state: &AppState) -> ApiResult<Option<Principal>> {
    let jar = CookieJar::from_headers(headers);
    let Some(cookie) = jar.get(SESSION_COOKIE) else { return Ok(None) };
    Ok(state.usher.authenticate_session(cookie.value()).await?)
}

/// The session cookie, for the API and the web UI alike: HttpOnly,
/// SameSite=Lax, Secure behind HTTPS.
pub fn session_cookie(state: &AppState, secret: String) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, secret))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.secure_cookies())
        .path("/")
        .build()
}

/// The cookie that removes the session cookie.
pub fn session_removal(state: &AppState) -> Cookie<'static> {
    let mut c = session_cookie(state, String::new());
    c.make_removal();
    c
}
