//! `integration_checks`: the health history, one row per check or manual test.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgExecutor};

use crate::{
    Error,
    domain::{
        CheckId, CheckSource, HealthStatus, IntegrationId, IntegrationKind, OrgId, RecoveryAction,
    },
};

/// One check or test in the health history.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct Check {
    pub id: CheckId,
    pub source: CheckSource,
    pub due_at: Option<DateTime<Utc>>,
    pub checked_at: DateTime<Utc>,
    pub ok: bool,
    pub latency_ms: i32,
    pub attempts: i32,
    pub error: Option<String>,
    pub details: serde_json::Value,
    pub action: Option<RecoveryAction>,
    pub status_before: HealthStatus,
    pub status_after: HealthStatus,
}

pub struct NewCheck<'a> {
    pub integration: IntegrationId,
    pub org: OrgId,
    /// The due time of a scheduled check; `None` for a manual test.
    pub due_at: Option<DateTime<Utc>>,
    pub ok: bool,
    pub latency_ms: i32,
    pub attempts: i32,
    pub error: Option<&'a str>,
    pub details: &'a serde_json::Value,
    pub action: Option<RecoveryAction>,
    pub status_before: HealthStatus,
    pub status_after: HealthStatus,
}

/// Records a check; `None` when this due time was already checked.
pub async fn insert_check(
    db: impl PgExecutor<'_>,
    c: &NewCheck<'_>,
) -> Result<Option<CheckId>, Error> {
    let source = if c.due_at.is_some() {
        CheckSource::Scheduled
    } else {
        CheckSource::Manual
    };
    Ok(sqlx::query_scalar!(
        r#"INSERT INTO integration_checks (integration_id, org_id, source, due_at, ok, latency_ms, attempts,
                                         error, details, action, status_before, status_after)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (integration_id, due_at) WHERE due_at IS NOT NULL DO NOTHING
         RETURNING id AS "id: CheckId""#,
        c.integration as IntegrationId,
        c.org as OrgId,
        source as CheckSource,
        c.due_at,
        c.ok,
        c.latency_ms,
        c.attempts,
        c.error,
        c.details,
        c.action as Option<RecoveryAction>,
        c.status_before as HealthStatus,
        c.status_after as HealthStatus,
    )
    .fetch_optional(db)
    .await?)
}

/// Which checks of the history to list, newest first.
#[derive(Debug, Default)]
pub struct HistoryFilter {
    /// Only checks that changed the status.
    pub transitions: bool,
    /// Only checks strictly before this (checked_at, id): the cursor.
    pub before: Option<(DateTime<Utc>, CheckId)>,
    pub limit: i64,
}

pub async fn history(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: IntegrationId,
    f: &HistoryFilter,
) -> Result<Vec<Check>, Error> {
    let (before_at, before_id) = f.before.unzip();
    Ok(sqlx::query_as!(
        Check,
        r#"SELECT id AS "id: _", source AS "source: _", due_at, checked_at, ok, latency_ms, attempts, error,
             details, action AS "action: _", status_before AS "status_before: _",
             status_after AS "status_after: _"
         FROM integration_checks
         WHERE org_id = $1 AND integration_id = $2
           AND (NOT $3 OR status_before <> status_after)
           AND ($4::timestamptz IS NULL OR (checked_at, id) < ($4, $5::uuid))
         ORDER BY checked_at DESC, id DESC LIMIT $6"#,
        org as OrgId,
        id as IntegrationId,
        f.transitions,
        before_at,
        before_id as Option<CheckId>,
        f.limit,
    )
    .fetch_all(db)
    .await?)
}

/// One check with what an alert about it needs: the integration's type and name.
#[derive(Debug, Clone, FromRow)]
pub struct CheckAlert {
    /// The integration's status now (a later transition supersedes this alert).
    pub current_status: HealthStatus,
    pub kind: IntegrationKind,
    pub name: String,
    pub ok: bool,
    pub error: Option<String>,
    pub status_before: HealthStatus,
    pub status_after: HealthStatus,
}

pub async fn check_alert(
    db: impl PgExecutor<'_>,
    org: OrgId,
    check: CheckId,
) -> Result<Option<CheckAlert>, Error> {
    Ok(sqlx::query_as!(
        CheckAlert,
        r#"SELECT i.status AS "current_status: _", i.kind AS "kind: _", i.name, c.ok, c.error,
             c.status_before AS "status_before: _", c.status_after AS "status_after: _"
         FROM integration_checks c JOIN integrations i ON i.id = c.integration_id
         WHERE c.org_id = $1 AND c.id = $2 AND i.org_id = $1"#,
        org as OrgId,
        check as CheckId,
    )
    .fetch_optional(db)
    .await?)
}
