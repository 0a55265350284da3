//! Triage context from GitHub for an organisation's repository (`/repositories/{id}/files`,
//! `/files/{path}`, `/workflows`, `/commits/{sha}/diff`) and a run's job log
//! (`/workflow-runs/{id}/logs`), fetched through the credential that reaches the repository.

use axum::{
    body::Body,
    extract::{Path, State},
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use common::{
    domain::{RepositoryId, WorkflowRunId},
    github::{CommitDiff, Entry, FileContent, Workflow},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::extract::{CommitPath, FilePath, RepositoryPath, RunPath};
use crate::{
    error::{ApiError, ApiResult, Envelope, ErrorEnvelope},
    extract::{OrgMember, ValidQuery, path_uuid, perm},
    list::{ByName, PageQuery, page_whole},
    state::AppState,
};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FilesQuery {
    /// Directory to list (empty for the root).
    #[serde(default)]
    pub path: String,
    /// Branch, tag or commit (default: the default branch).
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    /// The `next_cursor` of the previous page, passed back unchanged.
    pub cursor: Option<String>,
    /// Items per page: 1–200, default 50.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RefQuery {
    /// Branch, tag or commit (default: the default branch).
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EntriesOut {
    pub items: Vec<Entry>,
    pub next_cursor: Option<String>,
}

/// A directory of the repository, by path.
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}/repositories/{repo_id}/files", operation_id = "repository_files_list", tag = "github", security(("bearer" = [])),
    params(RepositoryPath, FilesQuery),
    responses((status = 200, body = EntriesOut), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 429, body = ErrorEnvelope), (status = 502, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    member: OrgMember<perm::ReposRead>,
    Path(RepositoryPath { repo_id: repo, .. }): Path<RepositoryPath>,
    ValidQuery(q): ValidQuery<FilesQuery>,
) -> ApiResult<EntriesOut> {
    let items = state
        .services
        .github_db()
        .list_dir(
            member.org_id,
            RepositoryId(path_uuid(&repo)?),
            &q.path,
            q.git_ref.as_deref(),
        )
        .await?;
    let page = PageQuery {
        cursor: q.cursor,
        limit: q.limit,
    };
    let (items, next_cursor) = page_whole(items, &page, |e| ByName(e.path.clone()))?;
    Ok(Envelope(EntriesOut { items, next_cursor }))
}

/// A file of the repository, up to 256 KiB (`file_too_large` beyond).
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}/repositories/{repo_id}/files/{path}", operation_id = "repository_files_get", tag = "github", security(("bearer" = [])),
    params(FilePath, RefQuery),
    responses((status = 200, body = FileContent), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 429, body = ErrorEnvelope), (status = 502, body = ErrorEnvelope)))]
pub async fn file(
    State(state): State<AppState>,
    member: OrgMember<perm::ReposRead>,
    Path(FilePath {
        repo_id: repo,
        path,
        ..
    }): Path<FilePath>,
    ValidQuery(q): ValidQuery<RefQuery>,
) -> ApiResult<FileContent> {
    let file = state
        .services
        .github_db()
        .file(
            member.org_id,
            RepositoryId(path_uuid(&repo)?),
            &path,
            q.git_ref.as_deref(),
        )
        .await?;
    Ok(Envelope(file))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorkflowsQuery {
    /// Only this GitHub workflow id (as an incident's `workflow_id`).
    pub workflow_id: Option<i64>,
    /// The `next_cursor` of the previous page, passed back unchanged.
    pub cursor: Option<String>,
    /// Items per page: 1–200, default 50.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkflowsOut {
    pub items: Vec<Workflow>,
    pub next_cursor: Option<String>,
}

/// The repository's workflows with their YAML (at most 50 read from GitHub), by path.
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}/repositories/{repo_id}/workflows", operation_id = "repository_workflows_list", tag = "github", security(("bearer" = [])),
    params(RepositoryPath, WorkflowsQuery),
    responses((status = 200, body = WorkflowsOut), (status = 404, body = ErrorEnvelope), (status = 429, body = ErrorEnvelope),
        (status = 502, body = ErrorEnvelope)))]
pub async fn workflows(
    State(state): State<AppState>,
    member: OrgMember<perm::ReposRead>,
    Path(RepositoryPath { repo_id: repo, .. }): Path<RepositoryPath>,
    ValidQuery(q): ValidQuery<WorkflowsQuery>,
) -> ApiResult<WorkflowsOut> {
    let items = state
        .services
        .github_db()
        .workflows(
            member.org_id,
            RepositoryId(path_uuid(&repo)?),
            q.workflow_id,
        )
        .await?;
    let page = PageQuery {
        cursor: q.cursor,
        limit: q.limit,
    };
    let (items, next_cursor) = page_whole(items, &page, |w| ByName(w.path.clone()))?;
    Ok(Envelope(WorkflowsOut { items, next_cursor }))
}

/// A commit's changed files with patches (at most 100 files, 32 KiB per patch, 256 KiB in all).
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}/repositories/{repo_id}/commits/{sha}/diff", operation_id = "repository_commits_diff", tag = "github", security(("bearer" = [])),
    params(CommitPath),
    responses((status = 200, body = CommitDiff), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 429, body = ErrorEnvelope), (status = 502, body = ErrorEnvelope)))]
pub async fn diff(
    State(state): State<AppState>,
    member: OrgMember<perm::ReposRead>,
    Path(CommitPath {
        repo_id: repo, sha, ..
    }): Path<CommitPath>,
) -> ApiResult<CommitDiff> {
    let diff = state
        .services
        .github_db()
        .commit_diff(member.org_id, RepositoryId(path_uuid(&repo)?), &sha)
        .await?;
    Ok(Envelope(diff))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// The GitHub job id (default: the run's first failed job).
    pub job: Option<i64>,
}

/// A job's full log as plain text, streamed and cut at `GITHUB_LOG_MAX_BYTES`.
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}/workflow-runs/{run_id}/logs", operation_id = "workflow_runs_logs", tag = "incidents", security(("bearer" = [])),
    params(RunPath, LogQuery),
    responses((status = 200, content_type = "text/plain", body = String), (status = 400, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 429, body = ErrorEnvelope), (status = 502, body = ErrorEnvelope)))]
pub async fn logs(
    State(state): State<AppState>,
    member: OrgMember<perm::ReposRead>,
    Path(RunPath { run_id: run, .. }): Path<RunPath>,
    ValidQuery(q): ValidQuery<LogQuery>,
) -> Result<Response, ApiError> {
    let cap = state.services.config.github.log_max_bytes;
    let log = state
        .services
        .github_db()
        .job_log(member.org_id, WorkflowRunId(path_uuid(&run)?), q.job, cap)
        .await?;
    let mut response = Body::from_stream(log.body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&log.job_id.to_string()) {
        headers.insert("x-repopal-job-id", v);
    }
    Ok(response)
}
