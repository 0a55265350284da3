//! The API's shared shapes as tests read them: a list page, a created id, a provider link, and the
//! `details.fields` of a validation error.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

/// A page of a list: `{items, next_cursor}`.
#[derive(Debug, Clone, Deserialize)]
pub struct Page<T = Value> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Anything the API answers with an `id` (a created resource, a started flow).
#[derive(Debug, Clone, Deserialize)]
pub struct Created {
    pub id: uuid::Uuid,
}

/// A provider link to send the browser to (`{url}`).
#[derive(Debug, Clone, Deserialize)]
pub struct Link {
    pub url: String,
}

/// Field → message of an error body's `details.fields` (`[{field, code, message}]`); panics when
/// an entry lacks any of the three, so every test reading fields also checks their shape.
pub fn field_errors(body: &Value) -> BTreeMap<String, String> {
    let list = body["error"]["details"]["fields"]
        .as_array()
        .unwrap_or_else(|| panic!("details.fields is not a list: {body}"));
    list.iter()
        .map(|f| {
            let text = |k: &str| {
                f[k].as_str()
                    .unwrap_or_else(|| panic!("field error without {k}: {f}"))
                    .to_owned()
            };
            assert!(!text("code").is_empty(), "empty code: {f}");
            (text("field"), text("message"))
        })
        .collect()
}

/// The code of the field error on `field`, if any.
pub fn field_code(body: &Value, field: &str) -> Option<String> {
    body["error"]["details"]["fields"]
        .as_array()?
        .iter()
        .find(|f| f["field"] == field)
        .and_then(|f| f["code"].as_str())
        .map(str::to_owned)
}
