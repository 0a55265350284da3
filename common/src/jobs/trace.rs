//! The request id a job was enqueued under, carried in its payload's `_meta` so one webhook or API
//! call can be followed in the logs from receipt through every job it (transitively) enqueues.

use std::future::Future;

use serde_json::Value;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The payload key holding job metadata; job types never use it (unknown keys are ignored on decode).
const META: &str = "_meta";
/// Longest request id carried (a client may choose its own `X-Request-Id`).
const MAX_LEN: usize = 128;

/// Runs `f` with `request_id` as the current request id: jobs pushed inside carry it.
pub async fn with_request_id<F: Future>(request_id: Option<String>, f: F) -> F::Output {
    let id: String = request_id
        .unwrap_or_default()
        .chars()
        .take(MAX_LEN)
        .collect();
    REQUEST_ID.scope(id, f).await
}

/// The request id of the request (or job) this task is running for, if any.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID
        .try_with(|id| id.clone())
        .ok()
        .filter(|id| !id.is_empty())
}

/// Adds `request_id` to a job payload (an object) before it is stored.
pub(super) fn attach(payload: &mut Value, request_id: Option<&str>) {
    if let (Some(id), Value::Object(map)) = (request_id, payload) {
        let id: String = id.chars().take(MAX_LEN).collect();
        map.insert(META.to_owned(), serde_json::json!({ "request_id": id }));
    }
}

/// Removes the metadata from a stored payload and returns its request id.
pub fn take_request_id(payload: &mut Value) -> Option<String> {
    let meta = payload.as_object_mut()?.remove(META)?;
    meta.get("request_id")?
        .as_str()
        .map(|s| s.chars().take(MAX_LEN).collect())
}
