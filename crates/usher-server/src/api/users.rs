//! The organization's users (Administrators and User Managers).

use axum::{Json, extract::State};
use serde::Deserialize;
use usher_api_types::{Page, Problem, UserBody};

use super::user_body;
use crate::{
    app::AppState,
    error::ApiResult,
    extract::{ApiQuery, Authed},
};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UserListParams {
    /// 1–200, default 50.
    limit: Option<u32>,
    cursor: Option<String>,
}

/// The organization's users, in user-ID order.
#[utoipa::path(get, path = "/users", tag = "users", params(UserListParams), security(("session" = []), ("bearer" = [])),
    responses((status = 200, body = Page<UserBody>), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn list_users(
    State(state): State<AppState>,
    Authed(me): Authed,
    ApiQuery(p): ApiQuery<UserListParams>,
) -> ApiResult<Json<Page<UserBody>>> {
    let manager = me.user_manager()?;
    let page = state.usher.list_users(&manager, p.cursor.as_deref(), p.limit.unwrap_or(50)).await?;
    Ok(Json(Page { items: page.items.iter().map(user_body).collect(), next_cursor: page.next_cursor }))
}
