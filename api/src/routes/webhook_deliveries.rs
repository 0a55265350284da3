//! `/api/v1/orgs/{org_id}/webhook-deliveries`: what GitHub sent for this organisation, and replay.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::IntoResponse,
};
use chrono::{DateTime, Utc};
use common::{
    domain::{DeliveryId, DeliveryStatus, InstallationId},
    repo::webhook_deliveries::{Delivery, Filter},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::extract::DeliveryPath;
use crate::{
    error::{ApiError, ApiResult, Envelope, ErrorEnvelope},
    extract::{Client, OrgMember, ValidQuery, path_id, perm},
    pagination,
    state::AppState,
};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// Event name, e.g. `workflow_run`.
    pub event: Option<String>,
    /// `received`, `processed`, `ignored` or `failed`.
    pub status: Option<String>,
    pub cursor: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryOut {
    pub id: DeliveryId,
    pub hook_id: String,
    pub delivery_id: String,
    pub event: String,
    pub action: Option<String>,
    pub installation_id: Option<InstallationId>,
    pub repository_id: Option<i64>,
    pub status: DeliveryStatus,
    pub status_detail: Option<String>,
    pub replay_count: i32,
    pub received_at: DateTime<Utc>,
    pub processed_at: Option<DateTime<Utc>>,
}

impl From<Delivery> for DeliveryOut {
    fn from(d: Delivery) -> Self {
        Self {
            id: d.id,
            hook_id: d.hook_id,
            delivery_id: d.delivery_id,
            event: d.event,
            action: d.action,
            installation_id: d.installation_id,
            repository_id: d.repository_id,
            status: d.status,
            status_detail: d.status_detail,
            replay_count: d.replay_count,
            received_at: d.received_at,
            processed_at: d.processed_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryPageOut {
    pub items: Vec<DeliveryOut>,
    pub next_cursor: Option<String>,
}

/// The organisation's webhook deliveries, newest first (org_admin, team_lead).
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}/webhook-deliveries", operation_id = "webhook_deliveries_list", tag = "webhooks", security(("bearer" = [])),
    params(("org_id" = String, Path, format = Uuid), DeliveryQuery),
    responses((status = 200, body = DeliveryPageOut), (status = 400, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    member: OrgMember<perm::WebhooksRead>,
    ValidQuery(q): ValidQuery<DeliveryQuery>,
) -> ApiResult<DeliveryPageOut> {
    let limit = pagination::limit(q.limit, 50, 200)?;
    let status = pagination::parse_set::<DeliveryStatus>("status", q.status.as_deref())?;
    let filter = Filter {
        event: q.event,
        status,
        before: pagination::time_cursor(q.cursor.as_deref())?,
        limit: limit + 1,
    };
    let items = state.webhooks.list(member.org_id, &filter).await?;
    let (items, next_cursor) = pagination::page(items, limit, |d| (d.received_at, d.id.0));
    Ok(Envelope(DeliveryPageOut {
        items: items.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReplayOut {
    pub job_id: String,
}

/// Process a delivery again (org_admin); 202 with the job id.
#[utoipa::path(post, path = "/api/v1/orgs/{org_id}/webhook-deliveries/{delivery_id}/replay", operation_id = "webhook_deliveries_replay", tag = "webhooks",
    security(("bearer" = [])),
    params(DeliveryPath),
    responses((status = 202, body = ReplayOut), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, description = "`payload_pruned`: the payload was dropped by retention", body = ErrorEnvelope)))]
pub async fn replay(
    State(state): State<AppState>,
    member: OrgMember<perm::WebhooksReplay>,
    Client(meta): Client,
    Path(DeliveryPath { delivery_id, .. }): Path<DeliveryPath>,
) -> Result<impl IntoResponse, ApiError> {
    let id = path_id(&delivery_id)?;
    let job = state
        .webhooks
        .replay(&meta, member.caller.user_id, member.org_id, id)
        .await?;
    Ok((StatusCode::ACCEPTED, Envelope(ReplayOut { job_id: job.0 })))
}
