//! Custom metadata: fields an organization defines (name, label, type, required,
//! choices) and the values users carry for them, validated by type.
//!
//! The field definitions are one organization setting. Values live on the user as
//! a JSON object (`{name: value}`), and, case-folded as text, in a search table
//! that `field_name:text` searches use (see [`crate::directory`]).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use usher_domain::{FieldError, Invalid, OrgId, fold};

use crate::{
    Error, RequestContext, Result, Usher,
    access::policy::{self, Operation},
    audit::{Entry, action},
    auth::Principal,
};

/// A user's custom metadata values by field name.
pub type Metadata = serde_json::Map<String, Value>;

/// The settings key of the field definitions.
const METADATA_FIELDS: &str = "metadata_fields";

/// At most this many fields per organization.
pub const FIELDS_MAX: usize = 50;
/// Field names: a letter, then letters, digits, `_` or `-`, at most this long.
pub const NAME_MAX: usize = 64;
pub const LABEL_MAX: usize = 100;
pub const OPTIONS_MAX: usize = 200;
pub const OPTION_MAX: usize = 100;
/// A text value is at most this many characters.
pub const TEXT_MAX: usize = 1000;

/// The type of a custom field's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Text,
    Number,
    /// `YYYY-MM-DD`.
    Date,
    Boolean,
    /// One of the field's `options`.
    Choice,
}

