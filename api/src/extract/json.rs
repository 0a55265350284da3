//! JSON bodies and query strings whose rejections use the error envelope, and a collector for
//! per-field validation errors (422 `validation_failed` with `details.fields`).

use std::collections::BTreeMap;

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Request},
    http::{HeaderMap, StatusCode, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{
    error::ApiError,
    fields::{self, FieldError},
};

/// `Json<T>` with envelope errors: 415 for a wrong content type, 400 for malformed JSON, 400
/// `invalid_characters` for a NUL character in any string or key, 422 for JSON of the wrong shape
/// (including any top-level value but an object).
pub struct ValidJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ValidJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the body as application/json.",
            ));
        }
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::from_status(e.status()))?;
        let value: Value = serde_json::from_slice(&body).map_err(|e| {
            if e.is_data() {
                shape_error("", &e.to_string())
            } else {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_json",
                    "The request body is not valid JSON.",
                )
            }
        })?;
        if has_nul(&value) {
            return Err(invalid_characters());
        }
        // Every request body is an object: serde would also read a struct from an array of its
        // fields in order (`[null, null]`), which no schema in the document allows.
        if !value.is_object() {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                "The request body must be a JSON object.",
            )
            .with_details(fields::details(vec![FieldError::new(
                "",
                "invalid_type",
                "The request body must be a JSON object.",
            )])));
        }
        serde_path_to_error::deserialize(value)
            .map(Self)
            .map_err(|e| shape_error(&e.path().to_string(), &e.inner().to_string()))
    }
}

/// 422 naming the field at fault (`path`), its code and a message chosen by the kind of failure.
fn shape_error(path: &str, raw: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        "The request body does not have the expected fields.",
    )
    .with_details(fields::details(vec![fields::from_serde(path, raw)]))
}

/// `application/json` or any `…+json` media type, as axum's `Json` accepts.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .is_some_and(|m| {
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
}

/// True when a NUL character appears in any string or object key (PostgreSQL text cannot hold
/// one, and no field of RepoPal's has a use for it).
pub fn has_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// 400 `invalid_characters`.
pub fn invalid_characters() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_characters",
        "The request contains a NUL character, which no field accepts.",
    )
}

/// Refuses a request whose path or query string decodes to a NUL character (400
/// `invalid_characters`), before any route sees it.
pub async fn refuse_nul_in_uri(req: Request, next: Next) -> Response {
    let uri = req.uri();
    let in_path = percent_decodes_to_nul(uri.path().as_bytes());
    let in_query = uri.query().is_some_and(|q| {
        url::form_urlencoded::parse(q.as_bytes()).any(|(k, v)| k.contains('\0') || v.contains('\0'))
    });
    if in_path || in_query {
        return invalid_characters().into_response();
    }
    next.run(req).await
}

fn percent_decodes_to_nul(raw: &[u8]) -> bool {
    raw.contains(&0) || raw.windows(3).any(|w| w == b"%00")
}

/// `Query<T>` with envelope errors (400 `invalid_query`).
pub struct ValidQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ValidQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de).map(Self).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                "The query string is not valid.",
            )
            .with_details(fields::details(vec![fields::from_serde(
                &e.path().to_string(),
                &e.inner().to_string(),
            )]))
        })
    }
}

/// Collects field errors; `finish` turns any into one 422.
#[derive(Default)]
pub struct FieldErrors(BTreeMap<&'static str, String>);

/// The code of a problem a handler's own check found.
const INVALID: &str = "invalid";

impl FieldErrors {
    /// Keeps the parsed value, or records the field's error.
    pub fn check<T>(&mut self, field: &'static str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.insert(field, e);
                None
            }
        }
    }

    /// Records an error when `ok` is false.
    pub fn require(&mut self, field: &'static str, ok: bool, message: &str) {
        if !ok {
            self.refuse(field, message);
        }
    }

    /// Records an error on `field`.
    pub fn refuse(&mut self, field: &'static str, message: &str) {
        self.0.insert(field, message.to_owned());
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            return Ok(());
        }
        Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "Some fields are not valid.",
        )
        .with_details(fields::details(
            self.0
                .into_iter()
                .map(|(field, message)| FieldError::new(field, INVALID, message))
                .collect(),
        )))
    }
}
