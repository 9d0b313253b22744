//! The audit log page: events newest first, filtered by family of actions,
//! actor, target and days in the administrator's time zone, with their
//! details as a short list; and its downloads (CSV, JSON lines) of everything
//! the filters select. Both call the core's audit services, which refuse
//! anyone but Administrators.

use askama::Template;
use axum::{extract::State, http::StatusCode, response::Response};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone as _, Utc};
use serde::Deserialize;
use serde_json::Value;
use usher_core::{
    Error,
    access::policy::Operation,
    audit::families,
    store::{AuditEvent, AuditQuery},
};
use usher_domain::{EventId, TimeZone, UserId};
use uuid::Uuid;

use super::{
    i18n::{Tr, local_time_short},
    page::{Choice, FieldErrors, Input, Layout, Select, SignedIn, WebQuery, WebResult, render},
};
use crate::{app::AppState, export::Format};

/// One line of an event's details: a key and its value, written compactly.
pub struct Fact {
    pub key: String,
    pub value: String,
}

/// One line of the audit table, ready to show.
pub struct AuditRow {
    pub time: String,
    pub action: String,
    pub action_label: String,
    pub actor: String,
    pub target: String,
    pub address: String,
    /// "Chrome on Linux"; the whole user agent is in `client_full`.
    pub client: String,
    pub client_full: String,
    pub facts: Vec<Fact>,
    /// The details as stored, indented, for whoever needs them whole.
    pub raw: Option<String>,
}

/// A download link of the filtered log.
pub struct ExportLink {
    pub href: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AuditPage {
    l: Layout,
    time_heading: String,
    family: Select,
    actor: Input,
    target: Input,
    from: Input,
    to: Input,
    filtered: bool,
    summary: bool,
    exports: Vec<ExportLink>,
    rows: Vec<AuditRow>,
    older: Option<String>,
    newest: Option<String>,
}

/// The filters as the form sends them (text, so a typo is a field error),
/// the page's cursor, and the download's format.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct AuditParams {
    #[serde(default)]
    family: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    cursor: Option<String>,
    #[serde(default)]
    format: Format,
}

impl AuditParams {
    /// The filters given, as query string pairs.
    fn filters(&self) -> Vec<(&'static str, &str)> {
        let pairs = [
            ("family", &self.family),
            ("actor", &self.actor),
            ("target", &self.target),
            ("from", &self.from),
            ("to", &self.to),
        ];
        pairs.into_iter().map(|(k, v)| (k, v.trim())).filter(|(_, v)| !v.is_empty()).collect()
    }
}

const AUDIT_PAGE: u32 = 50;

/// `path` with the filters of `p` and `extra` pairs as its query string.
fn href(path: &str, p: &AuditParams, extra: &[(&str, &str)]) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.extend_pairs(extra.iter().copied().chain(p.filters()));
    let q = q.finish();
    if q.is_empty() { path.to_owned() } else { format!("{path}?{q}") }
}

/// Where the day `day` begins in `tz`: at midnight, or where a change of
/// clocks at midnight makes it begin.
fn start_of_day(day: NaiveDate, tz: TimeZone) -> DateTime<Utc> {
    let midnight = day.and_time(NaiveTime::MIN);
    (0..=24 * 4)
        .map(|quarter| midnight + Duration::minutes(15 * quarter))
        .find_map(|local| tz.tz().from_local_datetime(&local).earliest())
        .map_or_else(|| midnight.and_utc(), |at| at.with_timezone(&Utc))
}

/// A day typed in a date field (`YYYY-MM-DD`), if any.
fn day(field: &str, text: &str, t: Tr, errors: &mut FieldErrors) -> Option<NaiveDate> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let parsed = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
    if parsed.is_none() {
        errors.add(field, t.get("audit.errors.date").into_owned());
    }
    parsed
}

