//! The custom metadata fields page (Administrators): each field's name, label,
//! type, whether it is required, and a choice field's options. One form holds
//! every field plus a few empty rows to add new ones.

use askama::Template;
use axum::{
    Form,
    extract::{State, rejection::FormRejection},
    http::StatusCode,
};
use serde::Deserialize;
use usher_core::{
    Error,
    access::policy::{self, Operation},
    metadata::{FieldType, MetadataField},
};

use super::page::{CsrfForm, SignedIn, WebQuery, WebResult, render, see_other};
use crate::{app::AppState, extract::Ctx};

/// Empty rows offered for new fields.
const NEW_ROWS: usize = 3;

/// One row of the form, as shown or as posted.
#[derive(Debug, Clone, Default)]
pub struct FieldRow {
    pub name: String,
    pub label: String,
    pub kind: String,
    pub required: bool,
    /// Options separated by `;`.
    pub options: String,
    pub remove: bool,
    pub errors: Vec<String>,
}

/// A type of the select, with its label.
pub struct TypeChoice {
    pub value: &'static str,
    pub label: String,
}

#[derive(Template)]
#[template(path = "admin_metadata.html")]
struct MetadataPage {
    l: super::page::Layout,
    csrf: String,
    saved: bool,
    summary: bool,
    rows: Vec<FieldRow>,
    types: Vec<TypeChoice>,
    /// Administrators change the fields; User Managers read them.
    may_edit: bool,
}

/// The form as posted: `name_3`, `label_3`, `type_3`, `required_3`, `options_3`, `remove_3`, ...
#[derive(Debug, Default, Deserialize)]
#[serde(from = "Vec<(String, String)>")]
pub struct MetadataForm {
    csrf_token: String,
    rows: Vec<FieldRow>,
}

impl From<Vec<(String, String)>> for MetadataForm {
    fn from(pairs: Vec<(String, String)>) -> Self {
        let mut form = Self::default();
        for (key, value) in pairs {
            if key == "csrf_token" {
                form.csrf_token = value;
                continue;
            }
            let Some((field, index)) = key.rsplit_once('_') else { continue };
            let Ok(i) = index.parse::<usize>() else { continue };
            if i >= 200 {
                continue;
            }
            if form.rows.len() <= i {
                form.rows.resize(i + 1, FieldRow::default());
            }
            let row = &mut form.rows[i];
            match field {
                "name" => row.name = value,
                "label" => row.label = value,
                "type" => row.kind = value,
                "required" => row.required = true,
                "options" => row.options = value,
                "remove" => row.remove = true,
                _ => {}
            }
        }
        form
    }
}

impl CsrfForm for MetadataForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

fn row_of(f: &MetadataField) -> FieldRow {
    FieldRow {
        name: f.name.clone(),
        label: f.label.clone(),
        kind: f.kind.as_str().to_owned(),
        required: f.required,
        options: f.options.join("; "),
        ..FieldRow::default()
    }
}

