//! `/api/v1/auth/sessions`: the signed-in user's sessions (one per login), and ending one.

use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use common::{domain::SessionId, repo::sessions::Session};
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::DoneOut;
use crate::extract::SessionPath;
use crate::{
    error::{ApiError, ApiResult, Envelope, ErrorEnvelope},
    extract::{Client, CurrentUser, ValidQuery},
    list::{Newest, PageQuery, page_whole},
    state::AppState,
};

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionOut {
    pub id: SessionId,
    /// The device, as its user agent.
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// This is the session making the request.
    pub current: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionPageOut {
    pub items: Vec<SessionOut>,
    pub next_cursor: Option<String>,
}

/// The signed-in user's active sessions, newest first.
#[utoipa::path(get, path = "/api/v1/auth/sessions", operation_id = "sessions_list", tag = "auth", security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, body = SessionPageOut), (status = 400, body = ErrorEnvelope)))]
pub async fn sessions(
    State(state): State<AppState>,
    CurrentUser(caller): CurrentUser,
    ValidQuery(q): ValidQuery<PageQuery>,
) -> ApiResult<SessionPageOut> {
    let list = state.identity.list_sessions(caller).await?;
    let (list, next_cursor) = page_whole(list, &q, |s| Newest::of(s.created_at, s.id.0))?;
    Ok(Envelope(SessionPageOut {
        next_cursor,
        items: list
            .into_iter()
            .map(|s: Session| SessionOut {
                current: s.id == caller.session_id,
                id: s.id,
                user_agent: s.user_agent,
                ip: s.ip,
                created_at: s.created_at,
                last_used_at: s.last_used_at,
                expires_at: s.expires_at,
            })
            .collect(),
    }))
}

/// End one of the signed-in user's sessions.
#[utoipa::path(delete, path = "/api/v1/auth/sessions/{session_id}", operation_id = "sessions_delete", tag = "auth", security(("bearer" = [])),
    params(SessionPath),
    responses((status = 200, body = DoneOut), (status = 404, body = ErrorEnvelope)))]
pub async fn end_session(
    State(state): State<AppState>,
    Client(meta): Client,
    CurrentUser(caller): CurrentUser,
    Path(SessionPath { session_id }): Path<SessionPath>,
) -> ApiResult<DoneOut> {
    let id = session_id
        .parse()
        .map(SessionId)
        .map_err(|_| ApiError::not_found())?;
    state.identity.end_session(&meta, caller, id).await?;
    Ok(Envelope(DoneOut { ok: true }))
}
