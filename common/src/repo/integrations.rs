//! `integrations`: an organisation's connections to other tools, with credentials sealed as one
//! JSON object and only masked hints readable.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgConnection, PgExecutor, QueryBuilder};
use uuid::Uuid;

use crate::{
    Error,
    domain::{OrgId, UserId},
};

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct Integration {
    pub id: Uuid,
    pub org_id: OrgId,
    pub kind: String,
    pub name: String,
    pub config: serde_json::Value,
    pub credential_hints: serde_json::Value,
    pub enabled: bool,
    pub status: String,
    pub last_error: Option<String>,
    pub next_check_at: Option<DateTime<Utc>>,
    pub last_check_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_latency_ms: Option<i32>,
    pub consecutive_failures: i32,
    pub failing_since: Option<DateTime<Utc>>,
    pub token_expires_at: Option<DateTime<Utc>>,
    pub api_calls: i64,
    pub api_errors: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, org_id, kind, name, config, credential_hints, enabled, status, last_error, \
    next_check_at, last_check_at, last_success_at, last_latency_ms, consecutive_failures, failing_since, \
    token_expires_at, api_calls, api_errors, created_at, updated_at";

pub struct NewIntegration<'a> {
    pub id: Uuid,
    pub org: OrgId,
    pub kind: &'a str,
    pub name: &'a str,
    pub config: &'a serde_json::Value,
    pub credentials_sealed: &'a str,
    pub credential_hints: &'a serde_json::Value,
    pub created_by: Option<UserId>,
    pub token_expires_at: Option<DateTime<Utc>>,
    pub next_check_at: DateTime<Utc>,
}

/// Inserts; a name already used in the organisation is a conflict.
pub async fn insert(db: impl PgExecutor<'_>, n: &NewIntegration<'_>) -> Result<Integration, Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO integrations (id, org_id, kind, name, config, credentials_sealed, credential_hints, created_by,
                                   token_expires_at, next_check_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {COLUMNS}"
    )))
    .bind(n.id)
    .bind(n.org)
    .bind(n.kind)
    .bind(n.name)
    .bind(n.config)
    .bind(n.credentials_sealed)
    .bind(n.credential_hints)
    .bind(n.created_by)
    .bind(n.token_expires_at)
    .bind(n.next_check_at)
    .fetch_one(db)
    .await
    .map_err(super::conflicts::map)
}

#[derive(Debug, Default)]
pub struct Filter {
    pub status: Option<String>,
    pub kind: Option<String>,
}

pub async fn list(
    db: impl PgExecutor<'_>,
    org: OrgId,
    f: &Filter,
) -> Result<Vec<Integration>, Error> {
    let mut q = QueryBuilder::new(format!(
        "SELECT {COLUMNS} FROM integrations WHERE org_id = "
    ));
    q.push_bind(org);
    if let Some(status) = &f.status {
        q.push(" AND status = ").push_bind(status.clone());
    }
    if let Some(kind) = &f.kind {
        q.push(" AND kind = ").push_bind(kind.clone());
    }
    q.push(" ORDER BY name");
    Ok(q.build_query_as().fetch_all(db).await?)
}

pub async fn update_config(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: Uuid,
    name: Option<&str>,
    config: Option<&serde_json::Value>,
) -> Result<Option<Integration>, Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE integrations SET name = coalesce($3, name), config = coalesce($4, config), updated_at = now()
         WHERE org_id = $1 AND id = $2 RETURNING {COLUMNS}"
    )))
    .bind(org)
    .bind(id)
    .bind(name)
    .bind(config)
    .fetch_optional(db)
    .await
    .map_err(super::conflicts::map)
}

/// Enables (health reset, checked at `next_check_at`; new credentials are still needed after a
/// rejection) or disables (no more checks, not used) an integration.
pub async fn set_enabled(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: Uuid,
    enabled: bool,
    next_check_at: Option<DateTime<Utc>>,
) -> Result<Option<Integration>, Error> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE integrations SET enabled = $3,
             next_check_at = CASE WHEN $3 AND status <> 'reauth_required' THEN $4::timestamptz END,
             status = CASE WHEN $3 AND status <> 'reauth_required' THEN 'active' ELSE status END,
             consecutive_failures = CASE WHEN $3 THEN 0 ELSE consecutive_failures END,
             failing_since = CASE WHEN $3 THEN NULL ELSE failing_since END,
             updated_at = now()
         WHERE org_id = $1 AND id = $2 RETURNING {COLUMNS}"
    )))
    .bind(org)
    .bind(id)
    .bind(enabled)
    .bind(next_check_at)
    .fetch_optional(db)
    .await?)
}

