//! `/api/v1/oauth/…`: connecting GitHub for repository access, the user's connections, on-demand
//! token refresh, disconnecting, and the state of the user's own jobs.

use axum::{
    extract::{Path, State},
    http::HeaderMap,
    response::Response,
};
use chrono::{DateTime, Utc};
use common::{
    domain::{ConnectionId, ConnectionProvider, ConnectionPurpose, ConnectionStatus},
    jobs::JobId,
    repo::oauth::Connection,
};
use serde::Serialize;
use utoipa::ToSchema;

use super::{
    auth::DoneOut,
    github_login::CallbackQuery,
    jobs::JobOut,
    repositories::{JobStarted, JobStartedOut},
};
use crate::extract::{ConnectionPath, MyJobPath};
use crate::{
    error::{ApiError, ApiResult, Envelope, ErrorEnvelope},
    extract::{Client, CurrentUser, ValidQuery, path_uuid},
    flow_cookie::FlowCookie,
    list::{Newest, PageQuery, page_whole},
    state::AppState,
};

pub(crate) const COOKIE: FlowCookie = FlowCookie {
    name: "repopal_connect",
    path: "/api/v1/oauth/github",
};

#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionOut {
    pub id: ConnectionId,
    pub provider: ConnectionProvider,
    pub login: String,
    pub scopes: Vec<String>,
    pub status: ConnectionStatus,
    /// `login`: from "Sign in with GitHub".
    pub purpose: ConnectionPurpose,
    pub token_expires_at: Option<DateTime<Utc>>,
    pub last_refreshed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<Connection> for ConnectionOut {
    fn from(c: Connection) -> Self {
        Self {
            id: c.id,
            provider: c.provider,
            login: c.login,
            scopes: c.scopes,
            status: c.status,
            purpose: c.purpose,
            token_expires_at: c.token_expires_at,
            last_refreshed_at: c.last_refreshed_at,
            created_at: c.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorizeOut {
    /// Send the browser here (the cookie set with this answer must come back with the callback).
    pub url: String,
}

/// Start connecting GitHub for repository access (scopes from `GITHUB_REPO_SCOPES`).
#[utoipa::path(get, path = "/api/v1/oauth/github/authorize", operation_id = "oauth_connections_authorize", tag = "github", security(("bearer" = [])),
    responses((status = 200, body = AuthorizeOut), (status = 400, description = "oauth_not_configured", body = ErrorEnvelope)))]
pub async fn authorize(
    State(state): State<AppState>,
    CurrentUser(caller): CurrentUser,
) -> Result<Response, ApiError> {
    let start = state.identity.connect_authorize(caller).await?;
    let answer = Envelope(AuthorizeOut { url: start.url });
    let public_url = &state.services.config.public_url;
    Ok(COOKIE.setting(public_url, &start.browser_nonce, answer))
}

/// GitHub redirects here; stores the connection.
#[utoipa::path(get, path = "/api/v1/oauth/github/callback", operation_id = "oauth_connections_callback", tag = "github", params(CallbackQuery),
    responses((status = 200, body = ConnectionOut), (status = 400, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope),
              (status = 502, body = ErrorEnvelope)))]
pub async fn callback(
    State(state): State<AppState>,
    Client(meta): Client,
    headers: HeaderMap,
    ValidQuery(q): ValidQuery<CallbackQuery>,
) -> ApiResult<ConnectionOut> {
    let nonce = COOKIE.read(&state.services.config.public_url, &headers);
    let conn = state
        .identity
        .connect_callback(&meta, &q.with_nonce(nonce.as_deref()))
        .await?;
    Ok(Envelope(conn.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionPageOut {
    pub items: Vec<ConnectionOut>,
    pub next_cursor: Option<String>,
}

/// The signed-in user's connections, newest first (tokens are never shown).
#[utoipa::path(get, path = "/api/v1/oauth/connections", operation_id = "oauth_connections_list", tag = "github", security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, body = ConnectionPageOut), (status = 400, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(caller): CurrentUser,
    ValidQuery(q): ValidQuery<PageQuery>,
) -> ApiResult<ConnectionPageOut> {
    let all: Vec<ConnectionOut> = state
        .identity
        .connections(caller)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    let (items, next_cursor) = page_whole(all, &q, |c| Newest::of(c.created_at, c.id.0))?;
    Ok(Envelope(ConnectionPageOut { items, next_cursor }))
}

/// Revoke the token at GitHub, then delete the connection.
#[utoipa::path(delete, path = "/api/v1/oauth/connections/{connection_id}", operation_id = "oauth_connections_delete", tag = "github", security(("bearer" = [])),
    params(ConnectionPath),
    responses((status = 200, body = DoneOut), (status = 404, body = ErrorEnvelope), (status = 502, body = ErrorEnvelope)))]
pub async fn delete(
    State(state): State<AppState>,
    Client(meta): Client,
    CurrentUser(caller): CurrentUser,
    Path(ConnectionPath { connection_id: id }): Path<ConnectionPath>,
) -> ApiResult<DoneOut> {
    state
        .identity
        .disconnect_connection(&meta, caller, path_uuid(&id).map(ConnectionId)?)
        .await?;
    Ok(Envelope(DoneOut { ok: true }))
}

/// Refresh the connection's token now (202 with the job id; see `GET /api/v1/jobs/{job_id}`).
#[utoipa::path(post, path = "/api/v1/oauth/connections/{connection_id}/refresh", operation_id = "oauth_connections_refresh", tag = "github", security(("bearer" = [])),
    params(ConnectionPath),
    responses((status = 202, body = JobStartedOut), (status = 404, body = ErrorEnvelope)))]
pub async fn refresh(
    State(state): State<AppState>,
    CurrentUser(caller): CurrentUser,
    Path(ConnectionPath { connection_id: id }): Path<ConnectionPath>,
) -> Result<JobStarted, ApiError> {
    let job = state
        .identity
        .refresh_connection_now(caller, path_uuid(&id).map(ConnectionId)?)
        .await?;
    Ok(JobStartedOut::accepted(job))
}

/// A job the signed-in user started (e.g. a token refresh).
#[utoipa::path(get, path = "/api/v1/jobs/{job_id}", operation_id = "jobs_get_mine", tag = "jobs", security(("bearer" = [])),
    params(MyJobPath),
    responses((status = 200, body = JobOut), (status = 404, body = ErrorEnvelope)))]
pub async fn my_job(
    State(state): State<AppState>,
    CurrentUser(caller): CurrentUser,
    Path(MyJobPath { job_id: id }): Path<MyJobPath>,
) -> ApiResult<JobOut> {
    let job = common::repo::jobs::find_for_user(&state.services.pool, caller.user_id, &JobId(id))
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Envelope(super::jobs::job_out(job)))
}
