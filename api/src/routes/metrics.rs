//! Prometheus scrape endpoint.

use axum::{extract::State, http::header, response::IntoResponse};

use crate::state::AppState;

/// Prometheus text format: HTTP request counts and latencies, job counts by queue and outcome,
/// and each integration's health, API calls and errors (`repopal_integration_*`).
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    if let Err(e) = crate::metrics::refresh_job_counts(&state.pool).await {
        tracing::warn!(error = %e, "could not read job counts for /metrics");
    }
    if let Err(e) = crate::metrics::refresh_integration_gauges(&state.pool).await {
        tracing::warn!(error = %e, "could not read integration health for /metrics");
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}