/// What a check or test needs: the integration and its sealed credentials.
#[derive(Debug, Clone, FromRow)]
pub struct Sealed {
    pub id: Uuid,
    pub org_id: OrgId,
    pub kind: String,
    pub config: serde_json::Value,
    pub credentials_sealed: Option<String>,
    pub enabled: bool,
    pub status: String,
    pub consecutive_failures: i32,
    pub failing_since: Option<DateTime<Utc>>,
    pub next_check_at: Option<DateTime<Utc>>,
    pub token_expires_at: Option<DateTime<Utc>>,
    pub last_refreshed_at: Option<DateTime<Utc>>,
}

const SEALED: &str = "id, org_id, kind, config, credentials_sealed, enabled, status, consecutive_failures, \
    failing_since, next_check_at, token_expires_at, last_refreshed_at";

/// The organisation an integration belongs to, for work that starts from an integration id
/// alone (a scheduled check or token refresh), before every call scoped by organisation.
pub async fn org_of(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<OrgId>, Error> {
    Ok(
        sqlx::query_scalar("SELECT org_id FROM integrations WHERE id = $1")
            .bind(id)
            .fetch_optional(db)
            .await?,
    )
}

pub async fn sealed(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: Uuid,
) -> Result<Option<Sealed>, Error> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {SEALED} FROM integrations WHERE org_id = $1 AND id = $2"
    )))
    .bind(org)
    .bind(id)
    .fetch_optional(db)
    .await?)
}

/// The same, locked until the transaction ends (one check or credentials change at a time).
pub async fn lock(tx: &mut PgConnection, org: OrgId, id: Uuid) -> Result<Option<Sealed>, Error> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {SEALED} FROM integrations WHERE org_id = $1 AND id = $2 FOR UPDATE"
    )))
    .bind(org)
    .bind(id)
    .fetch_optional(tx)
    .await?)
}

/// New credentials: stored, and the health starts afresh (`active`, checked at `next_check_at`).
pub struct NewCredentials<'a> {
    /// A new config to store with them (the credentials were tested against it).
    pub config: Option<&'a serde_json::Value>,
    pub sealed: &'a str,
    pub hints: &'a serde_json::Value,
    pub token_expires_at: Option<DateTime<Utc>>,
    pub refreshed: bool,
    pub next_check_at: DateTime<Utc>,
}

pub async fn replace_credentials(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: Uuid,
    c: &NewCredentials<'_>,
) -> Result<Option<Integration>, Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE integrations SET credentials_sealed = $2, credential_hints = $3, token_expires_at = $4,
             last_refreshed_at = CASE WHEN $5 THEN now() ELSE last_refreshed_at END,
             config = coalesce($7, config),
             status = 'active',
             consecutive_failures = 0, failing_since = NULL, last_error = NULL,
             next_check_at = CASE WHEN enabled THEN $6 END, updated_at = now()
         WHERE id = $1 AND org_id = $8 RETURNING {COLUMNS}"
    )))
    .bind(id)
    .bind(c.sealed)
    .bind(c.hints)
    .bind(c.token_expires_at)
    .bind(c.refreshed)
    .bind(c.next_check_at)
    .bind(c.config)
    .bind(org)
    .fetch_optional(db)
    .await
    .map_err(super::conflicts::map)
}

/// The health after a scheduled check.
pub struct CheckApplied<'a> {
    pub ok: bool,
    pub status: &'a str,
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
    id: Uuid,
    c: &CheckApplied<'_>,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE integrations SET status = $2, consecutive_failures = $3, failing_since = $4, last_error = $5,
             last_latency_ms = $6, next_check_at = $7, last_check_at = now(),
             last_success_at = CASE WHEN $8 THEN now() ELSE last_success_at END,
             api_calls = api_calls + $9, api_errors = api_errors + $10, updated_at = now()
         WHERE id = $1 AND org_id = $11",
    )
    .bind(id)
    .bind(c.status)
    .bind(c.consecutive_failures)
    .bind(c.failing_since)
    .bind(c.last_error)
    .bind(c.latency_ms)
    .bind(c.next_check_at)
    .bind(c.ok)
    .bind(c.api_calls)
    .bind(c.api_errors)
    .bind(org)
    .execute(db)
    .await?;
    Ok(())
}

