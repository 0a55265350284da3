//! `ApiError`, the API boundary's error, and the JSON envelopes every response uses:
//! `{"success": true, "data": …}` and `{"success": false, "error": {"code", "message", "details"}}`.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

/// A failed request: an HTTP status, a stable machine-readable code and a human message.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Option<Value>,
    /// Sent as `Retry-After` (seconds) with 429 and 503 answers.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: None,
            retry_after: None,
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "The requested resource does not exist.",
        )
    }

    /// 503 `server_busy` with `Retry-After`: a bounded resource is saturated, try again shortly.
    pub fn busy(retry_after_secs: u64) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "server_busy",
            "The server is busy; try again shortly.",
        );
        e.retry_after = Some(retry_after_secs.max(1));
        e
    }

    /// 503 `database_unavailable` with `Retry-After`: the database cannot be reached right now
    /// (the process's database watcher logs the cause once; see `common::db_status`).
    pub fn database_unavailable() -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            "The database is temporarily unavailable; try again shortly.",
        );
        e.retry_after = Some(2);
        e
    }

    /// An unexpected failure: the cause is logged once here and never shown to the client.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Something went wrong on our side.",
        )
    }

    /// The stable code and default message used for a bare status (e.g. from a tower layer).
    pub fn from_status(status: StatusCode) -> Self {
        let (code, message) = match status {
            StatusCode::BAD_REQUEST => ("bad_request", "The request is malformed."),
            StatusCode::UNAUTHORIZED => ("unauthorized", "Authentication is required."),
            StatusCode::FORBIDDEN => ("forbidden", "You are not allowed to do this."),
            StatusCode::NOT_FOUND => ("not_found", "The requested resource does not exist."),
            StatusCode::METHOD_NOT_ALLOWED => (
                "method_not_allowed",
                "This method is not allowed on this resource.",
            ),
            StatusCode::REQUEST_TIMEOUT => ("request_timeout", "The request took too long."),
            StatusCode::PAYLOAD_TOO_LARGE => {
                ("payload_too_large", "The request body is too large.")
            }
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (
                "unsupported_media_type",
                "The request body has an unsupported content type.",
            ),
            StatusCode::UNPROCESSABLE_ENTITY => {
                ("validation_failed", "The request body is not valid.")
            }
            StatusCode::TOO_MANY_REQUESTS => ("rate_limited", "Too many requests; slow down."),
            StatusCode::SERVICE_UNAVAILABLE => {
                ("unavailable", "The service is temporarily unavailable.")
            }
            StatusCode::GATEWAY_TIMEOUT => ("timeout", "The request timed out."),
            s if s.is_server_error() => ("internal_error", "Something went wrong on our side."),
            _ => ("bad_request", "The request could not be processed."),
        };
        Self::new(status, code, message)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl From<common::Error> for ApiError {
    fn from(e: common::Error) -> Self {
        use common::Error as E;
        match e {
            E::NotFound => Self::not_found(),
            E::Invalid(msg) => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", msg)
            }
            E::InvalidFields(fields) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                "Some fields are not valid.",
            )
            .with_details(crate::fields::details(
                fields
                    .iter()
                    .map(|(f, p)| crate::fields::FieldError::new(f.clone(), "invalid", p.clone()))
                    .collect(),
            )),
            E::Conflict { code, message } => Self::new(StatusCode::CONFLICT, code, message),
            E::Unauthorized { code, message } => Self::new(StatusCode::UNAUTHORIZED, code, message),
            E::Forbidden { code, message } => Self::new(StatusCode::FORBIDDEN, code, message),
            E::Rejected { code, message } => Self::new(StatusCode::BAD_REQUEST, code, message),
            E::DestinationNotAllowed { field, message } => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "destination_not_allowed",
                message.clone(),
            )
            .with_details(crate::fields::details(vec![
                crate::fields::FieldError::new(field, "destination_not_allowed", message),
            ])),
            E::Locked { retry_after_secs } => {
                let mut e = Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "account_locked",
                    "Too many failed sign-in attempts; try again later.",
                );
                e.retry_after = Some(retry_after_secs);
                e
            }
            E::Busy { retry_after_secs } => Self::busy(retry_after_secs),
            E::UpstreamRateLimited {
                provider,
                retry_after_secs,
            } => {
                let mut e = Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "upstream_rate_limited",
                    format!("{provider} asks RepoPal to slow down; try again later."),
                )
                .with_details(json!({ "provider": provider }));
                e.retry_after = Some(retry_after_secs.max(1));
                e
            }
            other if other.is_database_unavailable() => {
                tracing::debug!(error = %other, "database unavailable");
                Self::database_unavailable()
            }
            E::Upstream { provider, message } => {
                tracing::warn!(provider = %provider, error = %message, "upstream provider failed");
                Self::new(
                    StatusCode::BAD_GATEWAY,
                    "upstream_error",
                    format!("{provider} did not answer as expected."),
                )
                .with_details(json!({ "provider": provider }))
            }
            other if other.is_data_exception() => {
                tracing::warn!(error = %other, "the database refused a value from the request");
                Self::new(
                    StatusCode::BAD_REQUEST,
                    "value_out_of_range",
                    "A value in the request is outside the range RepoPal can store or compare.",
                )
            }
            other => Self::internal(&other),
        }
    }
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorEnvelope {
    /// Always `false`.
    pub success: bool,
    pub error: ErrorBody,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `not_found`, `validation_failed`, `internal_error`.
    pub code: String,
    pub message: String,
    /// Extra structured information (e.g. the failing fields), or null.
    pub details: Option<Value>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "success": false,
            "error": { "code": self.code, "message": self.message, "details": self.details },
        });
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

