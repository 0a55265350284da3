//! Liveness and readiness probes.

use std::time::Duration;

use axum::extract::State;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::{
    error::{ApiError, ApiResult, Envelope, ErrorEnvelope},
    state::AppState,
};

#[derive(Debug, Serialize, ToSchema)]
pub struct ProbeOut {
    /// `ok` when the probe passes.
    pub status: &'static str,
}

/// The process is up and serving requests.
#[utoipa::path(get, path = "/healthz", operation_id = "health_live", tag = "health",
    responses((status = 200, description = "Process is up", body = ProbeOut)))]
pub async fn healthz() -> ApiResult<ProbeOut> {
    Ok(Envelope(ProbeOut { status: "ok" }))
}

/// The database answers; 503 otherwise, naming the cause in `details` (e.g.
/// `{"cause": "too_many_connections", "sqlstate": "53300"}`).
#[utoipa::path(get, path = "/readyz", operation_id = "health_ready", tag = "health",
    responses(
        (status = 200, description = "Database reachable", body = ProbeOut),
        (status = 503, description = "Database unreachable, or every pooled connection busy", body = ErrorEnvelope),
    ))]
pub async fn readyz(State(state): State<AppState>) -> ApiResult<ProbeOut> {
    match common::db_status::check(&state.services.pool, Duration::from_secs(2)).await {
        Ok(()) => Ok(Envelope(ProbeOut { status: "ok" })),
        Err(cause) if cause.is_pool_exhausted() => {
            tracing::warn!("readiness check failed: every pooled connection is busy");
            Err(ApiError::busy(1).with_details(json!({ "cause": cause.code })))
        }
        Err(cause) => {
            tracing::warn!(cause = %cause, "readiness check failed: database unavailable");
            Err(ApiError::database_unavailable()
                .with_details(json!({ "cause": cause.code, "sqlstate": cause.sqlstate })))
        }
    }
}