/// Counts the requests of a manual test.
pub async fn count_calls(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: Uuid,
    calls: i32,
    errors: i32,
) -> Result<(), Error> {
    sqlx::query("UPDATE integrations SET api_calls = api_calls + $2, api_errors = api_errors + $3 WHERE id = $1 AND org_id = $4")
        .bind(id)
        .bind(calls)
        .bind(errors)
        .bind(org)
        .execute(db)
        .await?;
    Ok(())
}

/// One check or test in the health history.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct Check {
    pub id: Uuid,
    pub source: String,
    pub due_at: Option<DateTime<Utc>>,
    pub checked_at: DateTime<Utc>,
    pub ok: bool,
    pub latency_ms: i32,
    pub attempts: i32,
    pub error: Option<String>,
    pub details: serde_json::Value,
    pub action: Option<String>,
    pub status_before: String,
    pub status_after: String,
}

pub struct NewCheck<'a> {
    pub integration: Uuid,
    pub org: OrgId,
    pub due_at: Option<DateTime<Utc>>,
    pub ok: bool,
    pub latency_ms: i32,
    pub attempts: i32,
    pub error: Option<&'a str>,
    pub details: &'a serde_json::Value,
    pub action: Option<&'a str>,
    pub status_before: &'a str,
    pub status_after: &'a str,
}

/// Records a check; `None` when this due time was already checked.
pub async fn insert_check(
    db: impl PgExecutor<'_>,
    c: &NewCheck<'_>,
) -> Result<Option<Uuid>, Error> {
    Ok(sqlx::query_scalar(
        "INSERT INTO integration_checks (integration_id, org_id, source, due_at, ok, latency_ms, attempts, error,
                                         details, action, status_before, status_after)
         VALUES ($1, $2, CASE WHEN $3::timestamptz IS NULL THEN 'manual' ELSE 'scheduled' END, $3, $4, $5, $6, $7,
                 $8, $9, $10, $11)
         ON CONFLICT (integration_id, due_at) WHERE due_at IS NOT NULL DO NOTHING
         RETURNING id",
    )
    .bind(c.integration)
    .bind(c.org)
    .bind(c.due_at)
    .bind(c.ok)
    .bind(c.latency_ms)
    .bind(c.attempts)
    .bind(c.error)
    .bind(c.details)
    .bind(c.action)
    .bind(c.status_before)
    .bind(c.status_after)
    .fetch_optional(db)
    .await?)
}

#[derive(Debug, Default)]
pub struct HistoryFilter {
    /// Only checks that changed the status.
    pub transitions: bool,
    pub before: Option<(DateTime<Utc>, Uuid)>,
    pub limit: i64,
}

pub async fn history(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: Uuid,
    f: &HistoryFilter,
) -> Result<Vec<Check>, Error> {
    let mut q = QueryBuilder::new(
        "SELECT id, source, due_at, checked_at, ok, latency_ms, attempts, error, details, action, status_before,
                status_after
         FROM integration_checks WHERE org_id = ",
    );
    q.push_bind(org)
        .push(" AND integration_id = ")
        .push_bind(id);
    if f.transitions {
        q.push(" AND status_before <> status_after");
    }
    super::paging::push_page(&mut q, "checked_at", "id", f.before, f.limit);
    Ok(q.build_query_as().fetch_all(db).await?)
}

/// Integrations whose next check is due: (id, due time). Across organisations on purpose: the
/// scheduler's fan-out (each check then loads its organisation, `org_of`).
pub async fn due_for_check(db: impl PgExecutor<'_>) -> Result<Vec<(Uuid, DateTime<Utc>)>, Error> {
    Ok(sqlx::query_as(
        "SELECT id, next_check_at FROM integrations
         WHERE enabled AND status NOT IN ('disabled', 'reauth_required') AND next_check_at <= now()
         ORDER BY next_check_at LIMIT 5000",
    )
    .fetch_all(db)
    .await?)
}

