//! Custom metadata fields: `GET|PUT /api/v1/settings/metadata-fields`.

use axum::{Json, extract::State};
use usher_api_types::{MetadataFieldBody, MetadataFields, Problem};
use usher_core::access::policy::Operation;
use usher_core::metadata::{FieldType, MetadataField};
use usher_domain::{FieldError, Invalid};

use crate::{
    app::AppState,
    error::ApiResult,
    extract::{ApiJson, Authed, Ctx},
};

/// The API view of the field definitions.
pub fn fields_body(fields: Vec<MetadataField>) -> MetadataFields {
    MetadataFields {
        fields: fields
            .into_iter()
            .map(|f| MetadataFieldBody {
                name: f.name,
                label: f.label,
                kind: f.kind.as_str().to_owned(),
                required: f.required,
                options: f.options,
            })
            .collect(),
    }
}

/// Reads the definitions a client sent; unknown types are field errors.
fn fields_of(body: MetadataFields) -> Result<Vec<MetadataField>, Invalid> {
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for (i, f) in body.fields.into_iter().enumerate() {
        match FieldType::parse(f.kind.trim()) {
            Some(kind) => {
                out.push(MetadataField { name: f.name, label: f.label, kind, required: f.required, options: f.options })
            }
            None => errors.push(FieldError::new(
                &format!("fields[{i}].type"),
                "invalid",
                "The type is text, number, date, boolean or choice.",
            )),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(Invalid(errors)) }
}

/// The organization's custom metadata fields (Administrators and User Managers).
#[utoipa::path(get, path = "/settings/metadata-fields", tag = "settings", security(("session" = []), ("bearer" = [])),
    responses((status = 200, body = MetadataFields), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn get_metadata_fields(State(state): State<AppState>, Authed(me): Authed) -> ApiResult<Json<MetadataFields>> {
    Ok(Json(fields_body(state.usher.metadata_fields_for(&me).await?)))
}

/// Replace the organization's custom metadata fields (Administrators). Names are
/// unique (case-insensitively); a `choice` field lists its `options`. Values of a
/// removed field are kept but no longer shown, searched or exported.
#[utoipa::path(put, path = "/settings/metadata-fields", tag = "settings", security(("session" = []), ("bearer" = [])),
    request_body = MetadataFields,
    responses((status = 200, body = MetadataFields), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
pub async fn put_metadata_fields(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    ApiJson(body): ApiJson<MetadataFields>,
) -> ApiResult<Json<MetadataFields>> {
    let fields = fields_of(body).map_err(|e| super::bad_input(&me, Operation::ChangeSettings, e))?;
    Ok(Json(fields_body(state.usher.set_metadata_fields(&ctx, &me, fields).await?)))
}
