//! `POST /api/v1/webhooks/github`: the GitHub webhook receiver. The body is read within the
//! in-flight byte budget and its signature computed while it arrives; verified deliveries are
//! stored once with their processing job and answered 202; a redelivery is answered 200
//! `duplicate: true`.

use axum::{
    body::Body,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::IntoResponse,
};
use common::webhooks::{DeliveryHeaders, Ingested};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    error::{ApiError, Envelope, ErrorEnvelope},
    state::AppState,
};

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryAcceptedOut {
    /// RepoPal's id of the stored delivery (absent for a duplicate).
    pub id: Option<common::domain::DeliveryId>,
    /// The processing job (absent for a duplicate).
    pub job_id: Option<String>,
    /// True when this delivery was already received (GitHub redelivery): nothing new was enqueued.
    pub duplicate: bool,
}

fn header_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// Receive a GitHub webhook delivery (JSON or form-encoded; up to 25 MB).
#[utoipa::path(post, path = "/api/v1/webhooks/github", operation_id = "webhooks_github_receive", tag = "webhooks",
    request_body(content = String, description = "The delivery as GitHub sends it", content_type = "application/json"),
    params(
        ("X-Hub-Signature-256" = String, Header, description = "sha256=HMAC of the raw body"),
        ("X-GitHub-Event" = String, Header), ("X-GitHub-Delivery" = String, Header),
        ("X-GitHub-Hook-ID" = Option<String>, Header),
    ),
    responses(
        (status = 202, description = "Stored and enqueued", body = DeliveryAcceptedOut),
        (status = 200, description = "Already received (duplicate: true)", body = DeliveryAcceptedOut),
        (status = 400, description = "missing_header or invalid_payload", body = ErrorEnvelope),
        (status = 401, description = "missing_signature or invalid_signature", body = ErrorEnvelope),
        (status = 413, description = "payload_too_large", body = ErrorEnvelope),
        (status = 503, description = "server_busy: too many webhook bytes in flight, or database_unavailable; retry after Retry-After (the redelivery sweep asks GitHub to send it again)", body = ErrorEnvelope),
    ))]
pub async fn github(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<impl IntoResponse, ApiError> {
    let delivery = DeliveryHeaders {
        signature_256: header_value(&headers, "x-hub-signature-256"),
        event: header_value(&headers, "x-github-event"),
        delivery: header_value(&headers, "x-github-delivery"),
        hook_id: header_value(&headers, "x-github-hook-id"),
        content_type: header_value(&headers, header::CONTENT_TYPE.as_str()).unwrap_or_default(),
    };
    // Refuses an unsigned delivery unread; the App secret's HMAC is computed while reading.
    let mut verifier = state.webhooks.verifier(&delivery)?;
    let (body, _reserved) = state
        .webhook_bytes
        .read(body, crate::WEBHOOK_BODY_LIMIT, |chunk| {
            verifier.update(chunk)
        })
        .await?;
    let verified = state.webhooks.verified(verifier, &body).await?;
    Ok(
        match state.webhooks.receive(delivery, verified, &body).await? {
            Ingested::Stored { id, job_id } => (
                StatusCode::ACCEPTED,
                Envelope(DeliveryAcceptedOut {
                    id: Some(id),
                    job_id: Some(job_id.0),
                    duplicate: false,
                }),
            ),
            Ingested::Duplicate => (
                StatusCode::OK,
                Envelope(DeliveryAcceptedOut {
                    id: None,
                    job_id: None,
                    duplicate: true,
                }),
            ),
        },
    )
}