/// Integrations with a rotating token expiring within `margin_secs`: (id, expiry). Across
/// organisations on purpose, like `due_for_check`.
pub async fn due_for_token_refresh(
    db: impl PgExecutor<'_>,
    margin_secs: f64,
) -> Result<Vec<(Uuid, DateTime<Utc>)>, Error> {
    Ok(sqlx::query_as(
        "SELECT id, token_expires_at FROM integrations
         WHERE enabled AND status <> 'reauth_required' AND token_expires_at IS NOT NULL
           AND token_expires_at <= now() + make_interval(secs => $1)
         ORDER BY token_expires_at LIMIT 5000",
    )
    .bind(margin_secs)
    .fetch_all(db)
    .await?)
}

/// The organisation's Slack integration for a workspace, if it has one.
pub async fn find_slack_team(
    db: impl PgExecutor<'_>,
    org: OrgId,
    team_id: &str,
) -> Result<Option<Uuid>, Error> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM integrations WHERE org_id = $1 AND kind = 'slack' AND config->>'team_id' = $2
         ORDER BY created_at LIMIT 1",
    )
    .bind(org)
    .bind(team_id)
    .fetch_optional(db)
    .await?)
}

/// Per-integration figures for the Prometheus exposition (across organisations, labelled by org).
#[derive(Debug, Clone, FromRow)]
pub struct Gauge {
    pub id: Uuid,
    pub org_id: OrgId,
    pub kind: String,
    pub status: String,
    pub api_calls: i64,
    pub api_errors: i64,
    pub last_latency_ms: Option<i32>,
    pub consecutive_failures: i32,
}

pub async fn gauges(db: impl PgExecutor<'_>) -> Result<Vec<Gauge>, Error> {
    Ok(sqlx::query_as(
        "SELECT id, org_id, kind, status, api_calls, api_errors, last_latency_ms, consecutive_failures
         FROM integrations ORDER BY org_id, id LIMIT 10000",
    )
    .fetch_all(db)
    .await?)
}

pub async fn find(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: Uuid,
) -> Result<Option<Integration>, Error> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM integrations WHERE org_id = $1 AND id = $2"
    )))
    .bind(org)
    .bind(id)
    .fetch_optional(db)
    .await?)
}

pub async fn delete(db: impl PgExecutor<'_>, org: OrgId, id: Uuid) -> Result<bool, Error> {
    Ok(
        sqlx::query("DELETE FROM integrations WHERE org_id = $1 AND id = $2")
            .bind(org)
            .bind(id)
            .execute(db)
            .await?
            .rows_affected()
            == 1,
    )
}

/// The organisation's first enabled, usable integration of `kind`, with its sealed credentials.
pub async fn usable_of_kind(
    db: impl PgExecutor<'_>,
    org: OrgId,
    kind: &str,
) -> Result<Option<Sealed>, Error> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {SEALED} FROM integrations
         WHERE org_id = $1 AND kind = $2 AND enabled AND status NOT IN ('disabled', 'reauth_required')
           AND credentials_sealed IS NOT NULL
         ORDER BY created_at LIMIT 1"
    )))
    .bind(org)
    .bind(kind)
    .fetch_optional(db)
    .await?)
}

/// Records a provider's refusal of the credentials: the integration needs new ones and is not
/// checked until then. Returns the status it had, when it was not already `reauth_required`.
pub async fn mark_reauth_required(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: Uuid,
    refused_sealed: Option<&str>,
    error: &str,
) -> Result<Option<String>, Error> {
    Ok(sqlx::query_scalar(
        "UPDATE integrations i SET status = 'reauth_required', last_error = $3, next_check_at = NULL,
             updated_at = now()
         FROM (SELECT id, status FROM integrations WHERE org_id = $1 AND id = $2 FOR UPDATE) old
         WHERE i.id = old.id AND old.status <> 'reauth_required' AND i.enabled
           AND ($4::text IS NULL OR i.credentials_sealed = $4)
         RETURNING old.status",
    )
    .bind(org)
    .bind(id)
    .bind(error)
    .bind(refused_sealed)
    .fetch_optional(db)
    .await?)
}