/// A successful response: `{"success": true, "data": …}`.
pub struct Envelope<T>(pub T);

impl<T: Serialize> IntoResponse for Envelope<T> {
    fn into_response(self) -> Response {
        Json(json!({ "success": true, "data": self.0 })).into_response()
    }
}

pub type ApiResult<T> = Result<Envelope<T>, ApiError>;

/// Middleware: any error response that is not already JSON (from axum's extractors, the router's
/// 404/405 or a tower layer such as the body limit or the timeout) is rewritten into the error
/// envelope with the status's stable code.
pub async fn envelope_errors(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    // JSON errors are already enveloped; the console's HTML error pages stay pages.
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/html"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    // Keep axum's explanation for extractor rejections (short, never contains secrets).
    let message = axum::body::to_bytes(body, 4096)
        .await
        .ok()
        .and_then(|b| String::from_utf8(b.to_vec()).ok())
        .filter(|m| !m.trim().is_empty() && status.is_client_error());
    let mut error = ApiError::from_status(status);
    if let Some(message) = message {
        error.message = message;
    }
    if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
        tracing::error!(
            status = status.as_u16(),
            "internal error response from a layer"
        );
    }
    let mut rewritten = error.into_response();
    for (name, value) in &parts.headers {
        if name != axum::http::header::CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            rewritten.headers_mut().insert(name, value.clone());
        }
    }
    rewritten
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn internal_errors_are_opaque() {
        let cause =
            common::Error::Database(sqlx::Error::Protocol("password=hunter2 leaked".into()));
        let response = ApiError::from(cause).into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"]["code"], "internal_error");
        assert!(
            !body.to_string().contains("hunter2"),
            "the cause never reaches the client: {body}"
        );
    }

    #[test]
    fn not_found_and_invalid_map_to_stable_codes() {
        assert_eq!(ApiError::from(common::Error::NotFound).code, "not_found");
        let invalid = ApiError::from(common::Error::Invalid("bad".into()));
        assert_eq!(
            (invalid.status, invalid.code),
            (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
        );
    }
}
