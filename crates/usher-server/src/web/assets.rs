//! Static assets, compiled into the binary (no CDN, no build step).

use axum::{
    http::header,
    response::{IntoResponse, Response},
};

/// The one stylesheet of the UI.
pub const CSS: &str = include_str!("../../static/usher.css");
/// Progressive enhancement only: every page works without it.
pub const JS: &str = include_str!("../../static/usher.js");
const FAVICON: &str = include_str!("../../static/favicon.svg");

/// Pages link the sheet with a digest of its content (`?v=`), so it can be
/// cached for a year.
const LONG_CACHE: &str = "public, max-age=31536000, immutable";

pub async fn css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, LONG_CACHE)], CSS).into_response()
}

pub async fn js() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, LONG_CACHE)], JS)
        .into_response()
}

pub async fn favicon() -> Response {
    ([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "public, max-age=86400")], FAVICON)
        .into_response()
}
