//! `/api/v1/orgs/{org_id}/jobs` and `…/jobs/{job_id}`: the jobs an organisation caused (started
//! by its members, or scheduled for its integrations) and their state.

use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use common::{
    domain::{JobOutcome, Permission, Role},
    jobs::{ALL_QUEUES, JobId},
    repo::org_jobs,
};

use crate::extract::JobPath;
use crate::{
    error::{ApiError, ApiResult, Envelope, ErrorEnvelope},
    extract::{OrgMember, ValidQuery, perm},
    list::PageQuery,
    pagination,
    state::AppState,
};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobQuery {
    /// Only jobs of this queue.
    pub queue: Option<String>,
    /// Only jobs in this state.
    pub state: Option<JobOutcome>,
    /// The `next_cursor` of the previous page, passed back unchanged.
    pub cursor: Option<String>,
    /// Items per page: 1–200, default 50.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobPageOut {
    pub items: Vec<JobOut>,
    pub next_cursor: Option<String>,
}

/// The organisation's jobs, newest first: those its members started and the checks, syncs and
/// token refreshes scheduled for its integrations (those only for roles that may read
/// integrations).
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}/jobs", operation_id = "jobs_list", tag = "jobs", security(("bearer" = [])),
    params(("org_id" = String, Path), JobQuery),
    responses((status = 200, body = JobPageOut), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    member: OrgMember<perm::JobsRead>,
    ValidQuery(q): ValidQuery<JobQuery>,
) -> ApiResult<JobPageOut> {
    let queues: Vec<&str> = ALL_QUEUES.iter().map(|q| q.name).collect();
    pagination::one_of("queue", q.queue.as_deref(), &queues)?;
    let limit = PageQuery {
        cursor: None,
        limit: q.limit,
    }
    .limit()?;
    let before = q
        .cursor
        .as_deref()
        .map(|c| org_jobs::parse_cursor(c).ok_or_else(pagination::bad_cursor))
        .transpose()?;
    let filter = org_jobs::Filter {
        queue: q.queue,
        state: q.state,
        before,
        hidden_queues: hidden_queues(member.role),
        limit: limit + 1,
    };
    let mut rows = org_jobs::list(&state.services.pool, member.org_id, &filter).await?;
    let more = rows.len() > usize::try_from(limit).unwrap_or(0);
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    let next_cursor = if more {
        rows.last().map(|j| j.id.0.clone())
    } else {
        None
    };
    Ok(Envelope(JobPageOut {
        items: rows.into_iter().map(job_out).collect(),
        next_cursor,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobOut {
    pub id: String,
    pub queue: String,
    pub state: JobOutcome,
    pub attempts: i32,
    pub max_attempts: i32,
    /// The last failure's message, if the last run failed.
    pub last_error: Option<String>,
    /// The last failure's stable code (e.g. `github_hook_forbidden`); `job_failed` when the
    /// failure named none.
    pub error_code: Option<String>,
    pub run_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
}

/// A job's state, attempts and last error.
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}/jobs/{job_id}", operation_id = "jobs_get", tag = "jobs", security(("bearer" = [])),
    params(JobPath),
    responses((status = 200, body = JobOut), (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(state): State<AppState>,
    member: OrgMember<perm::JobsRead>,
    Path(JobPath { job_id, .. }): Path<JobPath>,
) -> ApiResult<JobOut> {
    let job = common::repo::jobs::find_for_org(&state.services.pool, member.org_id, &JobId(job_id))
        .await?
        .filter(|j| !hidden_queues(member.role).contains(&j.queue.as_str()))
        .ok_or_else(ApiError::not_found)?;
    Ok(Envelope(job_out(job)))
}

/// The queues a role may not see: integration jobs, unless it may read integrations.
fn hidden_queues(role: Role) -> Vec<&'static str> {
    if role.allows(Permission::IntegrationsRead) {
        Vec::new()
    } else {
        common::jobs::INTEGRATION_QUEUES.to_vec()
    }
}

/// The API view of a job row.
pub fn job_out(job: common::repo::jobs::JobRow) -> JobOut {
    let last_error = job
        .last_result
        .as_ref()
        .and_then(|r| r.get("Err"))
        .map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_owned));
    let error_code = last_error
        .as_deref()
        .map(|e| error_code(e).unwrap_or_else(|| "job_failed".to_owned()));
    JobOut {
        error_code,
        id: job.id.0,
        queue: job.queue,
        state: job.outcome,
        attempts: job.attempts,
        max_attempts: job.max_attempts,
        last_error,
        run_at: job.run_at,
        done_at: job.done_at,
    }
}

/// A job failure's code: the leading `snake_case` word of `{code}: {message}` (after the
/// markers of failures that are not retried).
fn error_code(message: &str) -> Option<String> {
    // The queue's wrapper of failures that are not retried, then the runner's marker.
    let rest = message.strip_prefix("AbortError: ").unwrap_or(message);
    let rest = rest.strip_prefix("permanent: ").unwrap_or(rest);
    let (code, _) = rest.split_once(": ")?;
    (!code.is_empty() && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
        .then(|| code.to_owned())
}
