//! Prometheus scrape endpoint, guarded by `METRICS_TOKEN` (it lists every tenant's ids).

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::IntoResponse,
};
use secrecy::ExposeSecret;

use crate::{
    error::{ApiError, ErrorEnvelope},
    state::AppState,
};

/// Prometheus text format: HTTP request counts and latencies, job counts by queue and outcome,
/// and each integration's health, API calls and errors (`repopal_integration_*`). Served on the
/// public port only when `METRICS_TOKEN` is set (send it as a bearer token), or on its own
/// listener (`METRICS_ADDR`).
#[utoipa::path(get, path = "/metrics", operation_id = "metrics_get", tag = "health", security(("bearer" = [])),
    responses(
        (status = 200, description = "Prometheus text exposition", content_type = "text/plain"),
        (status = 401, description = "Missing or wrong METRICS_TOKEN", body = ErrorEnvelope),
    ))]
pub async fn metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    if let Some(token) = &state.api.metrics_token {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default()
            .trim();
        if !common::crypto::tokens::constant_time_eq(
            presented.as_bytes(),
            token.expose_secret().as_bytes(),
        ) {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "A valid metrics token is required.",
            ));
        }
    }
    if let Err(e) = crate::metrics::refresh_job_counts(&state.services.pool).await {
        tracing::warn!(error = %e, "could not read job counts for /metrics");
    }
    if let Err(e) = crate::metrics::refresh_integration_gauges(&state.services.pool).await {
        tracing::warn!(error = %e, "could not read integration health for /metrics");
    }
    Ok((
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    ))
}
