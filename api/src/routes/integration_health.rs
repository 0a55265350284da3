//! An integration's health (`…/{id}/health`), its history of checks (`…/health/history`) and its
//! counters (`…/metrics`).

use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use common::{
    domain::{CheckId, CheckSource, HealthStatus, IntegrationId, IntegrationKind, RecoveryAction},
    repo::integrations::{self, Check, HistoryFilter},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::extract::IntegrationPath;
use crate::{
    error::{ApiError, ApiResult, Envelope, ErrorEnvelope},
    extract::{OrgMember, ValidQuery, path_uuid, perm},
    pagination,
    state::AppState,
};

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = IntegrationHealthOut)]
pub struct HealthOut {
    pub status: HealthStatus,
    pub enabled: bool,
    pub last_check_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_latency_ms: Option<i32>,
    pub consecutive_failures: i32,
    pub failing_since: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// Null when no check is scheduled (disabled, or new credentials needed).
    pub next_check_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Only checks that changed the status.
    #[serde(default)]
    pub transitions: bool,
    pub cursor: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckOut {
    pub id: CheckId,
    /// `manual`: a `POST …/test`.
    pub source: CheckSource,
    /// The due time a scheduled check ran for.
    pub due_at: Option<DateTime<Utc>>,
    pub checked_at: DateTime<Utc>,
    pub ok: bool,
    pub latency_ms: i32,
    pub attempts: i32,
    pub error: Option<String>,
    pub details: serde_json::Value,
    /// A recovery action taken.
    pub action: Option<RecoveryAction>,
    pub status_before: HealthStatus,
    pub status_after: HealthStatus,
}

impl From<Check> for CheckOut {
    fn from(c: Check) -> Self {
        Self {
            id: c.id,
            source: c.source,
            due_at: c.due_at,
            checked_at: c.checked_at,
            ok: c.ok,
            latency_ms: c.latency_ms,
            attempts: c.attempts,
            error: c.error,
            details: c.details,
            action: c.action,
            status_before: c.status_before,
            status_after: c.status_after,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryOut {
    pub items: Vec<CheckOut>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MetricsOut {
    /// Requests sent to the provider by checks and tests (retries included).
    pub api_calls: i64,
    /// Those that failed.
    pub api_errors: i64,
    /// For a GitHub App installation its last repository sync; otherwise the last successful check.
    pub last_sync_at: Option<DateTime<Utc>>,
    pub health_status: HealthStatus,
    pub last_latency_ms: Option<i32>,
    pub consecutive_failures: i32,
}

async fn find(
    state: &AppState,
    org: common::domain::OrgId,
    id: &str,
) -> Result<integrations::Integration, ApiError> {
    integrations::find(&state.services.pool, org, path_uuid(id).map(IntegrationId)?)
        .await?
        .ok_or_else(ApiError::not_found)
}

/// Current health: state, last check, latency, consecutive failures, next check (org_admin, team_lead).
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}/integrations/{integration_id}/health", operation_id = "integrations_health", tag = "integrations", security(("bearer" = [])),
    params(IntegrationPath),
    responses((status = 200, body = HealthOut), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn health(
    State(state): State<AppState>,
    member: OrgMember<perm::IntegrationsRead>,
    Path(IntegrationPath {
        integration_id: id, ..
    }): Path<IntegrationPath>,
) -> ApiResult<HealthOut> {
    let i = find(&state, member.org_id, &id).await?;
    Ok(Envelope(HealthOut {
        status: i.status,
        enabled: i.enabled,
        last_check_at: i.last_check_at,
        last_success_at: i.last_success_at,
        last_latency_ms: i.last_latency_ms,
        consecutive_failures: i.consecutive_failures,
        failing_since: i.failing_since,
        last_error: i.last_error,
        next_check_at: i.next_check_at,
    }))
}

/// Every check and test, newest first, with the status before and after (org_admin, team_lead).
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}/integrations/{integration_id}/health/history", operation_id = "integrations_health_history", tag = "integrations", security(("bearer" = [])),
    params(IntegrationPath, HistoryQuery),
    responses((status = 200, body = HistoryOut), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope)))]
pub async fn history(
    State(state): State<AppState>,
    member: OrgMember<perm::IntegrationsRead>,
    Path(IntegrationPath {
        integration_id: id, ..
    }): Path<IntegrationPath>,
    ValidQuery(q): ValidQuery<HistoryQuery>,
) -> ApiResult<HistoryOut> {
    let i = find(&state, member.org_id, &id).await?;
    let limit = pagination::limit(q.limit, 50, 200)?;
    let filter = HistoryFilter {
        transitions: q.transitions,
        before: pagination::time_cursor(q.cursor.as_deref())?.map(|(at, id)| (at, CheckId(id))),
        limit: limit + 1,
    };
    let rows = integrations::history(&state.services.pool, member.org_id, i.id, &filter).await?;
    let (items, next_cursor) = pagination::page(rows, limit, |c| (c.checked_at, c.id.0));
    Ok(Envelope(HistoryOut {
        items: items.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

/// Per-connection counters: API calls, errors, last sync, health (org_admin, team_lead). The same
/// figures are in the Prometheus exposition (`repopal_integration_*`).
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}/integrations/{integration_id}/metrics", operation_id = "integrations_metrics", tag = "integrations", security(("bearer" = [])),
    params(IntegrationPath),
    responses((status = 200, body = MetricsOut), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn metrics(
    State(state): State<AppState>,
    member: OrgMember<perm::IntegrationsRead>,
    Path(IntegrationPath {
        integration_id: id, ..
    }): Path<IntegrationPath>,
) -> ApiResult<MetricsOut> {
    let i = find(&state, member.org_id, &id).await?;
    let last_sync_at = match i.config["installation_id"].as_i64() {
        Some(installation) if i.kind == IntegrationKind::GithubApp => {
            common::repo::installations::last_synced(
                &state.services.pool,
                member.org_id,
                common::domain::InstallationId(installation),
            )
            .await?
        }
        _ => i.last_success_at,
    };
    Ok(Envelope(MetricsOut {
        api_calls: i.api_calls,
        api_errors: i.api_errors,
        last_sync_at,
        health_status: i.status,
        last_latency_ms: i.last_latency_ms,
        consecutive_failures: i.consecutive_failures,
    }))
}