/// A field error of the core in this language (`audit.errors.<code>`).
fn add_invalid(errors: &mut FieldErrors, t: Tr, invalid: &usher_domain::Invalid) {
    for e in &invalid.0 {
        let message =
            t.try_get(&format!("audit.errors.{}", e.code)).map_or_else(|| e.message.clone(), |m| m.into_owned());
        errors.add(&e.field, message);
    }
}

/// The id of the person named in `field`, if any; an unknown name is a
/// field error.
async fn person(
    state: &AppState,
    me: &SignedIn,
    field: &str,
    text: &str,
    errors: &mut FieldErrors,
) -> WebResult<Option<Uuid>> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    match state.usher.audit_person(&me.0, field, text).await {
        Ok(id) => Ok(Some(id)),
        Err(Error::Invalid(invalid)) => {
            add_invalid(errors, me.t(), &invalid);
            Ok(None)
        }
        Err(e) => Err(me.core_error(e)),
    }
}

/// The query the form's filters make, or their field errors. People are
/// named as in the other admin forms (user ID or email), or by id; days are
/// whole days in the administrator's zone, both included.
async fn query(state: &AppState, me: &SignedIn, p: &AuditParams) -> WebResult<Result<AuditQuery, FieldErrors>> {
    let t = me.t();
    let mut errors = FieldErrors::default();
    let family = Some(p.family.trim()).filter(|f| !f.is_empty());
    if family.is_some_and(|f| !families().contains(&f)) {
        errors.add("family", t.get("audit.errors.unknown_family").into_owned());
    }
    let actor = person(state, me, "actor", &p.actor, &mut errors).await?;
    let target = person(state, me, "target", &p.target, &mut errors).await?;
    let tz = me.0.user.profile.timezone;
    let (from, to) = (day("from", &p.from, t, &mut errors), day("to", &p.to, t, &mut errors));
    if let (Some(from), Some(to)) = (from, to)
        && to < from
    {
        errors.add("to", t.get("audit.errors.before_since").into_owned());
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    Ok(Ok(AuditQuery {
        family: family.map(str::to_owned),
        actor_id: actor.map(UserId::from),
        target_id: target,
        since: from.map(|d| start_of_day(d, tz)),
        until: to.and_then(|d| d.succ_opt()).map(|d| start_of_day(d, tz)),
        ..AuditQuery::default()
    }))
}

/// A value of the details in a few words: text as it is, lists and objects
/// inline; long values cut (the raw JSON keeps them whole).
fn compact(v: &Value, nested: bool) -> String {
    const LONGEST: usize = 160;
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Null => "—".to_owned(),
        Value::Bool(_) | Value::Number(_) => v.to_string(),
        Value::Array(items) => {
            let inner = items.iter().map(|i| compact(i, true)).collect::<Vec<_>>().join(", ");
            if nested { format!("[{inner}]") } else { inner }
        }
        Value::Object(map) => {
            let inner = map.iter().map(|(k, v)| format!("{k}: {}", compact(v, true))).collect::<Vec<_>>().join(", ");
            format!("{{{inner}}}")
        }
    };
    match text.char_indices().nth(LONGEST) {
        Some((cut, _)) if !nested => format!("{}…", &text[..cut]),
        _ => text,
    }
}

/// The details of an event as a list of facts, and whole.
fn details(details: &Value) -> (Vec<Fact>, Option<String>) {
    let facts = match details {
        Value::Null => return (Vec::new(), None),
        Value::Object(map) if map.is_empty() => return (Vec::new(), None),
        Value::Object(map) => {
            map.iter().map(|(k, v)| Fact { key: k.replace('_', " "), value: compact(v, false) }).collect()
        }
        other => vec![Fact { key: String::new(), value: compact(other, false) }],
    };
    (facts, serde_json::to_string_pretty(details).ok())
}

