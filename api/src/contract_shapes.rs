//! The contract pass's shape rules: the organisation segment `{org_id}` is documented as an id or a
//! slug (`extract::OrgMember` resolves either), every RFC 3339 timestamp carries an example, and
//! job queues are the closed set `common::jobs::ALL_QUEUES`.

use serde_json::{Value, json};

/// The example every `date-time` schema shows.
pub const TIMESTAMP_EXAMPLE: &str = "2026-11-30T23:40:00Z";

/// Applies the shape rules to the whole document.
pub fn complete(doc: &mut Value) {
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for op in item.values_mut() {
                if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
                    params.iter_mut().for_each(org_segment);
                    if path.ends_with("/jobs") {
                        params
                            .iter_mut()
                            .filter(|p| p.get("name").and_then(Value::as_str) == Some("queue"))
                            .for_each(|p| p["schema"] = queues());
                    }
                }
            }
        }
    }
    if let Some(queue) = doc.pointer_mut("/components/schemas/JobOut/properties/queue") {
        *queue = queues();
    }
    timestamp_examples(doc);
}

/// The queue names, as a closed set.
fn queues() -> Value {
    let names: Vec<&str> = common::jobs::ALL_QUEUES.iter().map(|q| q.name).collect();
    json!({ "type": "string", "enum": names })
}

/// The `org_id` path parameter: an id or a slug.
fn org_segment(param: &mut Value) {
    let is_org = param.get("in").and_then(Value::as_str) == Some("path")
        && param.get("name").and_then(Value::as_str) == Some("org_id");
    if is_org {
        param["description"] = json!(
            "The organisation's id (a UUID) or its slug. An organisation the caller is not a \
             member of is 404, whichever is given."
        );
        param["schema"] = json!({ "type": "string", "minLength": 1, "maxLength": 64 });
        param["example"] = json!("acme");
    }
}

/// Adds the example to every `format: date-time` schema that has none.
fn timestamp_examples(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let is_time = map.get("format").and_then(Value::as_str) == Some("date-time");
            if is_time && !map.contains_key("example") && !map.contains_key("examples") {
                map.insert("example".into(), json!(TIMESTAMP_EXAMPLE));
            }
            map.values_mut().for_each(timestamp_examples);
        }
        Value::Array(items) => items.iter_mut().for_each(timestamp_examples),
        _ => {}
    }
}
