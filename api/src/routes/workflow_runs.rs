//! `/api/v1/orgs/{org_id}/workflow-runs`: GitHub Actions run attempts of monitored repositories,
//! their stats, and re-run requests.

use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use common::{
    domain::{Evaluation, RepositoryId, WorkflowRunId},
    github::RerunScope,
    repo::{
        workflow_jobs::{self, JobRow},
        workflow_runs::{self, Filter, Stat, WorkflowRun},
    },
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::extract::RunPath;
use crate::{
    error::{ApiError, ApiResult, Envelope, ErrorEnvelope},
    extract::{Client, OrgMember, ValidJson, ValidQuery, path_id, perm},
    list::{ByName, PageQuery, page_whole},
    pagination,
    routes::repositories::{JobStarted, JobStartedOut},
    state::AppState,
};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunQuery {
    /// Repository id.
    pub repository: Option<Uuid>,
    /// Workflow name, exact.
    pub workflow: Option<String>,
    pub branch: Option<String>,
    /// `success`, `failure`, `timed_out`, `cancelled`, `skipped`, `neutral`, …
    pub conclusion: Option<String>,
    /// Received at or after (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Received before (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    pub cursor: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
}

impl RunQuery {
    fn filter(self) -> Result<(Filter, i64), ApiError> {
        let limit = pagination::limit(self.limit, 50, 200)?;
        Ok((
            Filter {
                repository: self.repository.map(RepositoryId),
                workflow: self.workflow,
                branch: self.branch,
                conclusion: self.conclusion,
                from: self.from,
                to: self.to,
                before: pagination::time_cursor(self.cursor.as_deref())?,
                limit: limit + 1,
            },
            limit,
        ))
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkflowRunOut {
    pub id: WorkflowRunId,
    pub repository_id: RepositoryId,
    pub repository: String,
    pub run_id: i64,
    pub run_attempt: i32,
    pub run_number: i64,
    pub workflow_id: i64,
    pub workflow_name: String,
    pub branch: String,
    pub head_sha: String,
    pub event: Option<String>,
    pub status: String,
    pub conclusion: Option<String>,
    pub actor: Option<String>,
    pub commit_author: Option<String>,
    pub commit_message: Option<String>,
    pub html_url: Option<String>,
    pub run_started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    /// What incident evaluation did with the attempt.
    pub evaluation: Option<Evaluation>,
    pub received_at: DateTime<Utc>,
}

impl From<WorkflowRun> for WorkflowRunOut {
    fn from(r: WorkflowRun) -> Self {
        Self {
            id: r.id,
            repository_id: r.repository_id,
            repository: r.repository,
            run_id: r.run_id,
            run_attempt: r.run_attempt,
            run_number: r.run_number,
            workflow_id: r.workflow_id,
            workflow_name: r.workflow_name,
            branch: r.branch,
            head_sha: r.head_sha,
            event: r.event,
            status: r.status,
            conclusion: r.conclusion,
            actor: r.actor,
            commit_author: r.commit_author,
            commit_message: r.commit_message,
            html_url: r.html_url,
            run_started_at: r.run_started_at,
            completed_at: r.completed_at,
            duration_ms: r.duration_ms,
            evaluation: r.evaluation,
            received_at: r.received_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkflowRunPageOut {
    pub items: Vec<WorkflowRunOut>,
    pub next_cursor: Option<String>,
}

/// Run attempts, newest first, with filters and cursor pagination.
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}/workflow-runs", operation_id = "workflow_runs_list", tag = "incidents", security(("bearer" = [])),
    params(("org_id" = String, Path, format = Uuid), RunQuery),
    responses((status = 200, body = WorkflowRunPageOut), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    member: OrgMember<perm::IncidentsRead>,
    ValidQuery(q): ValidQuery<RunQuery>,
) -> ApiResult<WorkflowRunPageOut> {
    let (filter, limit) = q.filter()?;
    let rows = workflow_runs::list(&state.services.pool, member.org_id, &filter).await?;
    let (rows, next_cursor) = pagination::page(rows, limit, |r| (r.received_at, r.id.0));
    Ok(Envelope(WorkflowRunPageOut {
        items: rows.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkflowJobOut {
    pub job_id: i64,
    pub name: String,
    pub status: String,
    pub conclusion: Option<String>,
    pub html_url: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub failed_steps: Vec<String>,
}

impl From<JobRow> for WorkflowJobOut {
    fn from(j: JobRow) -> Self {
        Self {
            job_id: j.job_id,
            name: j.name,
            status: j.status,
            conclusion: j.conclusion,
            html_url: j.html_url,
            started_at: j.started_at,
            completed_at: j.completed_at,
            failed_steps: j.failed_steps.0,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkflowRunDetailOut {
    #[serde(flatten)]
    pub run: WorkflowRunOut,
    pub jobs: Vec<WorkflowJobOut>,
}

/// One run attempt with its jobs.
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}/workflow-runs/{run_id}", operation_id = "workflow_runs_get", tag = "incidents", security(("bearer" = [])),
    params(RunPath),
    responses((status = 200, body = WorkflowRunDetailOut), (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(state): State<AppState>,
    member: OrgMember<perm::IncidentsRead>,
    Path(RunPath { run_id: id, .. }): Path<RunPath>,
) -> ApiResult<WorkflowRunDetailOut> {
    let run = workflow_runs::find(&state.services.pool, member.org_id, path_id(&id)?)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let jobs = workflow_jobs::jobs_of(
        &state.services.pool,
        member.org_id,
        run.run_id,
        run.run_attempt,
    )
    .await?;
    Ok(Envelope(WorkflowRunDetailOut {
        run: run.into(),
        jobs: jobs.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkflowStatOut {
    pub repository_id: RepositoryId,
    pub repository: String,
    pub workflow_id: i64,
    pub workflow_name: String,
    /// Completed run attempts in the range.
    pub runs: i64,
    /// Attempts that ended `failure` or `timed_out`.
    pub failures: i64,
    /// failures / runs, 0–1.
    pub failure_rate: f64,
    pub median_duration_ms: Option<f64>,
}

impl From<Stat> for WorkflowStatOut {
    fn from(s: Stat) -> Self {
        Self {
            failure_rate: if s.runs > 0 {
                s.failures as f64 / s.runs as f64
            } else {
                0.0
            },
            repository_id: s.repository_id,
            repository: s.repository,
            workflow_id: s.workflow_id,
            workflow_name: s.workflow_name,
            runs: s.runs,
            failures: s.failures,
            median_duration_ms: s.median_duration_ms,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkflowStatsOut {
    pub items: Vec<WorkflowStatOut>,
    pub next_cursor: Option<String>,
}

/// Per repository and workflow (by repository name, then workflow id): completed runs, failure
/// rate and median duration (same filters as the list, paged by its own cursor).
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}/workflow-runs/stats", operation_id = "workflow_runs_stats", tag = "incidents", security(("bearer" = [])),
    params(("org_id" = String, Path, format = Uuid), RunQuery),
    responses((status = 200, body = WorkflowStatsOut), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn stats(
    State(state): State<AppState>,
    member: OrgMember<perm::IncidentsRead>,
    ValidQuery(mut q): ValidQuery<RunQuery>,
) -> ApiResult<WorkflowStatsOut> {
    let page = PageQuery {
        cursor: q.cursor.take(),
        limit: q.limit,
    };
    let (filter, _) = q.filter()?;
    let rows: Vec<WorkflowStatOut> =
        workflow_runs::stats(&state.services.pool, member.org_id, &filter)
            .await?
            .into_iter()
            .map(Into::into)
            .collect();
    let (items, next_cursor) = page_whole(rows, &page, |s| {
        ByName(format!("{}\0{:020}", s.repository, s.workflow_id))
    })?;
    Ok(Envelope(WorkflowStatsOut { items, next_cursor }))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RerunIn {
    /// Re-run only the failed jobs (default: all jobs).
    #[serde(default)]
    pub failed_only: bool,
}

/// Ask GitHub to re-run the run (all jobs or only failed ones): 202 with the job id.
#[utoipa::path(post, path = "/api/v1/orgs/{org_id}/workflow-runs/{run_id}/rerun", operation_id = "workflow_runs_rerun", tag = "incidents", security(("bearer" = [])),
    params(RunPath),
    request_body = RerunIn,
    responses((status = 202, body = JobStartedOut), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 409, body = ErrorEnvelope)))]
pub async fn rerun(
    State(state): State<AppState>,
    member: OrgMember<perm::WorkflowsRerun>,
    Client(meta): Client,
    Path(RunPath { run_id: id, .. }): Path<RunPath>,
    ValidJson(body): ValidJson<RerunIn>,
) -> Result<JobStarted, ApiError> {
    let job = common::workflows::request_rerun(
        &state.services.pool,
        &member.acting(&meta),
        path_id(&id)?,
        RerunScope::from_failed_only(body.failed_only),
    )
    .await?;
    Ok(JobStartedOut::accepted(job))
}
