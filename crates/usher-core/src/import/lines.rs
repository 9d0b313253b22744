//! Reading an import file and checking each line on its own, on every core,
//! before anything is compared with the database (see the parent module).

use std::collections::HashSet;

use serde_json::Value;
use usher_domain::{Email, FieldError, LoginName, Phone, Role, ShortText, fold};

use super::{COLUMNS, Format, GROUP_NAME_MAX, LineError, Progress, check_password_hash};
use crate::metadata::Metadata;

/// One line checked on its own (before looking at the database).
#[derive(Debug, Clone)]
pub(super) struct Line {
    pub(super) line: u64,
    pub(super) user_id: LoginName,
    pub(super) email: Option<Email>,
    pub(super) first_name: Option<String>,
    pub(super) last_name: Option<String>,
    pub(super) phone: Option<String>,
    pub(super) roles: Option<Vec<Role>>,
    pub(super) groups: Option<Vec<String>>,
    pub(super) metadata: Option<Metadata>,
    pub(super) password_hash: Option<String>,
}

pub(super) fn line_error(line: u64, field: &str, message: impl Into<String>) -> LineError {
    LineError { line, field: field.to_owned(), message: message.into() }
}

/// A line of a file: its number and its fields, or, for JSON lines, its text
/// (parsed by the checking threads, so a big file is parsed in parallel and
/// never held as a million maps at once).
pub(super) type Record<'a> = (u64, Fields<'a>);

pub(super) enum Fields<'a> {
    Map(serde_json::Map<String, Value>),
    Json(&'a [u8]),
}

impl Fields<'_> {
    fn parse(self, line: u64) -> Result<serde_json::Map<String, Value>, Vec<LineError>> {
        match self {
            Self::Map(map) => Ok(map),
            Self::Json(raw) => match serde_json::from_slice::<Value>(raw) {
                Ok(Value::Object(map)) => Ok(map),
                Ok(_) => Err(vec![line_error(line, "line", "Each line is one JSON object.")]),
                Err(e) => Err(vec![line_error(line, "line", format!("Not valid JSON: {e}."))]),
            },
        }
    }
}

/// Splits a file into records.
pub(super) fn records(format: Format, data: &[u8]) -> (Vec<Record<'_>>, Vec<LineError>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    match format {
        Format::Jsonl => {
            for (i, raw) in data.split(|b| *b == b'\n').enumerate() {
                let line = i as u64 + 1;
                let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
                if raw.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                out.push((line, Fields::Json(raw)));
            }
        }
        Format::Csv => {
            let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(data);
            let headers: Vec<String> = match reader.headers() {
                Ok(h) => h.iter().map(|h| h.trim().trim_start_matches('\u{feff}').to_owned()).collect(),
                Err(e) => return (out, vec![line_error(1, "header", format!("Not valid CSV: {e}."))]),
            };
            for h in &headers {
                if !COLUMNS.contains(&h.as_str()) && !h.starts_with("metadata.") {
                    errors.push(line_error(1, h, format!("Unknown column; the columns are {}.", COLUMNS.join(", "))));
                }
            }
            if !headers.iter().any(|h| h == "user_id") {
                errors.push(line_error(1, "user_id", "The user_id column is required."));
            }
            if !errors.is_empty() {
                return (out, errors);
            }
            for record in reader.records() {
                match record {
                    Ok(r) => {
                        let line = r.position().map_or(0, |p| p.line());
                        let mut map = serde_json::Map::new();
                        let mut metadata = serde_json::Map::new();
                        // Cells an export quoted against formulas read back as written.
                        for (h, cell) in headers.iter().zip(r.iter().map(crate::csv_cell::unescape)) {
                            if let Some(field) = h.strip_prefix("metadata.") {
                                metadata.insert(field.to_owned(), Value::String(cell.to_owned()));
                            } else if !cell.trim().is_empty() {
                                map.insert(h.clone(), Value::String(cell.to_owned()));
                            }
                        }
                        if !metadata.is_empty() && !map.contains_key("metadata") {
                            map.insert("metadata".into(), Value::Object(metadata));
                        }
                        out.push((line, Fields::Map(map)));
                    }
                    Err(e) => {
                        let line = e.position().map_or(0, |p| p.line());
                        errors.push(line_error(line, "line", format!("Not valid CSV: {e}.")));
                    }
                }
            }
        }
    }
    (out, errors)
}

