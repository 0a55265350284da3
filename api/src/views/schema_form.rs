//! Forms generated from an integration type's JSON Schemas (never written per type): one labelled
//! input per property, named after it; secrets as password inputs that are never pre-filled;
//! defaults, enums as selects, descriptions as help text, and the API's per-field problems inline.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// Which part of the integration a field belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Config,
    Credentials,
}

impl Part {
    /// The prefix the API's problems use (`config.url`, `credentials.token`).
    fn prefix(self) -> &'static str {
        match self {
            Self::Config => "config",
            Self::Credentials => "credentials",
        }
    }
}

/// One input of a generated form.
#[derive(Debug, Clone)]
pub struct Field {
    /// The schema property (the input's `name` and `id`).
    pub name: String,
    pub label: String,
    /// `text`, `password`, `number`, `checkbox`, `select` or `textarea`.
    pub input: &'static str,
    pub options: Vec<String>,
    /// The value to show (always empty for a secret).
    pub value: String,
    pub help: String,
    pub required: bool,
    pub error: String,
    pub secret: bool,
}

impl Field {
    pub fn is_selected(&self, option: &str) -> bool {
        self.value == option
    }
}

/// A label from the property name (or the schema's `title`): `server_url` → `Server URL`.
fn label(name: &str, spec: &Value) -> String {
    if let Some(t) = spec["title"].as_str() {
        return t.to_owned();
    }
    name.split('_')
        .enumerate()
        .map(|(i, w)| match w {
            "url" | "id" | "api" => w.to_uppercase(),
            _ if i == 0 => {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect())
                    .unwrap_or_default()
            }
            _ => w.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Array(items) => items.iter().map(as_text).collect::<Vec<_>>().join("\n"),
        other => other.to_string(),
    }
}

/// The fields of one schema part. `values` are what was typed (secrets are ignored), `errors`
/// the API's problems keyed `config.x` / `credentials.x`.
pub fn fields(
    part: Part,
    schema: &Value,
    values: &BTreeMap<String, String>,
    errors: &BTreeMap<String, String>,
) -> Vec<Field> {
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(props) = schema["properties"].as_object() else {
        return Vec::new();
    };
    props
        .iter()
        .map(|(name, spec)| {
            let secret = part == Part::Credentials || spec["writeOnly"] == Value::Bool(true);
            let options: Vec<String> = spec["enum"]
                .as_array()
                .map(|e| e.iter().map(as_text).collect())
                .unwrap_or_default();
            // A long secret (a PEM bundle) keeps its lines in a textarea, never pre-filled; a
            // password input would strip them.
            let multi_line = spec["maxLength"].as_u64().is_some_and(|n| n > 16_384);
            let input = if secret && multi_line {
                "textarea"
            } else if secret {
                "password"
            } else if !options.is_empty() {
                "select"
            } else {
                match spec["type"].as_str() {
                    Some("integer" | "number") => "number",
                    Some("boolean") => "checkbox",
                    Some("array") => "textarea",
                    _ => "text",
                }
            };
            let value = if secret {
                String::new()
            } else {
                values
                    .get(name)
                    .cloned()
                    .unwrap_or_else(|| as_text(&spec["default"]))
            };
            Field {
                name: name.clone(),
                label: label(name, spec),
                input,
                options,
                value,
                help: spec["description"].as_str().unwrap_or_default().to_owned(),
                required: required.contains(&name.as_str()),
                error: errors
                    .get(&format!("{}.{name}", part.prefix()))
                    .cloned()
                    .unwrap_or_default(),
                secret,
            }
        })
        .collect()
}

/// The JSON object a part's inputs make: empty inputs are left out (so `required` speaks), numbers
/// and booleans typed when they parse (otherwise kept as text for the schema to refuse), arrays one
/// item per line.
pub fn object(schema: &Value, values: &BTreeMap<String, String>) -> Value {
    let mut out = Map::new();
    let Some(props) = schema["properties"].as_object() else {
        return Value::Object(out);
    };
    for (name, spec) in props {
        let raw = values.get(name).map(|v| v.trim()).unwrap_or_default();
        let kind = spec["type"].as_str();
        if kind == Some("boolean") {
            if !raw.is_empty() {
                out.insert(name.clone(), Value::Bool(true));
            }
            continue;
        }
        if raw.is_empty() {
            continue;
        }
        let value = match kind {
            Some("integer") => raw
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::String(raw.to_owned())),
            Some("number") => raw
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .unwrap_or_else(|| Value::String(raw.to_owned())),
            Some("array") => Value::Array(
                raw.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(|l| Value::String(l.to_owned()))
                    .collect(),
            ),
            _ => Value::String(raw.to_owned()),
        };
        out.insert(name.clone(), value);
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn labels_types_secrets_and_defaults_come_from_the_schema() {
        let schema = json!({"type": "object", "required": ["server_url"], "properties": {
            "server_url": {"type": "string", "description": "The server"},
            "method": {"enum": ["GET", "HEAD"], "default": "GET"},
            "expected_status": {"type": "integer"},
            "api_key": {"type": "string", "writeOnly": true},
            "ca_bundle": {"type": "string", "writeOnly": true, "maxLength": 65536}
        }});
        let mut typed = BTreeMap::new();
        typed.insert("api_key".to_owned(), "s3cret".to_owned());
        typed.insert("expected_status".to_owned(), "abc".to_owned());
        typed.insert("ca_bundle".to_owned(), "-----BEGIN".to_owned());
        let errors = BTreeMap::from([("config.server_url".to_owned(), "is required".to_owned())]);
        let f = fields(Part::Config, &schema, &typed, &errors);
        let by = |n: &str| f.iter().find(|x| x.name == n).expect("field").clone();
        assert_eq!(by("server_url").label, "Server URL");
        assert_eq!(by("server_url").error, "is required");
        assert!(by("server_url").required);
        assert_eq!(by("server_url").help, "The server");
        assert_eq!(
            (by("method").input, by("method").value.as_str()),
            ("select", "GET")
        );
        assert_eq!(by("expected_status").input, "number");
        let key = by("api_key");
        assert_eq!(
            (key.input, key.value.as_str()),
            ("password", ""),
            "never pre-filled"
        );
        let pem = by("ca_bundle");
        assert_eq!(
            (pem.input, pem.value.as_str()),
            ("textarea", ""),
            "lines kept, never pre-filled"
        );
        let obj = object(&schema, &typed);
        assert_eq!(
            obj,
            json!({"api_key": "s3cret", "expected_status": "abc", "ca_bundle": "-----BEGIN"})
        );
    }
}
