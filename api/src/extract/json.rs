//! JSON bodies and query strings whose rejections use the error envelope, and a collector for
//! per-field validation errors (422 `validation_failed` with `details.fields`).

use std::collections::BTreeMap;

use axum::{
    extract::{FromRequest, FromRequestParts, Query, Request, rejection::JsonRejection},
    http::{StatusCode, request::Parts},
};
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::error::ApiError;

/// `Json<T>` with envelope errors: 415 for a wrong content type, 400 for malformed JSON, 422 for
/// JSON of the wrong shape.
pub struct ValidJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ValidJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the body as application/json.",
            )),
            Err(JsonRejection::JsonDataError(e)) => Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                "The request body does not have the expected fields.",
            )
            .with_details(json!({ "reason": e.body_text() }))),
            Err(JsonRejection::JsonSyntaxError(_)) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                "The request body is not valid JSON.",
            )),
            Err(e) => Err(ApiError::from_status(e.status())),
        }
    }
}

/// `Query<T>` with envelope errors (400 `invalid_query`).
pub struct ValidQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ValidQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| Self(v))
            .map_err(|e| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_query",
                    "The query string is not valid.",
                )
                .with_details(json!({ "reason": e.body_text() }))
            })
    }
}

/// Collects field errors; `finish` turns any into one 422.
#[derive(Default)]
pub struct FieldErrors(BTreeMap<&'static str, String>);

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
            self.0.insert(field, message.to_owned());
        }
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
        .with_details(json!({ "fields": self.0 })))
    }
}
