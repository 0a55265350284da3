//! `/api/v1/orgs/{org_id}/analytics/…`: is the team getting better — run and incident time series,
//! the most frequent failures and a ranked repository health score.

use std::collections::BTreeMap;

use axum::extract::State;
use chrono::{DateTime, Utc};
use common::{
    analytics::{self, Failures, IncidentStats, RepositoryHealth, Window, WindowIn, WorkflowStats},
    domain::{Bucket, IncidentSource, OrgId, Severity},
};
use serde::{Deserialize, Serialize};
use utoipa::{
    IntoParams, IntoResponses, ToSchema,
    openapi::{Content, Ref, RefOr, ResponseBuilder, response::Response},
};
use uuid::Uuid;

use crate::{
    error::{ApiResult, Envelope, ErrorEnvelope},
    extract::{OrgMember, ValidQuery, perm},
    pagination,
    state::AppState,
};

/// The window and filters every analytics read takes.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnalyticsQuery {
    /// Start of the window (RFC 3339, inclusive); default `to` minus 30 days. At most 400 days.
    pub from: Option<DateTime<Utc>>,
    /// End of the window (RFC 3339, exclusive); default now.
    pub to: Option<DateTime<Utc>>,
    /// Bucket width of time series; default `day`.
    pub bucket: Option<Bucket>,
    /// Repository id.
    pub repository: Option<Uuid>,
    /// Workflow name, exact.
    #[param(min_length = 1, max_length = 255)]
    pub workflow: Option<String>,
    /// Branch, exact.
    #[param(min_length = 1, max_length = 255)]
    pub branch: Option<String>,
    /// Incidents only: `critical`, `high`, `medium` or `low`.
    #[param(value_type = Option<common::domain::Severity>)]
    pub severity: Option<String>,
    /// Incidents only: where incidents came from.
    pub source: Option<IncidentSource>,
    /// Failures and repositories only: 1–200, default 20.
    #[param(minimum = 1, maximum = 200, default = 20)]
    pub limit: Option<i64>,
}

impl AnalyticsQuery {
    /// The checked ranking length: 1–200, default 20.
    fn limit(&self) -> Result<i64, crate::error::ApiError> {
        pagination::limit(self.limit, 20, 200)
    }

    /// The checked window; every route checks every parameter it documents, `severity` included.
    fn window(&self, org: OrgId) -> Result<Window, crate::error::ApiError> {
        let severities: Vec<&str> = Severity::ALL.iter().map(|s| s.as_str()).collect();
        pagination::one_of("severity", self.severity.as_deref(), &severities)?;
        self.limit()?;
        let input = WindowIn {
            from: self.from,
            to: self.to,
            bucket: self.bucket,
            repository: self.repository,
            workflow: self.workflow.clone(),
            branch: self.branch.clone(),
        };
        Ok(Window::new(org, input, Utc::now())?)
    }
}

/// The errors every analytics read documents (besides those `contract` adds to every route).
pub struct WindowErrors;

impl IntoResponses for WindowErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        [
            ("400", "A malformed parameter"),
            ("401", "No valid access token"),
            ("404", "No such organisation for this user"),
            ("422", "A reversed or overlong window"),
        ]
        .into_iter()
        .map(|(status, description)| {
            let body = Content::new(Some(Ref::from_schema_name(ErrorEnvelope::name())));
            let response = ResponseBuilder::new()
                .description(description)
                .content("application/json", body)
                .build();
            (status.to_owned(), response.into())
        })
        .collect()
    }
}

/// Runs per bucket (count, failures, failure rate, median and p90 duration), overall and per
/// workflow. Buckets without runs are present with zeros.
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}/analytics/workflows", tag = "analytics",
    operation_id = "analytics_workflows", security(("bearer" = [])),
    params(("org_id" = String, Path, format = Uuid), AnalyticsQuery),
    responses((status = 200, description = "The run series", body = WorkflowStats), WindowErrors))]
pub async fn workflows(
    State(state): State<AppState>,
    member: OrgMember<perm::IncidentsRead>,
    ValidQuery(q): ValidQuery<AnalyticsQuery>,
) -> ApiResult<WorkflowStats> {
    let window = q.window(member.org_id)?;
    Ok(Envelope(
        analytics::workflows(&state.services.pool, &window).await?,
    ))
}

/// Incidents opened and resolved per bucket with MTTA and MTTR (median and p90), and the
/// window's incidents by severity, repository and source.
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}/analytics/incidents", tag = "analytics",
    operation_id = "analytics_incidents", security(("bearer" = [])),
    params(("org_id" = String, Path, format = Uuid), AnalyticsQuery),
    responses((status = 200, description = "The incident series", body = IncidentStats), WindowErrors))]
pub async fn incidents(
    State(state): State<AppState>,
    member: OrgMember<perm::IncidentsRead>,
    ValidQuery(q): ValidQuery<AnalyticsQuery>,
) -> ApiResult<IncidentStats> {
    let window = q.window(member.org_id)?;
    let stats = analytics::incidents(
        &state.services.pool,
        &window,
        q.severity.as_deref(),
        q.source,
    )
    .await?;
    Ok(Envelope(stats))
}

/// The most frequent failing jobs and steps in the window, with the last run each failed in.
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}/analytics/failures", tag = "analytics",
    operation_id = "analytics_failures", security(("bearer" = [])),
    params(("org_id" = String, Path, format = Uuid), AnalyticsQuery),
    responses((status = 200, description = "Failing jobs and steps", body = Failures), WindowErrors))]
pub async fn failures(
    State(state): State<AppState>,
    member: OrgMember<perm::IncidentsRead>,
    ValidQuery(q): ValidQuery<AnalyticsQuery>,
) -> ApiResult<Failures> {
    let limit = q.limit()?;
    let window = q.window(member.org_id)?;
    Ok(Envelope(
        analytics::failures(&state.services.pool, &window, limit).await?,
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RepositoryHealthPageOut {
    /// Worst score first. The formula is in the README (Analytics).
    pub items: Vec<RepositoryHealth>,
}

/// Repositories ranked by health score, worst first, with the parts of each score.
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}/analytics/repositories", tag = "analytics",
    operation_id = "analytics_repositories", security(("bearer" = [])),
    params(("org_id" = String, Path, format = Uuid), AnalyticsQuery),
    responses((status = 200, description = "The ranking", body = RepositoryHealthPageOut), WindowErrors))]
pub async fn repositories(
    State(state): State<AppState>,
    member: OrgMember<perm::IncidentsRead>,
    ValidQuery(q): ValidQuery<AnalyticsQuery>,
) -> ApiResult<RepositoryHealthPageOut> {
    let limit = q.limit()?;
    let window = q.window(member.org_id)?;
    let items = analytics::repositories(&state.services.pool, &window, limit as usize).await?;
    Ok(Envelope(RepositoryHealthPageOut { items }))
}
