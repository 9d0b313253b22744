//! What `GET /api/v1/users` adds to a plain list: the `fields=` projection.

use serde_json::Value;
use usher_api_types::UserBody;
use usher_domain::Invalid;

/// The properties a user object has, which `fields=` may name.
pub const USER_FIELDS: [&str; 19] = [
    "id",
    "user_id",
    "email",
    "first_name",
    "last_name",
    "phone",
    "contact_person",
    "company",
    "language",
    "timezone",
    "status",
    "roles",
    "must_change_password",
    "password_changed_at",
    "created_at",
    "updated_at",
    "last_login_at",
    "metadata",
    "groups",
];

/// Reads `fields=a,b,c`: `None` means every property. `id` is always returned.
pub fn parse_fields(raw: Option<&str>) -> Result<Option<Vec<String>>, Invalid> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else { return Ok(None) };
    let mut out = vec!["id".to_owned()];
    for f in raw.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        if !USER_FIELDS.contains(&f) || f == "groups" {
            let names = USER_FIELDS[..18].join(", ");
            return Err(Invalid::one("fields", "invalid", format!("Unknown field {f:?}; the fields are {names}.")));
        }
        if !out.iter().any(|o| o == f) {
            out.push(f.to_owned());
        }
    }
    Ok(Some(out))
}

/// A user object with only the chosen properties.
pub fn project(body: UserBody, fields: Option<&[String]>) -> Value {
    let value = serde_json::to_value(body).unwrap_or(Value::Null);
    match (value, fields) {
        (Value::Object(map), Some(fields)) => {
            Value::Object(map.into_iter().filter(|(k, _)| fields.iter().any(|f| f == k)).collect())
        }
        (value, _) => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_checked_and_keep_the_id() {
        assert_eq!(parse_fields(None).unwrap(), None);
        assert_eq!(parse_fields(Some("email, metadata,email")).unwrap().unwrap(), ["id", "email", "metadata"]);
        assert_eq!(parse_fields(Some("password_hash")).unwrap_err().0[0].field, "fields");
    }
}
