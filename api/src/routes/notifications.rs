//! `/api/v1/notifications`: the caller's in-app notifications (incidents opened, still failing,
//! resolved in organisations they administer), and marking them read.

use axum::{
    extract::{Path, State},
    http::StatusCode,
};
use chrono::{DateTime, Utc};
use common::{
    domain::{IncidentId, NotificationId, NotificationKind, OrgId},
    repo::notifications::{self, Filter, Notification, Show},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::extract::NotificationPath;
use crate::{
    error::{ApiError, ApiResult, Envelope, ErrorEnvelope},
    extract::{CurrentUser, ValidQuery, path_id},
    pagination,
    state::AppState,
};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    /// Only unread ones.
    #[serde(default)]
    pub unread: bool,
    pub cursor: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationOut {
    pub id: NotificationId,
    pub org_id: OrgId,
    pub incident_id: Option<IncidentId>,
    pub integration_id: Option<Uuid>,
    /// About incidents: `opened`, `still_failing` or `resolved`; about integrations:
    /// `integration_error` or `integration_recovered`.
    pub kind: NotificationKind,
    pub title: String,
    pub read: bool,
    pub created_at: DateTime<Utc>,
}

impl From<Notification> for NotificationOut {
    fn from(n: Notification) -> Self {
        Self {
            id: n.id,
            org_id: n.org_id,
            incident_id: n.incident_id,
            integration_id: n.integration_id,
            kind: n.kind,
            title: n.title,
            read: n.read_at.is_some(),
            created_at: n.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationPageOut {
    pub items: Vec<NotificationOut>,
    pub next_cursor: Option<String>,
}

/// The caller's notifications, newest first.
#[utoipa::path(get, path = "/api/v1/notifications", operation_id = "notifications_list", tag = "incidents", security(("bearer" = [])),
    params(NotificationQuery),
    responses((status = 200, body = NotificationPageOut), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(caller): CurrentUser,
    ValidQuery(q): ValidQuery<NotificationQuery>,
) -> ApiResult<NotificationPageOut> {
    let limit = pagination::limit(q.limit, 50, 200)?;
    let filter = Filter {
        show: if q.unread { Show::Unread } else { Show::All },
        before: pagination::time_cursor(q.cursor.as_deref())?,
        limit: limit + 1,
    };
    let rows = notifications::list(&state.services.pool, caller.user_id, &filter).await?;
    let (rows, next_cursor) = pagination::page(rows, limit, |n| (n.created_at, n.id.0));
    Ok(Envelope(NotificationPageOut {
        items: rows.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

/// Mark one notification read (404 when it is not the caller's).
#[utoipa::path(post, path = "/api/v1/notifications/{notification_id}/read", operation_id = "notifications_read", tag = "incidents", security(("bearer" = [])),
    params(NotificationPath),
    responses((status = 204), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn read(
    State(state): State<AppState>,
    CurrentUser(caller): CurrentUser,
    Path(NotificationPath {
        notification_id: id,
    }): Path<NotificationPath>,
) -> Result<StatusCode, ApiError> {
    let id = path_id(&id)?;
    if notifications::mark_read(&state.services.pool, caller.user_id, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found())
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReadAllOut {
    pub marked: u64,
}

/// Mark all of the caller's notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/read-all", operation_id = "notifications_read_all", tag = "incidents", security(("bearer" = [])),
    responses((status = 200, body = ReadAllOut), (status = 401, body = ErrorEnvelope)))]
pub async fn read_all(
    State(state): State<AppState>,
    CurrentUser(caller): CurrentUser,
) -> ApiResult<ReadAllOut> {
    let marked = notifications::mark_all_read(&state.services.pool, caller.user_id).await?;
    Ok(Envelope(ReadAllOut { marked }))
}
