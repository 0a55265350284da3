//! The contract pass: completes the generated OpenAPI document with what every route shares (the
//! success envelope, the error answers its extractors and layers give, response descriptions), so
//! each route's annotation only names what is particular to it.
//!
//! The rules, from the code that answers:
//! - every 2xx JSON body is wrapped as `{"success": true, "data": T}` (`error::Envelope`);
//! - a route with `security` answers 401 (`extract::CurrentUser`);
//! - a route under `/orgs/{org_id}` answers 403 and 404 (`extract::OrgMember`); any path id 404;
//! - a route with a request body answers 400, 413, 415 and 422 (`extract::ValidJson`, body limit);
//! - a route with query parameters answers 400 `invalid_query` (`extract::ValidQuery`);
//! - every route answers 400 `invalid_characters` (`extract::refuse_nul_in_uri`), 504 `timeout`
//!   (the request timeout) and, when it reads the database, 503 `database_unavailable`;
//! - the credential routes of `rate_limit::LIMITED` answer 429 `rate_limited`.

use serde_json::{Map, Value, json};
use utoipa::openapi::OpenApi;

const ERROR_SCHEMA: &str = "#/components/schemas/ErrorEnvelope";
const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];
/// Routes that answer without the database.
const NO_DATABASE: &[&str] = &["/healthz", "/metrics"];

/// The document with the shared answers filled in, as served.
pub fn complete(doc: OpenApi) -> Value {
    let mut value = serde_json::to_value(&doc).unwrap_or_default();
    complete_paths(&mut value);
    crate::contract_shapes::complete(&mut value);
    value
}

fn complete_paths(value: &mut Value) {
    if let Some(paths) = value.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, op) in item.iter_mut() {
                if METHODS.contains(&method.as_str()) {
                    complete_operation(path, op);
                }
            }
        }
    }
}

fn complete_operation(path: &str, op: &mut Value) {
    let protected = op
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|s| !s.is_empty());
    let params = op.get("parameters").and_then(Value::as_array);
    let has = |place: &str| {
        params.is_some_and(|ps| {
            ps.iter()
                .any(|p| p.get("in").and_then(Value::as_str) == Some(place))
        })
    };
    let (in_path, in_query) = (has("path"), has("query"));
    let has_body = op.get("requestBody").is_some();
    let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
        return;
    };
    for (status, response) in responses.iter_mut() {
        if status.starts_with('2') {
            envelope(response);
        }
        if response
            .get("description")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            response["description"] = Value::String(default_description(status).to_owned());
        }
    }
    let mut shared: Vec<(&str, &str)> = Vec::new();
    let mut add = |status, description| shared.push((status, description));
    add(
        "400",
        "invalid_characters: a NUL character in the path or query string",
    );
    if protected {
        add("401", "unauthorized: no valid access token");
    }
    if path.contains("{org_id}") {
        add(
            "403",
            "forbidden: the caller's role in the organisation does not allow this",
        );
    }
    if in_path {
        add(
            "404",
            "not_found: no such resource (or not visible to the caller)",
        );
    }
    if in_query {
        add(
            "400",
            "invalid_query: a query parameter is malformed or out of range",
        );
    }
    if has_body {
        add("400", "invalid_json: the body is not JSON");
        add(
            "413",
            "payload_too_large: the body exceeds BODY_LIMIT_BYTES",
        );
        add(
            "415",
            "unsupported_media_type: the body is not application/json",
        );
        add("422", "validation_failed: details name the failing fields");
    }
    if crate::rate_limit::LIMITED.contains(&path) {
        add(
            "429",
            "rate_limited: too many requests from this address (AUTH_RATE_LIMIT_PER_MINUTE)",
        );
    }
    if !NO_DATABASE.contains(&path) {
        add(
            "503",
            "database_unavailable or server_busy: try again after Retry-After seconds",
        );
    }
    add(
        "504",
        "timeout: the request took longer than REQUEST_TIMEOUT_SECS",
    );
    let mut statuses: Vec<&str> = shared.iter().map(|(s, _)| *s).collect();
    statuses.sort_unstable();
    statuses.dedup();
    for status in statuses {
        let description: Vec<&str> = shared
            .iter()
            .filter(|(s, _)| *s == status)
            .map(|(_, d)| *d)
            .collect();
        let entry = responses.entry(status.to_owned()).or_insert_with(|| {
            json!({
                "description": description.join("; "),
                "content": { "application/json": { "schema": { "$ref": ERROR_SCHEMA } } },
            })
        });
        headers(status, entry);
    }
}

/// Wraps a JSON success body in `{"success": true, "data": …}`.
fn envelope(response: &mut Value) {
    let Some(media) = response
        .get_mut("content")
        .and_then(|c| c.get_mut("application/json"))
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let data = media.remove("schema").unwrap_or(json!({}));
    let mut properties = Map::new();
    properties.insert(
        "success".into(),
        json!({ "type": "boolean", "enum": [true] }),
    );
    properties.insert("data".into(), data);
    media.insert(
        "schema".into(),
        json!({ "type": "object", "required": ["success", "data"], "properties": properties }),
    );
}

/// `Retry-After` on 429 and 503, `WWW-Authenticate` on 401 (`error::ApiError`).
fn headers(status: &str, response: &mut Value) {
    let (name, description) = match status {
        "401" => ("WWW-Authenticate", "Always `Bearer`."),
        "429" | "503" => ("Retry-After", "Seconds to wait before trying again."),
        _ => return,
    };
    let schema = if name == "Retry-After" {
        json!({ "type": "integer", "minimum": 1 })
    } else {
        json!({ "type": "string" })
    };
    response["headers"][name] = json!({ "description": description, "schema": schema });
}

fn default_description(status: &str) -> &'static str {
    match status {
        "200" => "Success",
        "201" => "Created",
        "202" => "Accepted: the work is queued",
        "204" => "Done; no body",
        "302" | "303" => "Redirect",
        "400" => "bad_request: the request is malformed",
        "401" => "unauthorized: no valid access token",
        "403" => "forbidden: not allowed",
        "404" => "not_found: no such resource",
        "409" => "conflict: the resource's state does not allow this",
        "422" => "validation_failed: details name the failing fields",
        "429" => "rate_limited: slow down",
        "502" => "upstream_error: a provider did not answer as expected",
        "503" => "unavailable: try again shortly",
        _ => "See the error code",
    }
}
