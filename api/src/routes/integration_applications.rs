//! `/api/v1/orgs/{org_id}/integrations/{integration_id}/applications`: the Argo CD applications the
//! integration's syncs copied, with their health, sync status and last operation.

use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use common::{
    domain::{AppHealth, AppSync, ApplicationId},
    repo::applications::{Application, Filter},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::integrations::integration_id;
use crate::extract::IntegrationPath;
use crate::{
    error::{ApiResult, Envelope, ErrorEnvelope},
    extract::{OrgMember, ValidQuery, perm},
    pagination,
    state::AppState,
};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApplicationQuery {
    /// `Healthy`, `Progressing`, `Degraded`, `Suspended`, `Missing` or `Unknown`.
    pub health: Option<String>,
    /// `Synced`, `OutOfSync` or `Unknown`.
    pub sync: Option<String>,
    /// Also the applications gone from the server (default false).
    pub include_removed: Option<bool>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationOut {
    pub id: ApplicationId,
    pub name: String,
    /// `metadata.namespace` on the Argo CD server.
    pub namespace: String,
    pub project: Option<String>,
    pub destination: DestinationOut,
    pub source: SourceOut,
    pub sync_status: AppSync,
    /// The revision last synced.
    pub sync_revision: Option<String>,
    pub health_status: AppHealth,
    /// `status.conditions[]`: `type`, `message`, `lastTransitionTime`.
    #[schema(value_type = Vec<Object>)]
    pub conditions: serde_json::Value,
    pub last_operation: OperationOut,
    /// Since when it has been OutOfSync, while it is.
    pub out_of_sync_since: Option<DateTime<Utc>>,
    /// When it disappeared from the server (null while it is there).
    pub removed_at: Option<DateTime<Utc>>,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DestinationOut {
    pub server: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SourceOut {
    pub repo_url: Option<String>,
    pub path: Option<String>,
    pub target_revision: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OperationOut {
    /// `Running`, `Failed`, `Succeeded`, `Error` or `Terminating`.
    pub phase: Option<String>,
    pub message: Option<String>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<Application> for ApplicationOut {
    fn from(a: Application) -> Self {
        Self {
            id: a.id,
            name: a.name,
            namespace: a.app_namespace,
            project: a.project,
            destination: DestinationOut {
                server: a.dest_server,
                namespace: a.dest_namespace,
                name: a.dest_name,
            },
            source: SourceOut {
                repo_url: a.repo_url,
                path: a.path,
                target_revision: a.target_revision,
            },
            sync_status: a.sync_status,
            sync_revision: a.sync_revision,
            health_status: a.health_status,
            conditions: a.conditions,
            last_operation: OperationOut {
                phase: a.operation_phase,
                message: a.operation_message,
                finished_at: a.operation_finished_at,
            },
            out_of_sync_since: a.out_of_sync_since,
            removed_at: a.removed_at,
            first_seen_at: a.first_seen_at,
            last_seen_at: a.last_seen_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationPageOut {
    pub items: Vec<ApplicationOut>,
    pub next_cursor: Option<String>,
}

/// The integration's applications, newest first, with filters on health and sync status and
/// cursor pagination (org_admin, team_lead).
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}/integrations/{integration_id}/applications", tag = "integrations",
    operation_id = "applications_list", security(("bearer" = [])),
    params(IntegrationPath, ApplicationQuery),
    responses((status = 200, body = ApplicationPageOut), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    member: OrgMember<perm::IntegrationsRead>,
    Path(IntegrationPath {
        integration_id: id, ..
    }): Path<IntegrationPath>,
    ValidQuery(q): ValidQuery<ApplicationQuery>,
) -> ApiResult<ApplicationPageOut> {
    let id = integration_id(&id)?;
    let limit = pagination::limit(q.limit, 50, 200)?;
    let filter = Filter {
        health: pagination::parse_set::<AppHealth>("health", q.health.as_deref())?,
        sync: pagination::parse_set::<AppSync>("sync", q.sync.as_deref())?,
        include_removed: q.include_removed.unwrap_or(false),
        before: pagination::time_cursor(q.cursor.as_deref())?,
        limit: limit + 1,
    };
    let rows =
        common::integrations::applications_of(&state.services.pool, member.org_id, id, &filter)
            .await?;
    let (rows, next_cursor) = pagination::page(rows, limit, |a| (a.first_seen_at, a.id.0));
    Ok(Envelope(ApplicationPageOut {
        items: rows.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}