fn audit_row(t: Tr, tz: TimeZone, e: AuditEvent) -> AuditRow {
    let dash = || t.get("audit.none").into_owned();
    let (facts, raw) = details(&e.details);
    AuditRow {
        time: local_time_short(e.at, tz),
        action_label: t.action(&e.action),
        action: e.action,
        actor: e.actor_name.unwrap_or_else(dash),
        target: e.target_name.unwrap_or_else(dash),
        address: e.address.unwrap_or_else(dash),
        client: usher_core::sessions::describe_client(e.client.as_deref()).unwrap_or_else(dash),
        client_full: e.client.unwrap_or_default(),
        facts,
        raw,
    }
}

/// The families in the select, by their names in the reader's language.
fn family_select(t: Tr, chosen: &str, errors: &FieldErrors) -> Select {
    let mut options: Vec<Choice> = families()
        .iter()
        .map(|f| Choice {
            value: (*f).to_owned(),
            label: t.get(&format!("audit.families.{f}")).into_owned(),
            selected: chosen.trim() == *f,
            lang: "",
        })
        .collect();
    options.sort_by(|a, b| a.label.cmp(&b.label));
    let all =
        Choice { value: String::new(), label: t.get("audit.all_families").into_owned(), selected: false, lang: "" };
    options.insert(0, Choice { selected: !options.iter().any(|o| o.selected), ..all });
    Select::new(t, "family", "audit.filter_family", options).errors(errors)
}

/// `GET /admin/audit[?family=&actor=&target=&from=&to=&cursor=]`: the audit
/// log, newest first, [`AUDIT_PAGE`] events a page, times in the
/// administrator's zone.
pub async fn audit_page(State(state): State<AppState>, me: SignedIn, WebQuery(p): WebQuery<AuditParams>) -> WebResult {
    me.refused_unless(Operation::ReadAudit)?;
    let t = me.t();
    let before = match p.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => Some(c.parse::<EventId>().map_err(|_| me.error(StatusCode::BAD_REQUEST, "bad_request"))?),
        None => None,
    };
    let tz = me.0.user.profile.timezone;
    let (status, errors, rows, older) = match query(&state, &me, &p).await? {
        Ok(query) => {
            let query = AuditQuery { before, limit: AUDIT_PAGE, ..query };
            let events = state.usher.audit_events(&me.0, query).await.map_err(|e| me.core_error(e))?;
            let older = (events.len() == AUDIT_PAGE as usize)
                .then(|| events.last().map(|e| href("/admin/audit", &p, &[("cursor", &e.id.to_string())])))
                .flatten();
            let rows = events.into_iter().map(|e| audit_row(t, tz, e)).collect();
            (StatusCode::OK, FieldErrors::default(), rows, older)
        }
        Err(errors) => (StatusCode::UNPROCESSABLE_ENTITY, errors, Vec::new(), None),
    };
    let exports = [(Format::Csv, "audit.export_csv"), (Format::Jsonl, "audit.export_jsonl")]
        .into_iter()
        .map(|(format, key)| ExportLink {
            href: href("/admin/audit/export", &p, &[("format", format.as_str())]),
            label: t.get(key).into_owned(),
        })
        .collect();
    let person_hint = "audit.person_hint";
    let mut from = Input::new(t, "from", "audit.filter_from", &p.from).kind("date").errors(&errors);
    from.hint = Some(t.with("audit.days_hint", "n", tz.name()));
    let page = AuditPage {
        l: me.layout("audit.title", "audit"),
        time_heading: t.with("audit.time", "n", tz.name()),
        family: family_select(t, &p.family, &errors),
        actor: Input::new(t, "actor", "audit.filter_actor", &p.actor).hint(t, person_hint).errors(&errors),
        target: Input::new(t, "target", "audit.filter_target", &p.target).hint(t, person_hint).errors(&errors),
        from,
        to: Input::new(t, "to", "audit.filter_to", &p.to).kind("date").errors(&errors),
        filtered: !p.filters().is_empty(),
        summary: !errors.is_empty(),
        exports: if errors.is_empty() { exports } else { Vec::new() },
        rows,
        older,
        newest: before.map(|_| href("/admin/audit", &p, &[])),
    };
    Ok(render(status, &page))
}