/// A list cell: a JSON array of strings, or text separated by `;` or `,`.
pub(super) fn list(line: u64, field: &str, v: &Value, errors: &mut Vec<LineError>) -> Option<Vec<String>> {
    let items: Vec<String> = match v {
        Value::Null => return None,
        Value::Array(items) => {
            let mut out = Vec::new();
            for item in items {
                match item {
                    Value::String(s) => out.push(s.trim().to_owned()),
                    _ => {
                        errors.push(line_error(line, field, "A list of names (strings)."));
                        return None;
                    }
                }
            }
            out
        }
        Value::String(s) if s.trim_start().starts_with('[') => match serde_json::from_str::<Value>(s) {
            Ok(v @ Value::Array(_)) => return list(line, field, &v, errors),
            _ => {
                errors.push(line_error(line, field, "Not a valid JSON list."));
                return None;
            }
        },
        Value::String(s) => s.split([';', ',']).map(|p| p.trim().to_owned()).collect(),
        _ => {
            errors.push(line_error(line, field, "A list of names."));
            return None;
        }
    };
    let items: Vec<String> = items.into_iter().filter(|s| !s.is_empty()).collect();
    (!items.is_empty()).then_some(items)
}

/// A role as people write it: `user_manager`, `User Manager`, `user-manager`.
pub(super) fn role(raw: &str) -> Option<Role> {
    raw.trim().to_lowercase().replace([' ', '-'], "_").parse().ok()
}