impl FieldType {
    pub const ALL: [FieldType; 5] =
        [FieldType::Text, FieldType::Number, FieldType::Date, FieldType::Boolean, FieldType::Choice];

    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Number => "number",
            FieldType::Date => "date",
            FieldType::Boolean => "boolean",
            FieldType::Choice => "choice",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// One custom field. `name` is what searches (`name:text`), the API and import
/// files use; `label` is what people read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetadataField {
    pub name: String,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: FieldType,
    #[serde(default)]
    pub required: bool,
    /// The allowed values of a `choice` field, in display order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

/// Whether `s` has the shape of a field name (it may still be undefined).
pub fn is_field_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && s.len() <= NAME_MAX
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn text_ok(s: &str) -> bool {
    !s.chars().any(char::is_control)
}

/// Checks a whole set of definitions, reporting every problem at once under
/// `fields[i].name`, `fields[i].label`, ...
pub fn validate_fields(fields: Vec<MetadataField>) -> Result<Vec<MetadataField>, Invalid> {
    let mut errors = Vec::new();
    if fields.len() > FIELDS_MAX {
        errors.push(FieldError::new("fields", "too_many", format!("At most {FIELDS_MAX} fields.")));
    }
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(fields.len());
    for (i, mut f) in fields.into_iter().enumerate() {
        let at = |part: &str| format!("fields[{i}].{part}");
        f.name = f.name.trim().to_owned();
        f.label = f.label.trim().to_owned();
        if !is_field_name(&f.name) {
            errors.push(FieldError::new(
                &at("name"),
                "invalid",
                format!("A name starts with a letter, then letters, digits, _ or -, at most {NAME_MAX} characters."),
            ));
        } else if !seen.insert(f.name.to_lowercase()) {
            errors.push(FieldError::new(&at("name"), "duplicate", "Another field has this name."));
        }
        if f.label.is_empty() {
            errors.push(FieldError::new(&at("label"), "required", "The label is required."));
        } else if f.label.chars().count() > LABEL_MAX || !text_ok(&f.label) {
            errors.push(FieldError::new(
                &at("label"),
                "invalid",
                format!("At most {LABEL_MAX} characters, no control characters."),
            ));
        }
        f.options = f.options.iter().map(|o| o.trim().to_owned()).filter(|o| !o.is_empty()).collect();
        if f.kind == FieldType::Choice {
            let mut distinct = std::collections::HashSet::new();
            if f.options.is_empty() {
                errors.push(FieldError::new(&at("options"), "required", "A choice field needs options."));
            } else if f.options.len() > OPTIONS_MAX
                || f.options.iter().any(|o| o.chars().count() > OPTION_MAX || !text_ok(o))
            {
                errors.push(FieldError::new(
                    &at("options"),
                    "invalid",
                    format!("At most {OPTIONS_MAX} options of at most {OPTION_MAX} characters."),
                ));
            } else if !f.options.iter().all(|o| distinct.insert(o.as_str())) {
                errors.push(FieldError::new(&at("options"), "duplicate", "Each option may appear once."));
            }
        } else if !f.options.is_empty() {
            errors.push(FieldError::new(&at("options"), "invalid", "Only choice fields have options."));
        }
        out.push(f);
    }
    if errors.is_empty() { Ok(out) } else { Err(Invalid(errors)) }
}

/// One value, checked and normalized for its field: text and choices as strings,
/// numbers as JSON numbers, dates as `YYYY-MM-DD`, booleans as `true`/`false`.
/// Strings are accepted for every type (forms and CSV files send text).
/// `Ok(None)`: an empty value, i.e. none.
pub fn parse_value(field: &MetadataField, raw: &Value) -> Result<Option<Value>, FieldError> {
    let name = format!("metadata.{}", field.name);
    let bad = |msg: String| FieldError::new(&name, "invalid", msg);
    let text = match raw {
        Value::Null => return Ok(None),
        Value::String(s) => Some(s.trim()),
        _ => None,
    };
    if text == Some("") {
        return Ok(None);
    }
    match field.kind {
        FieldType::Text => match text {
            Some(s) if s.chars().count() <= TEXT_MAX && text_ok(s) => Ok(Some(Value::String(s.to_owned()))),
            Some(_) => Err(bad(format!("At most {TEXT_MAX} characters, no control characters."))),
            None => Err(bad(format!("{} is text.", field.label))),
        },
        FieldType::Number => {
            let n = match (raw, text) {
                (Value::Number(n), _) => n.as_f64(),
                (_, Some(s)) => s.parse::<f64>().ok(),
                _ => None,
            };
            match n.filter(|n| n.is_finite()) {
                Some(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => Ok(Some(json!(n as i64))),
                Some(n) => Ok(Some(json!(n))),
                None => Err(bad(format!("{} is a number.", field.label))),
            }
        }
        FieldType::Date => match text.and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()) {
            Some(d) => Ok(Some(Value::String(d.format("%Y-%m-%d").to_string()))),
            None => Err(bad(format!("{} is a date (YYYY-MM-DD).", field.label))),
        },
        FieldType::Boolean => match (raw, text.map(str::to_ascii_lowercase).as_deref()) {
            (Value::Bool(b), _) => Ok(Some(Value::Bool(*b))),
            (_, Some("true" | "yes" | "1" | "on")) => Ok(Some(Value::Bool(true))),
            (_, Some("false" | "no" | "0" | "off")) => Ok(Some(Value::Bool(false))),
            _ => Err(bad(format!("{} is true or false.", field.label))),
        },
        FieldType::Choice => match text {
            Some(s) if field.options.iter().any(|o| o == s) => Ok(Some(Value::String(s.to_owned()))),
            _ => Err(FieldError::new(
                &name,
                "not_an_option",
                format!("{} is one of: {}.", field.label, field.options.join(", ")),
            )),
        },
    }
}

/// Applies `input` (field name → value; `null` or empty removes) over `base` (the
/// user's current values, for an edit), keeping only defined fields, and checks
/// that required fields have a value. Errors are named `metadata.<field>`.
pub fn apply_values(fields: &[MetadataField], input: &Metadata, base: Option<&Metadata>) -> Result<Metadata, Invalid> {
    let mut errors = Vec::new();
    let mut out = Metadata::new();
    if let Some(base) = base {
        for f in fields {
            if let Some(v) = base.get(&f.name) {
                out.insert(f.name.clone(), v.clone());
            }
        }
    }
    for (name, raw) in input {
        match fields.iter().find(|f| &f.name == name) {
            None => errors.push(FieldError::new(
                &format!("metadata.{name}"),
                "unknown_field",
                format!("No custom field is named {name:?}."),
            )),
            Some(f) => match parse_value(f, raw) {
                Ok(Some(v)) => {
                    out.insert(name.clone(), v);
                }
                Ok(None) => {
                    out.remove(name);
                }
                Err(e) => errors.push(e),
            },
        }
    }
    for f in fields.iter().filter(|f| f.required) {
        if !out.contains_key(&f.name) && !errors.iter().any(|e| e.field == format!("metadata.{}", f.name)) {
            errors.push(FieldError::new(
                &format!("metadata.{}", f.name),
                "required",
                format!("{} is required.", f.label),
            ));
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(Invalid(errors)) }
}

/// A stored value as text: what searches match and what exports write.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The (field, case-folded text) pairs a search table holds for these values.
pub fn search_entries(values: &Metadata) -> Vec<(String, String)> {
    values.iter().map(|(k, v)| (k.clone(), fold(&value_text(v)))).collect()
}

impl Usher {
    /// The organization's custom fields, in display order.
    pub async fn metadata_fields(&self, org_id: OrgId) -> Result<Vec<MetadataField>> {
        match self.store.setting(org_id, METADATA_FIELDS).await? {
            Some(value) => serde_json::from_value(value.get("fields").cloned().unwrap_or(Value::Null))
                .map_err(|e| Error::internal(format!("stored metadata fields: {e}"))),
            None => Ok(Vec::new()),
        }
    }

    /// The custom fields as someone who manages users or settings reads them
    /// (scope `users:read` or `settings:read`): User Managers need them to edit users.
    pub async fn metadata_fields_for(&self, p: &Principal) -> Result<Vec<MetadataField>> {
        let manager = &policy::authorize(p, Operation::ReadMetadataFields)?;
        self.metadata_fields(manager.org_id()).await
    }

    /// Replaces the custom field definitions (Administrators, scope
    /// `settings:write`). Values of removed fields stay stored but are no longer
    /// shown, searched or exported.
    pub async fn set_metadata_fields(
        &self,
        ctx: &RequestContext,
        p: &Principal,
        fields: Vec<MetadataField>,
    ) -> Result<Vec<MetadataField>> {
        let admin = &policy::authorize(p, Operation::ChangeSettings)?;
        let fields = validate_fields(fields)?;
        let before = self.metadata_fields(admin.org_id()).await?;
        let value = json!({ "fields": fields });
        self.store.put_setting(admin.org_id(), METADATA_FIELDS, &value, self.now()).await?;
        let entry = Entry {
            org_id: admin.org_id(),
            action: action::METADATA_FIELDS_UPDATED,
            actor: Some(admin.user()),
            target: None,
            details: json!({ "before": before, "after": fields }),
        };
        self.audit(ctx, entry).await?;
        Ok(fields)
    }

    /// Checks custom metadata values for a user of `org_id` against the
    /// organization's fields: `input` applied over `base` (the current values,
    /// when editing), by type, with required fields present. The user
    /// services call this before [`Usher::store_user_metadata`].
    pub async fn validate_metadata(
        &self,
        org_id: OrgId,
        input: &Metadata,
        base: Option<&Metadata>,
    ) -> Result<Metadata> {
        let fields = self.metadata_fields(org_id).await?;
        Ok(apply_values(&fields, input, base)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str, kind: FieldType) -> MetadataField {
        MetadataField { name: name.into(), label: name.to_uppercase(), kind, required: false, options: vec![] }
    }

    #[test]
    fn definitions_report_every_problem() {
        let fields = vec![
            field("departments", FieldType::Text),
            field("Departments", FieldType::Text),
            field("9lives", FieldType::Number),
            MetadataField { label: " ".into(), ..field("level", FieldType::Choice) },
            MetadataField { options: vec!["a".into()], ..field("since", FieldType::Date) },
        ];
        let err = validate_fields(fields).unwrap_err();
        let got: Vec<_> = err.0.iter().map(|e| (e.field.as_str(), e.code.as_str())).collect();
        assert_eq!(
            got,
            [
                ("fields[1].name", "duplicate"),
                ("fields[2].name", "invalid"),
                ("fields[3].label", "required"),
                ("fields[3].options", "required"),
                ("fields[4].options", "invalid"),
            ]
        );
    }

    #[test]
    fn values_are_checked_and_normalized_by_type() {
        let fields = vec![
            field("departments", FieldType::Text),
            field("level", FieldType::Number),
            field("since", FieldType::Date),
            field("remote", FieldType::Boolean),
            MetadataField { options: vec!["A".into(), "B".into()], ..field("tier", FieldType::Choice) },
            MetadataField { required: true, ..field("site", FieldType::Text) },
        ];
        let input: Metadata = serde_json::from_value(json!({
            "departments": " NortheastSales ", "level": "3", "since": "2024-02-29", "remote": "yes",
            "tier": "B", "site": "Paris"
        }))
        .unwrap();
        let out = apply_values(&fields, &input, None).unwrap();
        assert_eq!(
            Value::Object(out.clone()),
            json!({"departments": "NortheastSales", "level": 3, "since": "2024-02-29", "remote": true,
                   "tier": "B", "site": "Paris"})
        );
        let bad: Metadata = serde_json::from_value(json!({
            "level": "three", "since": "2023-02-29", "remote": "maybe", "tier": "C", "colour": "red", "site": null
        }))
        .unwrap();
        let err = apply_values(&fields, &bad, Some(&out)).unwrap_err();
        let mut got: Vec<_> = err.0.iter().map(|e| (e.field.as_str(), e.code.as_str())).collect();
        got.sort();
        assert_eq!(
            got,
            [
                ("metadata.colour", "unknown_field"),
                ("metadata.level", "invalid"),
                ("metadata.remote", "invalid"),
                ("metadata.since", "invalid"),
                ("metadata.site", "required"),
                ("metadata.tier", "not_an_option"),
            ]
        );
        // An edit keeps what it does not name and removes what it clears.
        let patch: Metadata = serde_json::from_value(json!({ "departments": "", "level": 4.5 })).unwrap();
        let edited = apply_values(&fields, &patch, Some(&out)).unwrap();
        assert_eq!(edited.get("level"), Some(&json!(4.5)));
        assert!(!edited.contains_key("departments"));
        assert_eq!(edited.get("site"), Some(&json!("Paris")));
        assert_eq!(
            search_entries(&edited).into_iter().find(|(k, _)| k == "remote"),
            Some(("remote".into(), "true".into()))
        );
    }

    #[test]
    fn field_names_have_a_simple_shape() {
        for ok in ["departments", "cost_center", "Region-2"] {
            assert!(is_field_name(ok), "{ok}");
        }
        for bad in ["", "2fa", "a b", "dé", "a:b"] {
            assert!(!is_field_name(bad), "{bad}");
        }
    }
}
