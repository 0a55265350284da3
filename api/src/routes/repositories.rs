//! `/api/v1/orgs/{org_id}/repositories`: the organisation's repositories, as synced from GitHub.

use axum::{
    extract::{Path, State},
    http::StatusCode,
};
use chrono::{DateTime, Utc};
use common::{
    domain::{InstallationId, RepositoryId},
    repo::repositories::{self, Filter, Repository},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::extract::RepositoryPath;
use crate::{
    error::{ApiError, ApiResult, Envelope, ErrorEnvelope},
    extract::{ActOn, FieldErrors, OrgMember, ValidJson, ValidQuery, path_id, perm},
    state::AppState,
};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RepoQuery {
    /// Part of the full name (`owner/name`), case-insensitive.
    pub search: Option<String>,
    pub monitored: Option<bool>,
    /// Include repositories GitHub no longer lists.
    #[serde(default)]
    pub include_removed: bool,
    pub cursor: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RepositoryOut {
    pub id: RepositoryId,
    pub github_id: i64,
    pub full_name: String,
    pub default_branch: Option<String>,
    pub visibility: Option<String>,
    pub archived: bool,
    pub removed: bool,
    /// Monitoring was asked for (connect); see `monitored` for whether it works.
    pub monitoring_enabled: bool,
    /// Monitored in fact: asked for and RepoPal's webhook is installed (`hook_state` `active`).
    pub monitored: bool,
    pub hook: HookOut,
    /// How RepoPal reaches the repository: `installation` (the GitHub App, preferred),
    /// `connection` (a user's GitHub connection) or null.
    pub access: Option<&'static str>,
    pub auto_incident: bool,
    pub slack_channels: serde_json::Value,
    pub updated_at: DateTime<Utc>,
}

/// RepoPal's webhook on the repository.
#[derive(Debug, Serialize, ToSchema)]
pub struct HookOut {
    /// `none` (not monitored), `pending`, `active` or `failed`.
    pub state: common::repo::repositories::HookState,
    /// Why the last install failed: a stable code (e.g. `github_hook_forbidden`) and a reason.
    pub error_code: Option<String>,
    pub error: Option<String>,
    pub changed_at: Option<DateTime<Utc>>,
}

impl From<Repository> for RepositoryOut {
    fn from(r: Repository) -> Self {
        let monitored = r.monitored();
        let access = common::github::RepoAccess::of(&r).map(|a| match a {
            common::github::RepoAccess::Installation(_) => "installation",
            common::github::RepoAccess::Connection(_) => "connection",
        });
        Self {
            monitored,
            access,
            hook: HookOut {
                state: r.hook_state,
                error_code: r.hook_error_code,
                error: r.hook_error,
                changed_at: r.hook_state_at,
            },
            id: r.id,
            github_id: r.github_id,
            full_name: r.full_name,
            default_branch: r.default_branch,
            visibility: r.visibility,
            archived: r.archived,
            removed: r.removed_at.is_some(),
            monitoring_enabled: r.monitoring_enabled,
            auto_incident: r.auto_incident,
            slack_channels: r.slack_channels,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RepositoryPageOut {
    pub items: Vec<RepositoryOut>,
    pub next_cursor: Option<String>,
}

/// The organisation's repositories by name, with search and filters.
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}/repositories", operation_id = "repositories_list", tag = "github", security(("bearer" = [])),
    params(("org_id" = String, Path, format = Uuid), RepoQuery),
    responses((status = 200, body = RepositoryPageOut), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    member: OrgMember<perm::ReposRead>,
    ValidQuery(q): ValidQuery<RepoQuery>,
) -> ApiResult<RepositoryPageOut> {
    let limit =
        crate::pagination::limit(q.limit, crate::list::DEFAULT_LIMIT, crate::list::MAX_LIMIT)?;
    let filter = Filter {
        search: q.search.filter(|s| !s.is_empty()),
        monitored: q.monitored,
        include_removed: q.include_removed,
        after: q.cursor,
        limit,
    };
    let common::github::RepoPage { items, next_cursor } =
        common::github::page(&state.services.pool, member.org_id, filter).await?;
    Ok(Envelope(RepositoryPageOut {
        items: items.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

/// One repository.
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}/repositories/{repo_id}", operation_id = "repositories_get", tag = "github", security(("bearer" = [])),
    params(RepositoryPath),
    responses((status = 200, body = RepositoryOut), (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(state): State<AppState>,
    member: OrgMember<perm::ReposRead>,
    Path(RepositoryPath { repo_id, .. }): Path<RepositoryPath>,
) -> ApiResult<RepositoryOut> {
    let id = path_id(&repo_id)?;
    let repo = repositories::find(&state.services.pool, member.org_id, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Envelope(repo.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobStartedOut {
    /// Follow it at `/api/v1/orgs/{org_id}/jobs/{job_id}`.
    pub job_id: String,
}

/// 202 with the id of the job doing the work.
pub type JobStarted = (StatusCode, Envelope<JobStartedOut>);

impl JobStartedOut {
    /// The 202 answer for `job`.
    pub fn accepted(job: common::jobs::JobId) -> JobStarted {
        (StatusCode::ACCEPTED, Envelope(Self { job_id: job.0 }))
    }
}

async fn start(
    on: ActOn<perm::ReposManage, RepositoryPath>,
    action: common::jobs::HookAction,
) -> Result<JobStarted, ApiError> {
    let job =
        common::github::hook_job(&on.state.services.pool, &on.acting(), on.id()?, action).await?;
    Ok(JobStartedOut::accepted(job))
}

/// Monitor the repository: RepoPal's webhook is installed by a job (202 with its id).
#[utoipa::path(post, path = "/api/v1/orgs/{org_id}/repositories/{repo_id}/connect", operation_id = "repositories_connect", tag = "github", security(("bearer" = [])),
    params(RepositoryPath),
    responses((status = 202, body = JobStartedOut), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn connect(on: ActOn<perm::ReposManage, RepositoryPath>) -> Result<JobStarted, ApiError> {
    start(on, common::jobs::HookAction::Install).await
}

/// Stop monitoring: the webhook is removed by a job (202 with its id).
#[utoipa::path(post, path = "/api/v1/orgs/{org_id}/repositories/{repo_id}/disconnect", operation_id = "repositories_disconnect", tag = "github", security(("bearer" = [])),
    params(RepositoryPath),
    responses((status = 202, body = JobStartedOut), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn disconnect(
    on: ActOn<perm::ReposManage, RepositoryPath>,
) -> Result<JobStarted, ApiError> {
    start(on, common::jobs::HookAction::Remove).await
}

/// Ask GitHub to ping RepoPal's webhook (202 with the job id).
#[utoipa::path(post, path = "/api/v1/orgs/{org_id}/repositories/{repo_id}/test", operation_id = "repositories_test", tag = "github", security(("bearer" = [])),
    params(RepositoryPath),
    responses((status = 202, body = JobStartedOut), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn test(on: ActOn<perm::ReposManage, RepositoryPath>) -> Result<JobStarted, ApiError> {
    start(on, common::jobs::HookAction::Ping).await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RepositoryPatch {
    /// Open incidents automatically when a workflow fails.
    pub auto_incident: Option<bool>,
    /// Slack channels notified about this repository (ids or `#names`, at most 20).
    #[schema(value_type = Option<Vec<crate::request_formats::SlackChannel>>, max_items = 20)]
    pub slack_channels: Option<Vec<String>>,
}

/// Change a repository's settings.
#[utoipa::path(patch, path = "/api/v1/orgs/{org_id}/repositories/{repo_id}", operation_id = "repositories_update", tag = "github", security(("bearer" = [])),
    params(RepositoryPath), request_body = RepositoryPatch,
    responses((status = 200, body = RepositoryOut), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn update(
    on: ActOn<perm::ReposManage, RepositoryPath>,
    ValidJson(body): ValidJson<RepositoryPatch>,
) -> ApiResult<RepositoryOut> {
    let id = on.id()?;
    let mut errors = FieldErrors::default();
    if let Some(channels) = &body.slack_channels {
        let checked = common::github::check_channels(channels);
        errors.require(
            "slack_channels",
            checked.is_ok(),
            checked.err().unwrap_or_default(),
        );
    }
    errors.finish()?;
    let channels = body.slack_channels.map(|c| serde_json::json!(c));
    let repo = common::github::update_settings(
        &on.state.services.pool,
        &on.acting(),
        id,
        body.auto_incident,
        channels.as_ref(),
    )
    .await?;
    Ok(Envelope(repo.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RepositoryStatusOut {
    pub monitoring_enabled: bool,
    /// Asked for AND the webhook is active.
    pub monitored: bool,
    pub hook: HookOut,
    pub removed: bool,
    /// RepoPal's webhook on GitHub, when installed.
    pub hook_id: Option<i64>,
    pub installation_id: Option<InstallationId>,
}

/// Whether the repository is monitored and its webhook installed.
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}/repositories/{repo_id}/status", operation_id = "repositories_status", tag = "github", security(("bearer" = [])),
    params(RepositoryPath),
    responses((status = 200, body = RepositoryStatusOut), (status = 404, body = ErrorEnvelope)))]
pub async fn status(
    State(state): State<AppState>,
    member: OrgMember<perm::ReposRead>,
    Path(RepositoryPath { repo_id: repo, .. }): Path<RepositoryPath>,
) -> ApiResult<RepositoryStatusOut> {
    let repo = repositories::find(&state.services.pool, member.org_id, path_id(&repo)?)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let hooks = common::repo::repository_hooks::for_repository(
        &state.services.pool,
        member.org_id,
        repo.github_id,
    )
    .await?;
    Ok(Envelope(RepositoryStatusOut {
        monitored: repo.monitored(),
        hook: HookOut {
            state: repo.hook_state,
            error_code: repo.hook_error_code.clone(),
            error: repo.hook_error.clone(),
            changed_at: repo.hook_state_at,
        },
        monitoring_enabled: repo.monitoring_enabled,
        removed: repo.removed_at.is_some(),
        hook_id: hooks.first().copied(),
        installation_id: repo.installation_id,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SyncIn {
    /// One of the caller's OAuth connections (`GET /api/v1/oauth/connections`).
    pub connection_id: common::domain::ConnectionId,
}

/// Sync the repositories the caller's GitHub connection can see into this organisation
/// (`GET /user/repos`); 202 with the job id.
#[utoipa::path(post, path = "/api/v1/orgs/{org_id}/repositories/sync", operation_id = "repositories_sync", tag = "github", security(("bearer" = [])),
    params(("org_id" = String, Path, format = Uuid)), request_body = SyncIn,
    responses((status = 202, body = JobStartedOut), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn sync(
    State(state): State<AppState>,
    member: OrgMember<perm::ReposManage>,
    ValidJson(body): ValidJson<SyncIn>,
) -> Result<JobStarted, ApiError> {
    let job = common::github::connection_sync_job(
        &state.services.pool,
        member.org_id,
        member.caller.user_id,
        body.connection_id,
    )
    .await?;
    Ok(JobStartedOut::accepted(job))
}
