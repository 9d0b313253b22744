//! Your own sessions: list them, end one, end all others, or end all. Ending one
//! session never ends another; ending the current one also removes its cookie.

use axum::{
    Json,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use usher_api_types::{OwnSessionBody, Page, Problem, SessionsEnded};
use usher_core::sessions::{EndSessions, SessionItem};
use usher_domain::{Invalid, SessionId};

use crate::{
    app::AppState,
    error::ApiResult,
    extract::{ApiPath, ApiQuery, Authed, Ctx, session_removal},
};

fn session_body(item: SessionItem) -> OwnSessionBody {
    let s = item.session;
    OwnSessionBody {
        id: s.id.into(),
        current: item.current,
        client: item.client,
        user_agent: s.client,
        address: s.address,
        created_at: s.created_at,
        last_active_at: s.last_active_at,
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SessionListParams {
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    cursor: Option<String>,
}

/// Your active sessions, newest first; `current` marks the one this request came with.
#[utoipa::path(get, path = "/me/sessions", tag = "me", params(SessionListParams), security(("session" = []), ("bearer" = [])),
    responses((status = 200, body = Page<OwnSessionBody>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list_my_sessions(
    State(state): State<AppState>,
    Authed(me): Authed,
    ApiQuery(p): ApiQuery<SessionListParams>,
) -> ApiResult<Json<Page<OwnSessionBody>>> {
    let cursor = p
        .cursor
        .map(|c| c.parse::<SessionId>().map_err(|_| Invalid::one("cursor", "invalid", "This cursor is not valid.")))
        .transpose()?;
    let page = state.usher.my_sessions(&me, cursor, p.limit.unwrap_or(50)).await?;
    Ok(Json(Page {
        items: page.items.into_iter().map(session_body).collect(),
        next_cursor: page.next_cursor.map(|c| c.to_string()),
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EndSessionsParams {
    /// `true` ends the current session too (signing this client out); by default
    /// every session but the current one ends.
    #[serde(default)]
    include_current: bool,
}

/// End all your other sessions, or with `?include_current=true` all of them.
/// Answers how many ended.
#[utoipa::path(delete, path = "/me/sessions", tag = "me", params(EndSessionsParams), security(("session" = []), ("bearer" = [])),
    responses((status = 200, body = SessionsEnded), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn end_my_sessions(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    jar: CookieJar,
    ApiQuery(p): ApiQuery<EndSessionsParams>,
) -> ApiResult<Response> {
    let which = if p.include_current { EndSessions::All } else { EndSessions::Others };
    let ended = state.usher.end_my_sessions(&ctx, &me, which).await?;
    let body = Json(SessionsEnded { ended });
    if p.include_current && me.session_id.is_some() {
        return Ok((jar.add(session_removal(&state)), body).into_response());
    }
    Ok(body.into_response())
}

/// End one of your sessions (another user's answers 404). Ending the current one
/// signs this client out.
#[utoipa::path(delete, path = "/me/sessions/{id}", tag = "me", params(("id" = Uuid, Path, description = "The session's id")),
    security(("session" = []), ("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn end_my_session(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    jar: CookieJar,
    ApiPath(id): ApiPath<SessionId>,
) -> ApiResult<Response> {
    state.usher.end_my_session(&ctx, &me, id).await?;
    if me.session_id == Some(id) {
        return Ok((jar.add(session_removal(&state)), StatusCode::NO_CONTENT).into_response());
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
