//! The one shape of a validation error's `details`: `{"fields": [{"field", "code", "message"}]}`,
//! for bodies, query strings and the checks handlers make, never a deserializer's raw text.

use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

/// One field's problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field, as a dotted path into the body or the query parameter's name (`config.url`,
    /// `limit`); empty when the whole body is at fault.
    pub field: String,
    /// Stable: `required`, `unknown_field`, `invalid_type`, `invalid_value`, `out_of_range`,
    /// `invalid_cursor` or `invalid`.
    pub code: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

/// `{"fields": [...]}`, sorted by field so answers are stable.
pub fn details(mut fields: Vec<FieldError>) -> Value {
    fields.sort_by(|a, b| a.field.cmp(&b.field));
    json!({ "fields": fields })
}

/// A deserializer's failure at `path` (the dotted path `serde_path_to_error` found) as a field
/// error: the code and message are chosen from the kind of failure, so no input is echoed.
pub fn from_serde(path: &str, raw: &str) -> FieldError {
    let path = if path == "." { "" } else { path };
    // serde names the missing or unknown key between backticks; it lives one level below `path`.
    let named = || {
        raw.split('`')
            .nth(1)
            .map(|k| join(path, k))
            .unwrap_or_else(|| path.to_owned())
    };
    if raw.starts_with("missing field") {
        FieldError::new(named(), "required", "This field is required.")
    } else if raw.starts_with("unknown field") {
        FieldError::new(named(), "unknown_field", "This field is not accepted here.")
    } else if raw.starts_with("invalid type") {
        FieldError::new(path, "invalid_type", "This field has the wrong type.")
    } else if raw.starts_with("unknown variant") || raw.starts_with("invalid value") {
        FieldError::new(
            path,
            "invalid_value",
            "This value is not one of those accepted.",
        )
    } else if raw.starts_with("invalid length") {
        FieldError::new(path, "invalid_value", "This value has the wrong length.")
    } else if raw.contains("out of range") || raw.contains("too large") {
        FieldError::new(path, "out_of_range", "This number is out of range.")
    } else if raw.starts_with("duplicate field") {
        FieldError::new(named(), "invalid", "This field is given twice.")
    } else {
        FieldError::new(path, "invalid", "This value is not valid.")
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_failures_become_named_fields_without_the_input() {
        let e = from_serde(".", "missing field `email` at line 1 column 2");
        assert_eq!((e.field.as_str(), e.code.as_str()), ("email", "required"));
        let e = from_serde("config", "unknown field `x`, expected `url`");
        assert_eq!(
            (e.field.as_str(), e.code.as_str()),
            ("config.x", "unknown_field")
        );
        let e = from_serde("name", "invalid type: integer `7`, expected a string");
        assert_eq!(
            (e.field.as_str(), e.code.as_str()),
            ("name", "invalid_type")
        );
        assert!(!e.message.contains('7'));
        let e = from_serde("role", "unknown variant `boss`, expected one of `a`, `b`");
        assert_eq!(e.code, "invalid_value");
        assert!(!e.message.contains("boss"));
    }
}
