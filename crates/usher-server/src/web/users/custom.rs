//! The organization's custom metadata fields on the user forms: one input per
//! field, by type, with what was typed kept and the service's errors
//! (`metadata.<name>`) next to it; and the values as a reader sees them.
//!
//! Inputs are named `metadata.<name>` and have the id `metadata-<name>`. A
//! required yes/no field is a checkbox (`true` when ticked, nothing otherwise:
//! an unticked box is "no"); an optional one is a choice of none, yes and no, so
//! saving a form never sets a value nobody chose.

use std::collections::BTreeMap;

use serde_json::Value;
use usher_core::metadata::{FieldType, Metadata, MetadataField, value_text};
use usher_domain::FieldError;

use crate::web::{
    i18n::Tr,
    page::{Choice, FieldErrors},
};

/// The prefix of the inputs' names and of the service's error fields.
const PREFIX: &str = "metadata.";

/// The values of the custom fields as typed (or as stored), by field name.
#[derive(Debug, Default, Clone)]
pub struct Typed(BTreeMap<String, String>);

impl Typed {
    /// The stored values, as the inputs show them.
    pub fn of(values: &Metadata) -> Self {
        Self(values.iter().map(|(k, v)| (k.clone(), value_text(v))).collect())
    }

    /// Takes a posted pair if it is a custom field's; answers whether it was.
    pub fn take(&mut self, key: &str, value: &str) -> bool {
        match key.strip_prefix(PREFIX) {
            Some(name) => {
                self.0.insert(name.to_owned(), value.to_owned());
                true
            }
            None => false,
        }
    }

    fn get(&self, name: &str) -> &str {
        self.0.get(name).map_or("", String::as_str)
    }

    /// The values to check and save: every defined field, an empty one cleared,
    /// an unticked box (a required yes/no field) `false`. Posted names that are
    /// not fields are left out.
    pub fn patch(&self, fields: &[MetadataField]) -> Metadata {
        fields
            .iter()
            .map(|f| {
                let typed = self.get(&f.name);
                let value = match f.kind {
                    FieldType::Boolean if f.required => if typed == "true" { "true" } else { "false" }.to_owned(),
                    _ => typed.to_owned(),
                };
                (f.name.clone(), Value::String(value))
            })
            .collect()
    }
}

/// One custom field's input, as `custom_field` in `admin_user_custom.html` draws it.
#[derive(Debug, Clone)]
pub struct CustomInput {
    pub id: String,
    pub name: String,
    pub label: String,
    /// `text`, `number`, `date`, `checkbox` or `select`.
    pub kind: &'static str,
    pub value: String,
    pub required: bool,
    /// The options of a `select`, the current one selected.
    pub options: Vec<Choice>,
    pub errors: Vec<String>,
}

impl CustomInput {
    /// The id of the error list, when there are errors.
    pub fn described_by(&self) -> String {
        if self.errors.is_empty() { String::new() } else { format!("{}-error", self.id) }
    }
}

/// The inputs of `fields`, in their order, holding `typed`, with their `errors`.
pub fn inputs(t: Tr, fields: &[MetadataField], typed: &Typed, errors: &FieldErrors) -> Vec<CustomInput> {
    fields
        .iter()
        .map(|f| {
            let value = typed.get(&f.name).to_owned();
            let kind = match f.kind {
                FieldType::Text => "text",
                FieldType::Number => "number",
                FieldType::Date => "date",
                FieldType::Boolean if f.required => "checkbox",
                FieldType::Boolean | FieldType::Choice => "select",
            };
            let mut options = Vec::new();
            if f.kind == FieldType::Boolean && !f.required {
                let choice = |v: &str, key: &str| Choice {
                    value: v.to_owned(),
                    label: t.get(key).into_owned(),
                    selected: value == v,
                    lang: "",
                };
                options = vec![
                    choice("", "users.none"),
                    choice("true", "user_admin.custom.yes"),
                    choice("false", "user_admin.custom.no"),
                ];
            }
            if f.kind == FieldType::Choice {
                // Nothing is chosen silently: a required field starts empty too.
                if !f.required || !f.options.contains(&value) {
                    let none = t.get("users.none").into_owned();
                    options.push(Choice { value: String::new(), label: none, selected: value.is_empty(), lang: "" });
                }
                options.extend(f.options.iter().map(|o| Choice {
                    value: o.clone(),
                    label: o.clone(),
                    selected: *o == value,
                    lang: "",
                }));
            }
            CustomInput {
                id: format!("metadata-{}", f.name),
                name: format!("{PREFIX}{}", f.name),
                label: f.label.clone(),
                kind,
                value,
                required: f.required,
                options,
                errors: errors.get(&format!("{PREFIX}{}", f.name)).to_vec(),
            }
        })
        .collect()
}

