//! Post/redirect/get for pages that show a secret once (a new token's secret,
//! a temporary password, an invitation link). The POST hands the secret to
//! `core::reveal` and answers a redirect with the ticket in a short-lived
//! cookie; the page it leads to takes the secret once and drops the cookie.
//! Reloading that page, or going back and forward, shows nothing again and
//! repeats nothing.

use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::{Serialize, de::DeserializeOwned};
use usher_core::reveal::RevealTicket;

use super::page::{SignedIn, WebResult, see_other};
use crate::app::AppState;

/// The cookie that carries the ticket from the POST's redirect to the page. It
/// lives as long as the browser session; what it opens is kept for
/// `core::reveal::LIFETIME_SECS` only.
const COOKIE: &str = "usher_reveal";

fn cookie(state: &AppState, value: String) -> Cookie<'static> {
    Cookie::build((COOKIE, value))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.secure_cookies())
        .path("/")
        .build()
}

/// Keeps `secret` for the next view of `to` and redirects there.
pub async fn redirect<T: Serialize>(state: &AppState, me: &SignedIn, secret: &T, to: &str) -> WebResult<Response> {
    let bytes =
        serde_json::to_vec(secret).map_err(|_| me.error(axum::http::StatusCode::INTERNAL_SERVER_ERROR, "internal"))?;
    let ticket = state.usher.hold_reveal(&me.0, &bytes).await.map_err(|e| me.core_error(e))?;
    let jar = CookieJar::new().add(cookie(state, ticket.encode()));
    Ok((jar, see_other(to)).into_response())
}

/// The secret waiting for this page view, if any, and the jar that drops its
/// cookie (to be sent with the page in every case).
pub async fn take<T: DeserializeOwned>(
    state: &AppState,
    me: &SignedIn,
    jar: CookieJar,
) -> WebResult<(Option<T>, CookieJar)> {
    let Some(value) = jar.get(COOKIE).map(|c| c.value().to_owned()) else { return Ok((None, jar)) };
    let mut removal = cookie(state, String::new());
    removal.make_removal();
    let jar = jar.add(removal);
    let Some(ticket) = RevealTicket::decode(&value) else { return Ok((None, jar)) };
    let bytes = state.usher.take_reveal(&me.0, &ticket).await.map_err(|e| me.core_error(e))?;
    Ok((bytes.and_then(|b| serde_json::from_slice(&b).ok()), jar))
}
