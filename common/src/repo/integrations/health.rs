//! Integration health on the row: applying a check's result, counting requests, the schedule's
//! fan-out queries and the Prometheus figures.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgExecutor};

use crate::{
    Error,
    domain::{HealthStatus, IntegrationId, IntegrationKind, OrgId},
};

/// The health after a scheduled check.
pub struct CheckApplied<'a> {
    pub ok: bool,
    pub status: HealthStatus,
    pub consecutive_failures: i32,
    pub failing_since: Option<DateTime<Utc>>,
    pub last_error: Option<&'a str>,
    pub latency_ms: i32,
    pub next_check_at: Option<DateTime<Utc>>,
    pub api_calls: i32,
    pub api_errors: i32,
}

pub async fn apply_check(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: IntegrationId,
    c: &CheckApplied<'_>,
) -> Result<(), Error> {
    sqlx::query!(
        "UPDATE integrations SET status = $3, consecutive_failures = $4, failing_since = $5, last_error = $6,
             last_latency_ms = $7, next_check_at = $8, last_check_at = now(),
             last_success_at = CASE WHEN $9 THEN now() ELSE last_success_at END,
             api_calls = api_calls + $10, api_errors = api_errors + $11, updated_at = now()
         WHERE org_id = $1 AND id = $2",
        org as OrgId,
        id as IntegrationId,
        c.status as HealthStatus,
        c.consecutive_failures,
        c.failing_since,
        c.last_error,
        c.latency_ms,
        c.next_check_at,
        c.ok,
        i64::from(c.api_calls),
        i64::from(c.api_errors),
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Counts the requests of a manual test.
pub async fn count_calls(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: IntegrationId,
    calls: i32,
    errors: i32,
) -> Result<(), Error> {
    sqlx::query!(
        "UPDATE integrations SET api_calls = api_calls + $3, api_errors = api_errors + $4
         WHERE org_id = $1 AND id = $2",
        org as OrgId,
        id as IntegrationId,
        i64::from(calls),
        i64::from(errors),
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn set_next_check(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: IntegrationId,
    at: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query!(
        "UPDATE integrations SET next_check_at = $3 WHERE org_id = $1 AND id = $2",
        org as OrgId,
        id as IntegrationId,
        at,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// An integration due for work, across organisations.
#[derive(Debug, Clone, Copy)]
pub struct Due {
    pub id: IntegrationId,
    pub at: DateTime<Utc>,
}

/// Integrations whose next check is due. Across organisations on purpose: the scheduler's
/// fan-out (each check then loads its organisation, `org_of`). The status list is spelled as in
/// the partial index `integrations_due_idx`, so the planner can use it.
pub async fn due_for_check(db: impl PgExecutor<'_>) -> Result<Vec<Due>, Error> {
    Ok(sqlx::query_as!(
        Due,
        r#"SELECT id AS "id: _", next_check_at AS "at!" FROM integrations
         WHERE enabled AND status NOT IN ('disabled', 'reauth_required') AND next_check_at <= now()
         ORDER BY next_check_at LIMIT 5000"#,
    )
    .fetch_all(db)
    .await?)
}

/// Integrations with a rotating token expiring within `margin_secs`. Across organisations on
/// purpose, like `due_for_check`.
pub async fn due_for_token_refresh(
    db: impl PgExecutor<'_>,
    margin_secs: f64,
) -> Result<Vec<Due>, Error> {
    Ok(sqlx::query_as!(
        Due,
        r#"SELECT id AS "id: _", token_expires_at AS "at!" FROM integrations
         WHERE enabled AND status <> $2 AND token_expires_at IS NOT NULL
           AND token_expires_at <= now() + make_interval(secs => $1)
         ORDER BY token_expires_at LIMIT 5000"#,
        margin_secs,
        HealthStatus::ReauthRequired as HealthStatus,
    )
    .fetch_all(db)
    .await?)
}

/// Per-integration figures for the Prometheus exposition (across organisations, labelled by org).
#[derive(Debug, Clone, FromRow)]
pub struct Gauge {
    pub id: IntegrationId,
    pub org_id: OrgId,
    pub kind: IntegrationKind,
    pub status: HealthStatus,
    pub api_calls: i64,
    pub api_errors: i64,
    pub last_latency_ms: Option<i32>,
    pub consecutive_failures: i32,
}

pub async fn gauges(db: impl PgExecutor<'_>) -> Result<Vec<Gauge>, Error> {
    Ok(sqlx::query_as!(
        Gauge,
        r#"SELECT id AS "id: _", org_id AS "org_id: _", kind AS "kind: _", status AS "status: _", api_calls,
             api_errors, last_latency_ms, consecutive_failures
         FROM integrations ORDER BY org_id, id LIMIT 10000"#,
    )
    .fetch_all(db)
    .await?)
}
