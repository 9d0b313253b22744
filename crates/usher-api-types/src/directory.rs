//! Custom metadata fields (`/api/v1/settings/metadata-fields`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One custom metadata field of the organization.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MetadataFieldBody {
    /// What searches (`name:text`), the API and import files use: a letter, then
    /// letters, digits, `_` or `-`; case-sensitive.
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    /// What people read.
    #[schema(min_length = 1, max_length = 100)]
    pub label: String,
    /// `text`, `number`, `date` (`YYYY-MM-DD`), `boolean` or `choice`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub required: bool,
    /// The values a `choice` field allows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 200)]
    pub options: Vec<String>,
}

/// `GET|PUT /api/v1/settings/metadata-fields`: every field, in display order.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MetadataFields {
    #[schema(max_items = 50)]
    pub fields: Vec<MetadataFieldBody>,
}
