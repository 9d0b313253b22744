use axum::{Json, extract::State};
use serde::Deserialize;
use usher_api_types::{AuditEventBody, Page, Problem};
use usher_core::access::policy::Operation;
use usher_core::store::AuditQuery;
use usher_domain::{EventId, Invalid, UserId};
use uuid::Uuid;

use crate::{
    app::AppState,
    error::ApiResult,
    extract::{ApiQuery, Authed},
};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// Only this action, e.g. `auth.login.failed`.
    action: Option<String>,
    actor_id: Option<Uuid>,
    target_id: Option<Uuid>,
    /// 1–500, default 50.
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    cursor: Option<String>,
}

/// The audit log, newest first (administrators).
#[utoipa::path(get, path = "/audit-events", tag = "audit", security(("session" = []), ("bearer" = [])), params(AuditParams),
    responses((status = 200, body = Page<AuditEventBody>), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn list_audit_events(
    State(state): State<AppState>,
    Authed(me): Authed,
    ApiQuery(p): ApiQuery<AuditParams>,
) -> ApiResult<Json<Page<AuditEventBody>>> {
    let before = match p.cursor.as_deref() {
        Some(c) => {
            let bad = || Invalid::one("cursor", "invalid", "This cursor is not valid.");
            Some(c.parse::<EventId>().map_err(|_| super::bad_input(&me, Operation::ReadAudit, bad()))?)
        }
        None => None,
    };
    let limit = p.limit.unwrap_or(50).clamp(1, 500);
    let query =
        AuditQuery { action: p.action, actor_id: p.actor_id.map(UserId::from), target_id: p.target_id, before, limit };
    let events = state.usher.audit_events(&me, query).await?;
    let next_cursor = (events.len() == limit as usize).then(|| events.last().map(|e| e.id.to_string())).flatten();
    let items = events
        .into_iter()
        .map(|e| AuditEventBody {
            id: e.id.into(),
            at: e.at,
            action: e.action,
            actor_id: e.actor_id.map(Into::into),
            actor_name: e.actor_name,
            target_id: e.target_id,
            target_name: e.target_name,
            address: e.address,
            client: e.client,
            details: e.details,
        })
        .collect();
    Ok(Json(Page { items, next_cursor }))
}
