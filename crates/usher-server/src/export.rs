//! The audit log as a download, in CSV or JSON lines, written page by page
//! while the store is read ([`AuditExport`]), so an export of any length holds
//! one page at a time. The API (`GET /api/v1/audit-events/export`) and the
//! audit page's links (`GET /admin/audit/export`) answer with it.

use axum::{
    body::{Body, Bytes},
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use usher_api_types::AuditEventBody;
use usher_core::{audit::export::AuditExport, csv_cell, store::AuditEvent};

/// The format of an export.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Comma-separated values with a header row; cells a spreadsheet would
    /// read as a formula start with `'`.
    #[default]
    Csv,
    /// One JSON object per line, as `GET /api/v1/audit-events` lists them.
    Jsonl,
}

impl Format {
    fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Jsonl => "application/jsonl",
        }
    }

    /// The name the value has in a query string.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
        }
    }
}

/// The columns of the CSV export: the properties of an event in the API.
pub const COLUMNS: [&str; 10] =
    ["id", "at", "action", "actor_id", "actor_name", "target_id", "target_name", "address", "client", "details"];

/// An event as the API shows it.
pub fn event_body(e: AuditEvent) -> AuditEventBody {
    AuditEventBody {
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
    }
}

/// The download of `export`, named after the day it is made. Its first page
/// is read before answering, so a failing database is still an error answer
/// with its status; a failure later ends the body early (the client sees a
/// cut-off download) and is logged.
pub async fn download(mut export: AuditExport, format: Format, now: DateTime<Utc>) -> usher_core::Result<Response> {
    let first = export.next_page().await?;
    let state = Pages { export, format, pending: first, header: format == Format::Csv };
    let body = Body::from_stream(futures_util::stream::try_unfold(state, Pages::next));
    let name = format!("attachment; filename=\"audit-log-{}.{}\"", now.format("%Y-%m-%d"), format.as_str());
    let mut res = body.into_response();
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
    if let Ok(value) = HeaderValue::from_str(&name) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(res)
}

/// What is left to send.
struct Pages {
    export: AuditExport,
    format: Format,
    /// A page read and not yet sent.
    pending: Option<Vec<AuditEvent>>,
    /// The CSV header row is still to send.
    header: bool,
}

impl Pages {
    /// The next piece of the body: a page of events (after the header row,
    /// first), or the header alone for an empty log.
    async fn next(mut self) -> std::io::Result<Option<(Bytes, Self)>> {
        let page = match self.pending.take() {
            Some(page) => Some(page),
            None => self.export.next_page().await.map_err(|e| {
                tracing::error!(error = %usher_core::Chain(&e), "the audit export stopped");
                std::io::Error::other("the audit export stopped")
            })?,
        };
        let header = std::mem::take(&mut self.header);
        let events = match page {
            Some(events) => events,
            None if header => Vec::new(),
            None => return Ok(None),
        };
        let bytes = match self.format {
            Format::Csv => csv_rows(header, &events)?,
            Format::Jsonl => json_lines(events)?,
        };
        Ok(Some((Bytes::from(bytes), self)))
    }
}

/// Events as CSV rows, after the header row if asked; every cell safe to open
/// in a spreadsheet.
fn csv_rows(header: bool, events: &[AuditEvent]) -> std::io::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    if header {
        w.write_record(COLUMNS)?;
    }
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let id = |v: Option<uuid::Uuid>| v.map(|id| id.to_string()).unwrap_or_default();
    for e in events {
        let details = if e.details.is_null() { String::new() } else { e.details.to_string() };
        let cells = [
            e.id.to_string(),
            e.at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            e.action.clone(),
            id(e.actor_id.map(Into::into)),
            text(&e.actor_name),
            id(e.target_id),
            text(&e.target_name),
            text(&e.address),
            text(&e.client),
            details,
        ];
        w.write_record(cells.iter().map(|c| csv_cell::escape(c)).collect::<Vec<_>>().iter().map(|c| c.as_bytes()))?;
    }
    w.into_inner().map_err(|e| std::io::Error::other(e.to_string()))
}

/// Events as JSON lines.
fn json_lines(events: Vec<AuditEvent>) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    for e in events {
        serde_json::to_writer(&mut out, &event_body(e))?;
        out.push(b'\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use usher_domain::{EventId, OrgId};

    use super::*;

    fn event(actor_name: &str, client: &str) -> AuditEvent {
        AuditEvent {
            id: EventId::from_uuid(uuid::Uuid::nil()),
            org_id: OrgId::generate(),
            at: DateTime::from_timestamp(1_780_000_000, 0).unwrap(),
            action: "auth.login.failed".into(),
            actor_id: None,
            actor_name: Some(actor_name.into()),
            target_id: None,
            target_name: None,
            address: Some("192.0.2.1".into()),
            client: Some(client.into()),
            details: json!({ "login": "=cmd|' /C calc'!A0", "n": 1 }),
        }
    }

    #[test]
    fn csv_cells_never_start_a_formula() {
        let rows = csv_rows(true, &[event("=HYPERLINK(\"http://x\")", "@SUM(A1)"), event("Ada", "-1+2")]).unwrap();
        let text = String::from_utf8(rows).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("id,at,action,actor_id,actor_name,target_id,target_name,address,client,details"));
        let first = lines.next().unwrap();
        assert!(first.contains(",\"'=HYPERLINK(\"\"http://x\"\")\","), "{first}");
        assert!(first.contains(",'@SUM(A1),"), "{first}");
        assert!(first.starts_with("00000000-0000-0000-0000-000000000000,2026-05-28T20:26:40Z,auth.login.failed,,"));
        assert!(lines.next().unwrap().contains(",'-1+2,"));
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        for record in reader.records() {
            let record = record.unwrap();
            assert_eq!(record.len(), COLUMNS.len());
            assert!(record.iter().all(|cell| !cell.starts_with(['=', '+', '-', '@', '\t', '\r'])), "{record:?}");
            let details: serde_json::Value = serde_json::from_str(&record[9]).unwrap();
            assert_eq!(details["n"], 1, "the details stay JSON");
        }
    }

    #[test]
    fn json_lines_are_the_apis_events() {
        let text = String::from_utf8(json_lines(vec![event("Ada", "curl"), event("Bob", "curl")]).unwrap()).unwrap();
        let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1]["actor_name"], "Bob");
        assert_eq!(lines[0]["details"]["login"], "=cmd|' /C calc'!A0", "JSON keeps values as they are");
        assert!(text.ends_with('\n'));
    }
}
