//! `/api/v1/orgs/{org_id}/repositories`: the organisation's repositories, as synced from GitHub.

use axum::{
    extract::{Path, State},
    http::StatusCode,
};
use chrono::{DateTime, Utc};
use common::repo::repositories::{self, Filter, Repository};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    error::{ApiError, ApiResult, Envelope, ErrorEnvelope},
    extract::{OrgMember, ValidQuery, perm},
    state::AppState,
};

#[derive(Debug, Deserialize, IntoParams)]
pub struct RepoQuery {
    /// Part of the full name (`owner/name`), case-insensitive.
    pub search: Option<String>,
    pub monitored: Option<bool>,
    /// Include repositories GitHub no longer lists.
    #[serde(default)]
    pub include_removed: bool,
    pub cursor: Option<String>,
    /// 1–500, default 100.
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RepositoryOut {
    pub id: Uuid,
    pub github_id: i64,
    pub full_name: String,
    pub default_branch: Option<String>,
    pub visibility: Option<String>,
    pub archived: bool,
    pub removed: bool,
    pub monitoring_enabled: bool,
    pub auto_incident: bool,
    pub slack_channels: serde_json::Value,
    pub updated_at: DateTime<Utc>,
}

impl From<Repository> for RepositoryOut {
    fn from(r: Repository) -> Self {
        Self {
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
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}/repositories", tag = "github", security(("bearer" = [])),
    params(("org_id" = String, Path, format = Uuid), RepoQuery),
    responses((status = 200, body = RepositoryPageOut), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    member: OrgMember<perm::ReposRead>,
    ValidQuery(q): ValidQuery<RepoQuery>,
) -> ApiResult<RepositoryPageOut> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            "limit must be between 1 and 500",
        ));
    }
    let filter = Filter {
        search: q.search.filter(|s| !s.is_empty()),
        monitored: q.monitored,
        include_removed: q.include_removed,
        after: q.cursor,
        limit: limit + 1,
    };
    let mut items = repositories::list(&state.pool, member.org_id, &filter).await?;
    let more = items.len() as i64 > limit;
    items.truncate(usize::try_from(limit).unwrap_or(100));
    let next_cursor = if more {
        items.last().map(|r| r.full_name.clone())
    } else {
        None
    };
    Ok(Envelope(RepositoryPageOut {
        items: items.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

/// One repository.
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}/repositories/{repo_id}", tag = "github", security(("bearer" = [])),
    params(("org_id" = String, Path, format = Uuid), ("repo_id" = String, Path, format = Uuid)),
    responses((status = 200, body = RepositoryOut), (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(state): State<AppState>,
    member: OrgMember<perm::ReposRead>,
    Path((_org, repo_id)): Path<(String, String)>,
) -> ApiResult<RepositoryOut> {
    let id: Uuid = repo_id.parse().map_err(|_| ApiError::not_found())?;
    let repo = repositories::find(&state.pool, member.org_id, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Envelope(repo.into()))
}