fn page(me: &SignedIn, mut rows: Vec<FieldRow>, saved: bool, summary: bool) -> MetadataPage {
    let t = me.t();
    let may_edit = policy::permits(&me.0, Operation::ChangeSettings);
    if may_edit {
        rows.extend(std::iter::repeat_n(FieldRow { kind: "text".into(), ..FieldRow::default() }, NEW_ROWS));
    }
    MetadataPage {
        l: me.layout("directory.metadata_title", "metadata"),
        csrf: me.nav().csrf,
        saved,
        summary,
        rows,
        types: FieldType::ALL
            .iter()
            .map(|k| TypeChoice {
                value: k.as_str(),
                label: t.get(&format!("directory.types.{}", k.as_str())).into_owned(),
            })
            .collect(),
        may_edit,
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct MetadataQuery {
    saved: Option<String>,
}

/// `GET /admin/settings/metadata-fields`.
pub async fn metadata_page(
    State(state): State<AppState>,
    me: SignedIn,
    WebQuery(q): WebQuery<MetadataQuery>,
) -> WebResult {
    let admin = &me.0;
    let fields = state.usher.metadata_fields_for(admin).await.map_err(|e| me.core_error(e))?;
    Ok(render(StatusCode::OK, &page(&me, fields.iter().map(row_of).collect(), q.saved.is_some(), false)))
}

/// `POST /admin/settings/metadata-fields`: replaces every field; empty rows are
/// ignored, ticked "remove" rows dropped.
pub async fn save_metadata(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    me: SignedIn,
    form: Result<Form<MetadataForm>, FormRejection>,
) -> WebResult {
    let admin = &me.0;
    let form = me.accept(form)?;
    me.refused_unless(Operation::ChangeSettings)?;
    let t = me.t();
    let mut rows: Vec<FieldRow> =
        form.rows.into_iter().filter(|r| !(r.name.trim().is_empty() && r.label.trim().is_empty())).collect();
    let kept: Vec<usize> = (0..rows.len()).filter(|&i| !rows[i].remove).collect();
    let mut fields = Vec::new();
    let mut bad_type = false;
    for &i in &kept {
        let r = &mut rows[i];
        let kind = FieldType::parse(r.kind.trim()).unwrap_or_else(|| {
            bad_type = true;
            r.errors.push(t.get("directory.bad_type").into_owned());
            FieldType::Text
        });
        let options = r.options.split(';').map(|o| o.trim().to_owned()).filter(|o| !o.is_empty()).collect();
        fields.push(MetadataField {
            name: r.name.clone(),
            label: r.label.clone(),
            kind,
            required: r.required,
            options,
        });
    }
    if bad_type {
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page(&me, rows, false, true)));
    }
    match state.usher.set_metadata_fields(&ctx, admin, fields).await {
        Ok(_) => Ok(see_other("/admin/settings/metadata-fields?saved=1")),
        Err(Error::Invalid(invalid)) => {
            for e in invalid.0 {
                // fields[3].name → the fourth kept row.
                let index = e
                    .field
                    .strip_prefix("fields[")
                    .and_then(|r| r.split_once(']'))
                    .and_then(|(i, _)| i.parse::<usize>().ok())
                    .and_then(|i| kept.get(i).copied());
                let part = e.field.rsplit('.').next().unwrap_or("fields");
                let key = format!("directory.errors.{part}_{}", e.code);
                let message = t.try_get(&key).map_or(e.message, |m| m.into_owned());
                match index {
                    Some(i) => rows[i].errors.push(message),
                    None => rows.first_mut().into_iter().for_each(|r| r.errors.push(message.clone())),
                }
            }
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page(&me, rows, false, true)))
        }
        Err(e) => Err(me.core_error(e)),
    }
}

#[cfg(test)]
mod tests {
    use usher_domain::Language;

    use super::*;
    use crate::web::i18n::Tr;

    #[test]
    fn rows_are_read_by_index() {
        let form = MetadataForm::from(vec![
            ("csrf_token".into(), "x".into()),
            ("name_1".into(), "level".into()),
            ("type_1".into(), "number".into()),
            ("required_1".into(), "on".into()),
            ("name_0".into(), "departments".into()),
            ("options_0".into(), "a; b".into()),
            ("name_9999".into(), "ignored".into()),
        ]);
        assert_eq!(form.rows.len(), 2);
        assert_eq!((form.rows[0].name.as_str(), form.rows[0].options.as_str()), ("departments", "a; b"));
        assert!(form.rows[1].required && form.rows[1].kind == "number");
    }

    #[test]
    fn every_type_has_words_in_every_language() {
        for lang in Language::ALL {
            for k in FieldType::ALL {
                assert!(Tr(lang).try_get(&format!("directory.types.{}", k.as_str())).is_some(), "{lang}: {k:?}");
            }
        }
    }
}
