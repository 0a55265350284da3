//! Liveness and readiness probes.

use std::time::Duration;

use axum::{extract::State, http::StatusCode};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    error::{ApiError, ApiResult, Envelope, ErrorEnvelope},
    state::AppState,
};

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthOut {
    /// `ok` when the probe passes.
    pub status: &'static str,
}

/// The process is up and serving requests.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "Process is up", body = HealthOut)))]
pub async fn healthz() -> ApiResult<HealthOut> {
    Ok(Envelope(HealthOut { status: "ok" }))
}

/// The database answers; 503 otherwise.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses(
        (status = 200, description = "Database reachable", body = HealthOut),
        (status = 503, description = "Database unreachable", body = ErrorEnvelope),
    ))]
pub async fn readyz(State(state): State<AppState>) -> ApiResult<HealthOut> {
    let ping = tokio::time::timeout(
        Duration::from_secs(2),
        common::db::ping(&state.services.pool),
    )
    .await;
    if matches!(ping, Ok(true)) {
        Ok(Envelope(HealthOut { status: "ok" }))
    } else {
        tracing::warn!("readiness check failed: database unreachable");
        Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            "The database is not reachable.",
        ))
    }
}
