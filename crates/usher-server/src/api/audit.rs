use axum::{Json, extract::State, response::Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use usher_api_types::{AuditEventBody, Page, Problem};
use usher_core::access::policy::Operation;
use usher_core::store::AuditQuery;
use usher_domain::{EventId, Invalid, UserId};
use utoipa::openapi::{RefOr, Schema, schema::ObjectBuilder};
use uuid::Uuid;

use crate::{
    app::AppState,
    error::ApiResult,
    export::{self, Format, event_body},
    extract::{ApiQuery, Authed},
};

/// The `family` parameter: one of the families of the known actions.
fn family_schema() -> RefOr<Schema> {
    let families = usher_core::audit::families().iter().copied();
    RefOr::T(Schema::Object(
        ObjectBuilder::new().schema_type(utoipa::openapi::schema::Type::String).enum_values(Some(families)).build(),
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// Only this action, e.g. `auth.login.failed`.
    action: Option<String>,
    /// Only actions of this family, the first word of their code: `auth` (sign-in, sign-out,
    /// lockout), `user` (accounts, passwords, two-step), `token`, `group`, `app`, `session`, ...
    #[param(schema_with = family_schema)]
    family: Option<String>,
    /// Only what this user did.
    actor_id: Option<Uuid>,
    /// Only what concerned this user.
    target_id: Option<Uuid>,
    /// Only events at this time or later (RFC 3339, e.g. `2026-05-01T00:00:00Z`).
    since: Option<DateTime<Utc>>,
    /// Only events before this time (RFC 3339).
    until: Option<DateTime<Utc>>,
    /// 1–500, default 50.
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    cursor: Option<String>,
}

/// The audit log, newest first (administrators). Filters given must all hold.
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
    let query = AuditQuery {
        action: p.action,
        family: p.family,
        actor_id: p.actor_id.map(UserId::from),
        target_id: p.target_id,
        since: p.since,
        until: p.until,
        before,
        limit,
    };
    let events = state.usher.audit_events(&me, query).await?;
    let next_cursor = (events.len() == limit as usize).then(|| events.last().map(|e| e.id.to_string())).flatten();
    Ok(Json(Page { items: events.into_iter().map(event_body).collect(), next_cursor }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    /// `csv` (the default) or `jsonl`.
    #[serde(default)]
    #[param(inline)]
    format: Format,
    /// Only this action, e.g. `auth.login.failed`.
    action: Option<String>,
    /// Only actions of this family (see `GET /audit-events`).
    #[param(schema_with = family_schema)]
    family: Option<String>,
    /// Only what this user did.
    actor_id: Option<Uuid>,
    /// Only what concerned this user.
    target_id: Option<Uuid>,
    /// Only events at this time or later (RFC 3339).
    since: Option<DateTime<Utc>>,
    /// Only events before this time (RFC 3339).
    until: Option<DateTime<Utc>>,
}

/// The whole audit log the filters select, newest first, as a download
/// (administrators, like reading it): CSV with a header row (`id`, `at`,
/// `action`, `actor_id`, `actor_name`, `target_id`, `target_name`, `address`,
/// `client`, `details` as JSON; a cell a spreadsheet would read as a formula
/// starts with `'`), or JSON lines, one event per line as `GET /audit-events`
/// lists them. Streamed as the log is read.
#[utoipa::path(get, path = "/audit-events/export", tag = "audit", security(("session" = []), ("bearer" = [])),
    params(ExportParams),
    responses(
        (status = 200, description = "The events, as a file to save (`Content-Disposition: attachment`)",
            content(
                (String = "text/csv"),
                (String = "application/jsonl"),
            ),
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"audit-log-YYYY-MM-DD.csv\"` (or `.jsonl`)"))),
        (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn export_audit_events(
    State(state): State<AppState>,
    Authed(me): Authed,
    ApiQuery(p): ApiQuery<ExportParams>,
) -> ApiResult<Response> {
    let query = AuditQuery {
        action: p.action,
        family: p.family,
        actor_id: p.actor_id.map(UserId::from),
        target_id: p.target_id,
        since: p.since,
        until: p.until,
        ..AuditQuery::default()
    };
    let export = state.usher.audit_export(&me, query)?;
    Ok(export::download(export, p.format, state.usher.now()).await?)
}
