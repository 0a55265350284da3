//! The fake Slack's channels and history: `conversations.list` and `conversations.history`
//! (newest first, `oldest` exclusive, cursor pages, `metadata` only with `include_all_metadata`).

use std::collections::HashMap;

use axum::{
    Json,
    body::Bytes,
    extract::{RawQuery, State},
    http::HeaderMap,
    response::{IntoResponse, Response},
};
use base64::Engine;
use serde_json::{Value, json};

use super::{Inner, Shared, bearer, parse_form, slack_error};

/// A `ts` after every earlier one: the current second and a per-message sequence number.
pub(super) fn next_ts(seq: usize) -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    format!("{secs}.{:06}", seq % 1_000_000)
}

/// Slack's message metadata: `{"event_type": string, "event_payload": object}`.
pub(super) fn valid_metadata(m: &Value) -> bool {
    m.get("event_type").and_then(Value::as_str).is_some()
        && m.get("event_payload").is_some_and(Value::is_object)
}

/// The id of a channel given as an id or `#name`; a name gets an id on first use. `None` for
/// anything else.
pub(super) fn channel_id(inner: &mut Inner, channel: &str) -> Option<String> {
    if let Some(name) = channel.strip_prefix('#') {
        if name.is_empty() {
            return None;
        }
        let next = format!("C{:08X}", inner.channels.len() + 1);
        return Some(
            inner
                .channels
                .entry(name.to_owned())
                .or_insert(next)
                .clone(),
        );
    }
    let is_id = channel.len() > 2
        && matches!(channel.as_bytes()[0], b'C' | b'G')
        && channel[1..]
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    is_id.then(|| channel.to_owned())
}

/// The id of a channel that exists already (no id is assigned).
pub(super) fn existing_id(inner: &Inner, channel: &str) -> Option<String> {
    match channel.strip_prefix('#') {
        Some(name) => inner.channels.get(name).cloned(),
        None => Some(channel.to_owned()),
    }
}

/// Parameters from the query string and a form body, as Slack accepts both.
fn params(query: Option<&str>, body: &[u8]) -> HashMap<String, String> {
    let mut all = parse_form(body);
    if let Some(q) = query {
        all.extend(url::form_urlencoded::parse(q.as_bytes()).into_owned());
    }
    all
}

fn cursor_of(offset: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("offset:{offset}"))
}

fn offset_of(cursor: Option<&String>) -> Result<usize, ()> {
    let Some(cursor) = cursor.filter(|c| !c.is_empty()) else {
        return Ok(0);
    };
    let raw = base64::engine::general_purpose::STANDARD
        .decode(cursor)
        .map_err(|_| ())?;
    String::from_utf8(raw)
        .ok()
        .and_then(|s| s.strip_prefix("offset:").and_then(|n| n.parse().ok()))
        .ok_or(())
}

fn limit_of(p: &HashMap<String, String>, default: usize) -> usize {
    p.get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0)
        .unwrap_or(default)
        .min(999)
}

/// One page of `items` from `offset`, and the cursor of the next page ("" at the end).
fn page<T: Clone>(items: &[T], offset: usize, limit: usize) -> (Vec<T>, String) {
    let end = (offset + limit).min(items.len());
    let slice = items.get(offset..end).unwrap_or_default().to_vec();
    let next = if end < items.len() {
        cursor_of(end)
    } else {
        String::new()
    };
    (slice, next)
}

fn ts_value(ts: &str) -> f64 {
    ts.parse().unwrap_or(0.0)
}

/// `conversations.history`: the channel's messages, newest first.
pub(super) async fn conversations_history(
    State(s): State<Shared>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let p = params(query.as_deref(), &body);
    let mut inner = s.lock().expect("state");
    inner.record("conversations.history");
    if let Err(error) = inner.check_token(bearer(&headers)) {
        return slack_error(error);
    }
    let Some(channel) = p.get("channel").filter(|c| !c.is_empty()) else {
        return slack_error("channel_not_found");
    };
    // The method takes a channel id, never a `#name`.
    if channel.starts_with('#') || channel_id(&mut inner, channel).is_none() {
        return slack_error("channel_not_found");
    }
    let Ok(offset) = offset_of(p.get("cursor")) else {
        return slack_error("invalid_cursor");
    };
    let oldest = p.get("oldest").map_or(0.0, |o| ts_value(o));
    let inclusive = matches!(p.get("inclusive").map(String::as_str), Some("true" | "1"));
    let with_metadata = matches!(
        p.get("include_all_metadata").map(String::as_str),
        Some("true" | "1")
    );
    let newest_first: Vec<Value> = inner
        .history
        .get(channel)
        .map(|m| m.iter().rev().cloned().collect())
        .unwrap_or_default();
    let matching: Vec<Value> = newest_first
        .into_iter()
        .filter(|m| {
            let ts = ts_value(m["ts"].as_str().unwrap_or("0"));
            ts > oldest || (inclusive && ts == oldest)
        })
        .map(|mut m| {
            if !with_metadata && let Some(o) = m.as_object_mut() {
                o.remove("metadata");
            }
            m
        })
        .collect();
    let (messages, next) = page(&matching, offset, limit_of(&p, 100));
    Json(json!({
        "ok": true,
        "messages": messages,
        "has_more": !next.is_empty(),
        "pin_count": 0,
        "response_metadata": {"next_cursor": next},
    }))
    .into_response()
}

/// `conversations.list`: every channel the fake knows by name.
pub(super) async fn conversations_list(
    State(s): State<Shared>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let p = params(query.as_deref(), &body);
    let mut inner = s.lock().expect("state");
    inner.record("conversations.list");
    if let Err(error) = inner.check_token(bearer(&headers)) {
        return slack_error(error);
    }
    let Ok(offset) = offset_of(p.get("cursor")) else {
        return slack_error("invalid_cursor");
    };
    let mut channels: Vec<(String, String)> = inner
        .channels
        .iter()
        .map(|(name, id)| (id.clone(), name.clone()))
        .collect();
    channels.sort();
    let all: Vec<Value> = channels
        .into_iter()
        .map(|(id, name)| {
            let is_member = !inner.not_joined.contains(&id);
            json!({
                "id": id, "name": name, "is_channel": true, "is_group": false, "is_im": false,
                "is_private": false, "is_archived": false, "is_member": is_member, "is_general": false,
                "created": 1449252889, "name_normalized": name, "num_members": 4
            })
        })
        .collect();
    let (page_items, next) = page(&all, offset, limit_of(&p, 100));
    Json(json!({
        "ok": true,
        "channels": page_items,
        "response_metadata": {"next_cursor": next},
    }))
    .into_response()
}