/// Stores a refreshed token pair without touching the health.
pub async fn store_refreshed(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: Uuid,
    sealed: &str,
    hints: &serde_json::Value,
    token_expires_at: Option<DateTime<Utc>>,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE integrations SET credentials_sealed = $2, credential_hints = $3, token_expires_at = $4,
             last_refreshed_at = now(), updated_at = now()
         WHERE id = $1 AND org_id = $5",
    )
    .bind(id)
    .bind(sealed)
    .bind(hints)
    .bind(token_expires_at)
    .bind(org)
    .execute(db)
    .await?;
    Ok(())
}

/// Merges `config` into an integration's config (connecting a Slack workspace again keeps
/// settings such as `alert_channel`).
pub async fn merge_config(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: Uuid,
    config: &serde_json::Value,
) -> Result<(), Error> {
    sqlx::query("UPDATE integrations SET config = config || $2, updated_at = now() WHERE id = $1 AND org_id = $3")
        .bind(id)
        .bind(config)
        .bind(org)
        .execute(db)
        .await?;
    Ok(())
}

/// The organisation's `github_app` integration for an installation, created when the
/// installation is linked (so every GitHub connection is health-checked). Returns the id when it
/// was created now, `None` when it existed.
pub async fn ensure_installation(
    db: impl PgExecutor<'_>,
    org: OrgId,
    installation_id: i64,
    created_by: UserId,
    next_check_at: DateTime<Utc>,
) -> Result<Option<Uuid>, Error> {
    Ok(sqlx::query_scalar(
        "INSERT INTO integrations (org_id, kind, name, config, created_by, next_check_at)
         SELECT $1, 'github_app',
                CASE WHEN EXISTS (SELECT 1 FROM integrations WHERE org_id = $1
                                   AND name = 'GitHub App installation ' || $2::text)
                     THEN 'GitHub App installation ' || $2::text || ' ' || left(gen_random_uuid()::text, 8)
                     ELSE 'GitHub App installation ' || $2::text END,
                jsonb_build_object('installation_id', $2::bigint), $3, $4
         WHERE NOT EXISTS (SELECT 1 FROM integrations WHERE org_id = $1 AND kind = 'github_app'
                             AND (config->>'installation_id')::bigint = $2::bigint)
         ON CONFLICT DO NOTHING
         RETURNING id",
    )
    .bind(org)
    .bind(installation_id)
    .bind(created_by)
    .bind(next_check_at)
    .fetch_optional(db)
    .await?)
}

/// The organisation's `github_app` integration for an installation, if any.
pub async fn for_installation(
    db: impl PgExecutor<'_>,
    org: OrgId,
    installation_id: i64,
) -> Result<Option<Uuid>, Error> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM integrations WHERE org_id = $1 AND kind = 'github_app'
           AND (config->>'installation_id')::bigint = $2",
    )
    .bind(org)
    .bind(installation_id)
    .fetch_optional(db)
    .await?)
}

pub async fn set_next_check(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query("UPDATE integrations SET next_check_at = $2 WHERE id = $1 AND org_id = $3")
        .bind(id)
        .bind(at)
        .bind(org)
        .execute(db)
        .await?;
    Ok(())
}

/// One check with what an alert about it needs: the integration's type and name.
#[derive(Debug, Clone, FromRow)]
pub struct CheckAlert {
    /// The integration's status now (a later transition supersedes this alert).
    pub current_status: String,
    pub kind: String,
    pub name: String,
    pub ok: bool,
    pub error: Option<String>,
    pub status_before: String,
    pub status_after: String,
}

pub async fn check_alert(
    db: impl PgExecutor<'_>,
    org: OrgId,
    check: Uuid,
) -> Result<Option<CheckAlert>, Error> {
    Ok(sqlx::query_as(
        "SELECT i.status AS current_status, i.kind, i.name, c.ok, c.error, c.status_before, c.status_after
         FROM integration_checks c JOIN integrations i ON i.id = c.integration_id
         WHERE c.org_id = $1 AND c.id = $2",
    )
    .bind(org)
    .bind(check)
    .fetch_optional(db)
    .await?)
}