/// Translated errors of a form with custom fields: the custom fields' in words
/// that fit their type, the others as every form translates them.
pub fn translate(t: Tr, fields: &[MetadataField], errors: &[FieldError]) -> FieldErrors {
    let mut out = FieldErrors::default();
    for e in errors {
        let field = e.field.strip_prefix(PREFIX).and_then(|name| fields.iter().find(|f| f.name == name));
        let message = match (field, e.code.as_str()) {
            (Some(_), "required") => t.get("errors.required").into_owned(),
            (Some(_), "not_an_option") => t.get("user_admin.custom.errors.choice").into_owned(),
            (Some(f), _) => t.get(&format!("user_admin.custom.errors.{}", f.kind.as_str())).into_owned(),
            (None, _) => t.field_error(e, None),
        };
        out.add(&e.field, message);
    }
    out
}

/// "Label: value" of every field, as a reader sees it: yes or no, a dash for none.
pub fn facts(t: Tr, fields: &[MetadataField], values: &Metadata) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|f| {
            let shown = match values.get(&f.name) {
                None | Some(Value::Null) => t.get("users.none").into_owned(),
                Some(Value::Bool(b)) => {
                    t.get(if *b { "user_admin.custom.yes" } else { "user_admin.custom.no" }).into_owned()
                }
                Some(v) => value_text(v),
            };
            (f.label.clone(), shown)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use usher_domain::Language;

    use super::*;

    fn fields() -> Vec<MetadataField> {
        let field = |name: &str, kind, required| MetadataField {
            name: name.into(),
            label: name.to_uppercase(),
            kind,
            required,
            options: if kind == FieldType::Choice { vec!["Gold".into(), "Silver".into()] } else { vec![] },
        };
        vec![
            field("dept", FieldType::Text, false),
            field("level", FieldType::Number, false),
            field("remote", FieldType::Boolean, false),
            field("tier", FieldType::Choice, true),
        ]
    }

    #[test]
    fn posted_values_become_a_patch_of_every_field() {
        let mut typed = Typed::default();
        assert!(typed.take("metadata.level", " 3 "));
        assert!(typed.take("metadata.colour", "red"));
        assert!(!typed.take("first_name", "Ada"));
        let patch = typed.patch(&fields());
        assert_eq!(
            Value::Object(patch),
            json!({ "dept": "", "level": " 3 ", "remote": "", "tier": "" }),
            "unknown names are dropped, an optional yes/no left unset stays unset"
        );
        let stored: Metadata = serde_json::from_value(json!({ "level": 4.5, "remote": true })).unwrap();
        assert_eq!(Typed::of(&stored).get("level"), "4.5");
        assert_eq!(Typed::of(&stored).patch(&fields())["remote"], json!("true"));
    }

    #[test]
    fn inputs_follow_the_types_and_show_their_errors() {
        let t = Tr(Language::En);
        let errors = translate(
            t,
            &fields(),
            &[FieldError::new("metadata.level", "invalid", "x"), FieldError::new("metadata.tier", "required", "x")],
        );
        let mut typed = Typed::default();
        typed.take("metadata.level", "three");
        let inputs = inputs(t, &fields(), &typed, &errors);
        let kinds: Vec<_> = inputs.iter().map(|i| (i.id.as_str(), i.kind)).collect();
        assert_eq!(
            kinds,
            [
                ("metadata-dept", "text"),
                ("metadata-level", "number"),
                ("metadata-remote", "select"),
                ("metadata-tier", "select")
            ]
        );
        assert_eq!((inputs[1].value.as_str(), inputs[1].described_by().as_str()), ("three", "metadata-level-error"));
        assert_eq!(inputs[1].errors, [t.get("user_admin.custom.errors.number").into_owned()]);
        assert_eq!(inputs[3].errors, [t.get("errors.required").into_owned()]);
        assert_eq!(inputs[3].options.len(), 3, "an empty choice while none is chosen");
        typed.take("metadata.tier", "Gold");
        let inputs = super::inputs(t, &fields(), &typed, &FieldErrors::default());
        assert_eq!(inputs[3].options.len(), 2, "a required choice, once made, cannot be emptied");
        assert!(inputs[3].options[0].selected && inputs[0].described_by().is_empty());
    }

    #[test]
    fn values_read_as_words() {
        let t = Tr(Language::En);
        let values: Metadata = serde_json::from_value(json!({ "remote": false, "level": 7 })).unwrap();
        let shown = facts(t, &fields(), &values);
        assert_eq!(shown[1], ("LEVEL".to_owned(), "7".to_owned()));
        assert_eq!(shown[2].1, t.get("user_admin.custom.no"));
        assert_eq!(shown[0].1, t.get("users.none"));
    }

    #[test]
    fn every_message_has_words_in_every_language() {
        for lang in Language::ALL {
            let t = Tr(lang);
            for key in ["heading", "yes", "no", "errors.choice"] {
                assert!(t.try_get(&format!("user_admin.custom.{key}")).is_some(), "{lang}: {key}");
            }
            for kind in FieldType::ALL {
                assert!(
                    t.try_get(&format!("user_admin.custom.errors.{}", kind.as_str())).is_some(),
                    "{lang}: {kind:?}"
                );
            }
        }
    }
}