/// `GET /admin/audit/export?format=csv|jsonl&<the page's filters>`: every
/// event the filters select, as a file (see [`crate::export`]).
pub async fn export(
    State(state): State<AppState>,
    me: SignedIn,
    WebQuery(p): WebQuery<AuditParams>,
) -> WebResult<Response> {
    me.refused_unless(Operation::ReadAudit)?;
    let query = match query(&state, &me, &p).await? {
        Ok(query) => query,
        Err(_) => return Err(me.error(StatusCode::UNPROCESSABLE_ENTITY, "bad_request")),
    };
    let export = state.usher.audit_export(&me.0, query).map_err(|e| me.core_error(e))?;
    crate::export::download(export, p.format, state.usher.now()).await.map_err(|e| me.core_error(e))
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use usher_domain::Language;

    use super::*;

    #[test]
    fn every_action_and_family_has_a_name_in_every_language() {
        for lang in Language::ALL {
            let t = Tr(lang);
            let actions = usher_core::audit::action::ALL.iter().map(|a| format!("audit.actions.{a}"));
            for key in actions.chain(families().iter().map(|f| format!("audit.families.{f}"))) {
                assert!(t.try_get(&key).is_some(), "{lang}: {key}");
            }
            for code in ["unknown_user", "unknown_family", "before_since", "date"] {
                assert!(t.try_get(&format!("audit.errors.{code}")).is_some(), "{lang}: {code}");
            }
        }
    }

    #[test]
    fn links_keep_the_filters() {
        let p = AuditParams {
            family: "auth".into(),
            actor: " a&b ".into(),
            from: "2026-05-01".into(),
            ..Default::default()
        };
        assert_eq!(href("/admin/audit", &AuditParams::default(), &[]), "/admin/audit");
        assert_eq!(
            href("/admin/audit", &p, &[("cursor", "00000000-0000-0000-0000-000000000000")]),
            "/admin/audit?cursor=00000000-0000-0000-0000-000000000000&family=auth&actor=a%26b&from=2026-05-01"
        );
        assert_eq!(
            href("/admin/audit/export", &p, &[("format", "jsonl")]),
            "/admin/audit/export?format=jsonl&family=auth&actor=a%26b&from=2026-05-01"
        );
    }

    #[test]
    fn days_begin_at_midnight_where_the_reader_lives() {
        let paris = TimeZone::parse("Europe/Paris").unwrap();
        let day = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(start_of_day(day("2026-07-01"), paris).to_rfc3339(), "2026-06-30T22:00:00+00:00");
        assert_eq!(start_of_day(day("2026-01-01"), TimeZone::default()).to_rfc3339(), "2026-01-01T00:00:00+00:00");
        // Clocks went from midnight to 01:00 in Santiago that day: the day begins at 01:00.
        let santiago = TimeZone::parse("America/Santiago").unwrap();
        assert_eq!(start_of_day(day("2024-09-08"), santiago).to_rfc3339(), "2024-09-08T04:00:00+00:00");
    }

    #[test]
    fn details_read_as_a_short_list() {
        let (facts, raw) = details(&json!({
            "reason": "bad_password", "login": "rosa", "n": 3, "added": ["a", "b"],
            "after": { "min_length": 10, "groups": [1, 2] }, "none": null,
        }));
        let shown: Vec<(String, String)> = facts.into_iter().map(|f| (f.key, f.value)).collect();
        assert!(shown.contains(&("reason".into(), "bad_password".into())));
        assert!(shown.contains(&("added".into(), "a, b".into())));
        assert!(shown.contains(&("after".into(), "{min_length: 10, groups: [1, 2]}".into())));
        assert!(shown.contains(&("none".into(), "—".into())));
        assert!(shown.contains(&("n".into(), "3".into())));
        assert!(raw.unwrap().contains("\n  \"login\": \"rosa\""));
        assert!(details(&json!({})).0.is_empty() && details(&Value::Null).1.is_none());
        let long = compact(&json!("x".repeat(500)), false);
        assert_eq!(long.chars().count(), 161);
    }
}
