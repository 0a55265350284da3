//! Query checks shared by list endpoints: a bounded `limit`, enumerated filters, and an opaque
//! `{micros}_{uuid}` cursor over (time, id), newest first.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    error::ApiError,
    fields::{self, FieldError},
};

/// 400 `invalid_query` naming the parameter at fault in `details.fields`.
pub fn bad_query(field: &str, code: &str, message: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", message)
        .with_details(fields::details(vec![FieldError::new(field, code, message)]))
}

/// `raw`, or `default`, checked to be within 1..=`max`.
pub fn limit(raw: Option<i64>, default: i64, max: i64) -> Result<i64, ApiError> {
    let limit = raw.unwrap_or(default);
    if (1..=max).contains(&limit) {
        Ok(limit)
    } else {
        Err(bad_query(
            "limit",
            "out_of_range",
            &format!("limit must be between 1 and {max}"),
        ))
    }
}

/// A filter that must be one of `allowed` when given.
pub fn one_of(field: &str, value: Option<&str>, allowed: &[&str]) -> Result<(), ApiError> {
    match value {
        Some(v) if !allowed.contains(&v) => Err(bad_query(
            field,
            "invalid_value",
            &format!("{field} must be one of {}", allowed.join(", ")),
        )),
        _ => Ok(()),
    }
}

/// Parses an optional query value of a closed set, naming the allowed values when it is outside.
pub fn parse_set<T>(field: &str, value: Option<&str>) -> Result<Option<T>, ApiError>
where
    T: std::str::FromStr<Err = common::domain::NotInSet>,
{
    value
        .map(|v| {
            v.parse()
                .map_err(|e| bad_query(field, "invalid_value", &format!("{field} {e}")))
        })
        .transpose()
}

/// 400 `invalid_query`: the cursor is not one this server handed out.
pub fn bad_cursor() -> ApiError {
    bad_query(
        "cursor",
        "invalid_cursor",
        "cursor is not valid: pass back a next_cursor exactly as it was given",
    )
}

/// Decodes a `next_cursor` given back by the client.
pub fn time_cursor(raw: Option<&str>) -> Result<Option<(DateTime<Utc>, Uuid)>, ApiError> {
    raw.map(|c| {
        c.split_once('_')
            .and_then(|(at, id)| {
                let at = DateTime::from_timestamp_micros(at.parse().ok()?)?;
                // Only times this server hands out (and PostgreSQL can compare).
                (1..=9999)
                    .contains(&chrono::Datelike::year(&at))
                    .then_some(())?;
                Some((at, id.parse().ok()?))
            })
            .ok_or_else(bad_cursor)
    })
    .transpose()
}

/// Decodes an id cursor (the audit log pages by entry id).
pub fn id_cursor(raw: Option<&str>) -> Result<Option<i64>, ApiError> {
    raw.map(|c| c.parse::<i64>().map_err(|_| bad_cursor()))
        .transpose()
}

/// Cuts `items` (fetched with `limit + 1`) to `limit` and returns the cursor of the next page.
pub fn page<T>(
    mut items: Vec<T>,
    limit: i64,
    key: impl Fn(&T) -> (DateTime<Utc>, Uuid),
) -> (Vec<T>, Option<String>) {
    let limit = usize::try_from(limit).unwrap_or(0);
    let more = items.len() > limit;
    items.truncate(limit);
    let next = if more {
        items.last().map(|i| {
            let (at, id) = key(i);
            format!("{}_{id}", at.timestamp_micros())
        })
    } else {
        None
    };
    (items, next)
}
