//! `/api/v1/orgs/{org_id}/jobs/{job_id}`: the state of a job the organisation started.

use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use common::{domain::JobOutcome, jobs::JobId};

use crate::{
    error::{ApiError, ApiResult, Envelope, ErrorEnvelope},
    extract::{OrgMember, perm},
    state::AppState,
};

#[derive(Debug, Serialize, ToSchema)]
pub struct JobOut {
    pub id: String,
    pub queue: String,
    pub state: JobOutcome,
    pub attempts: i32,
    pub max_attempts: i32,
    /// The last failure's message, if the last run failed.
    pub last_error: Option<String>,
    /// The last failure's stable code, when the job gave one (e.g. `github_hook_forbidden`).
    pub error_code: Option<String>,
    pub run_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
}

/// A job's state, attempts and last error.
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}/jobs/{job_id}", operation_id = "jobs_get", tag = "github", security(("bearer" = [])),
    params(("org_id" = String, Path, format = Uuid), ("job_id" = String, Path)),
    responses((status = 200, body = JobOut), (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(state): State<AppState>,
    member: OrgMember<perm::JobsRead>,
    Path((_org, job_id)): Path<(String, String)>,
) -> ApiResult<JobOut> {
    let job = common::repo::jobs::find_for_org(&state.services.pool, member.org_id, &JobId(job_id))
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Envelope(job_out(job)))
}

/// The API view of a job row.
pub fn job_out(job: common::repo::jobs::JobRow) -> JobOut {
    let last_error = job
        .last_result
        .as_ref()
        .and_then(|r| r.get("Err"))
        .map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_owned));
    let error_code = last_error.as_deref().and_then(error_code);
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
