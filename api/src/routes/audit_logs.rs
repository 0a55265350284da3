//! `/api/v1/orgs/{org_id}/audit-logs`: the organisation's security events (org_admin).

use axum::extract::State;
use chrono::{DateTime, Utc};
use common::{
    domain::{AuditStatus, UserId},
    repo::audit_logs::{Entry, Filter},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    error::{ApiResult, Envelope, ErrorEnvelope},
    extract::{OrgMember, ValidQuery, perm},
    pagination,
    state::AppState,
};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Exact action, e.g. `member.role_change`.
    pub action: Option<String>,
    /// Actor user id.
    pub actor: Option<uuid::Uuid>,
    /// Entries at or after this time (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Entries before this time (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryOut {
    pub id: i64,
    pub actor_user_id: Option<UserId>,
    pub action: String,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub status: AuditStatus,
    pub metadata: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPageOut {
    pub items: Vec<AuditEntryOut>,
    /// Pass as `cursor` for the next (older) page; null on the last page.
    pub next_cursor: Option<String>,
}

/// The organisation's audit log, newest first, with filters and cursor pagination (org_admin).
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}/audit-logs", operation_id = "audit_logs_list", tag = "orgs", security(("bearer" = [])),
    params(("org_id" = String, Path, format = Uuid), AuditQuery),
    responses((status = 200, body = AuditPageOut), (status = 400, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    member: OrgMember<perm::AuditRead>,
    ValidQuery(q): ValidQuery<AuditQuery>,
) -> ApiResult<AuditPageOut> {
    let limit = pagination::limit(q.limit, 50, 200)?;
    let before_id = pagination::id_cursor(q.cursor.as_deref())?;
    let filter = Filter {
        action: q.action,
        actor: q.actor.map(UserId),
        from: q.from,
        to: q.to,
        resource: None,
        before_id,
        limit: limit + 1,
    };
    let entries: Vec<Entry> = state.identity.audit_log(member.org_id, &filter).await?;
    Ok(Envelope(page_out(entries, limit)))
}

/// One page of entries (fetched with `limit + 1` to know whether there is more).
pub fn page_out(mut entries: Vec<Entry>, limit: i64) -> AuditPageOut {
    let more = entries.len() as i64 > limit;
    entries.truncate(usize::try_from(limit).unwrap_or(50));
    let next_cursor = if more {
        entries.last().map(|e| e.id.to_string())
    } else {
        None
    };
    AuditPageOut {
        items: entries
            .into_iter()
            .map(|e| AuditEntryOut {
                id: e.id,
                actor_user_id: e.actor_user_id,
                action: e.action,
                resource_type: e.resource_type,
                resource_id: e.resource_id,
                ip: e.ip,
                user_agent: e.user_agent,
                status: e.status,
                metadata: e.metadata,
                created_at: e.created_at,
            })
            .collect(),
        next_cursor,
    }
}