/// Checks one record on its own.
pub(super) fn check_line(line: u64, map: &serde_json::Map<String, Value>) -> Result<Line, Vec<LineError>> {
    let mut errors = Vec::new();
    for key in map.keys() {
        if !COLUMNS.contains(&key.as_str()) {
            errors.push(line_error(line, key, format!("Unknown field; the fields are {}.", COLUMNS.join(", "))));
        }
    }
    let mut text = |field: &str| -> Option<String> {
        match map.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                errors.push(line_error(line, field, "This field is text."));
                None
            }
        }
    };
    let raw_user_id = text("user_id");
    let raw_email = text("email");
    let raw_first = text("first_name");
    let raw_last = text("last_name");
    let raw_phone = text("phone");
    let raw_hash = text("password_hash");
    let field_errors = |r: std::result::Result<(), usher_domain::Invalid>, errors: &mut Vec<LineError>| {
        if let Err(e) = r {
            errors.extend(e.0.into_iter().map(|e: FieldError| line_error(line, &e.field, e.message)));
        }
    };
    let user_id = match raw_user_id.as_deref().map(LoginName::parse) {
        Some(Ok(id)) => Some(id),
        Some(Err(e)) => {
            field_errors(Err(e), &mut errors);
            None
        }
        None => {
            errors.push(line_error(line, "user_id", "The user ID is required."));
            None
        }
    };
    let email = match raw_email.as_deref().map(str::trim).filter(|e| !e.is_empty()).map(Email::parse) {
        Some(Ok(e)) => Some(e),
        Some(Err(e)) => {
            field_errors(Err(e), &mut errors);
            None
        }
        None => None,
    };
    let short = |field: &str, raw: Option<String>, errors: &mut Vec<LineError>| -> Option<String> {
        match ShortText::parse(field, raw.as_deref().unwrap_or("")) {
            Ok(t) => t.map(ShortText::into_string),
            Err(e) => {
                field_errors(Err(e), errors);
                None
            }
        }
    };
    let first_name = short("first_name", raw_first, &mut errors);
    let last_name = short("last_name", raw_last, &mut errors);
    let phone = match raw_phone.as_deref().map(str::trim).filter(|p| !p.is_empty()).map(Phone::parse) {
        Some(Ok(p)) => Some(p.as_str().to_owned()),
        Some(Err(e)) => {
            errors.extend(e.0.into_iter().map(|e| line_error(line, "phone", e.message)));
            None
        }
        None => None,
    };
    let roles = map.get("roles").and_then(|v| list(line, "roles", v, &mut errors)).map(|names| {
        let mut roles = Vec::new();
        for name in names {
            match role(&name) {
                Some(r) => roles.push(r),
                None => errors.push(line_error(
                    line,
                    "roles",
                    format!("Unknown role {name:?}; the roles are administrator, user_manager, developer, user."),
                )),
            }
        }
        roles.sort();
        roles.dedup();
        roles
    });
    let groups = map.get("groups").and_then(|v| list(line, "groups", v, &mut errors)).map(|names| {
        for name in &names {
            if name.chars().count() > GROUP_NAME_MAX || name.chars().any(char::is_control) {
                errors.push(line_error(
                    line,
                    "groups",
                    format!("Group names are at most {GROUP_NAME_MAX} characters."),
                ));
            }
        }
        let mut seen = HashSet::new();
        names.into_iter().filter(|n| seen.insert(fold(n))).collect::<Vec<_>>()
    });
    let metadata = match map.get("metadata") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m.clone()),
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(m)) => Some(m),
            _ => {
                errors.push(line_error(line, "metadata", "A JSON object of field names and values."));
                None
            }
        },
        Some(_) => {
            errors.push(line_error(line, "metadata", "A JSON object of field names and values."));
            None
        }
    };
    let password_hash = raw_hash.map(|h| h.trim().to_owned()).filter(|h| !h.is_empty());
    if let Some(h) = &password_hash
        && let Err(why) = check_password_hash(h)
    {
        errors.push(line_error(line, "password_hash", format!("The password hash is {why}.")));
    }
    match user_id {
        Some(user_id) if errors.is_empty() => {
            Ok(Line { line, user_id, email, first_name, last_name, phone, roles, groups, metadata, password_hash })
        }
        _ => Err(errors),
    }
}

/// Checks every record, on every core, keeping file order.
pub(super) fn check_lines(mut records: Vec<Record<'_>>, progress: &dyn Progress) -> (Vec<Line>, Vec<LineError>) {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).max(1);
    let total = records.len();
    let chunk = total.div_ceil(threads).max(1);
    let mut parts = Vec::with_capacity(threads);
    while records.len() > chunk {
        let rest = records.split_off(chunk);
        parts.push(std::mem::replace(&mut records, rest));
    }
    parts.push(records);
    let done = std::sync::atomic::AtomicU64::new(0);
    let results: Vec<Vec<std::result::Result<Line, Vec<LineError>>>> = std::thread::scope(|s| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|part| {
                let done = &done;
                s.spawn(move || {
                    let mut out = Vec::with_capacity(part.len());
                    for (i, (line, fields)) in part.into_iter().enumerate() {
                        out.push(fields.parse(line).and_then(|map| check_line(line, &map)));
                        if i % 10_000 == 9_999 {
                            let n = done.fetch_add(10_000, std::sync::atomic::Ordering::Relaxed) + 10_000;
                            progress.set(n);
                        }
                    }
                    out
                })
            })
            .collect();
        // A checking thread that panicked must not silently drop its lines.
        handles.into_iter().map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
    });
    let mut lines = Vec::with_capacity(total);
    let mut errors = Vec::new();
    for r in results.into_iter().flatten() {
        match r {
            Ok(l) => lines.push(l),
            Err(e) => errors.extend(e),
        }
    }
    (lines, errors)
}
