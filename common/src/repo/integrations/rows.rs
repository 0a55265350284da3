//! `integrations` rows: creating, listing, changing, switching and deleting them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgExecutor};

use crate::{
    Error,
    domain::{HealthStatus, IntegrationId, IntegrationKind, OrgId, UserId},
};

/// `sqlx::query_as!` of an `Integration`: `$head` (ending in `SELECT` or `RETURNING`), every
/// column of the row, then `$tail`. The column list is written once, here.
macro_rules! integration_row {
    ($head:literal, $tail:literal, $($args:tt)*) => {
        sqlx::query_as!(
            $crate::repo::integrations::Integration,
            $head
                + r#" id AS "id: _", org_id AS "org_id: _", kind AS "kind: _", name, config,
                  credential_hints, enabled, status AS "status: _", last_error, next_check_at,
                  last_check_at, last_success_at, last_latency_ms, consecutive_failures, failing_since,
                  token_expires_at, api_calls, api_errors, created_at, updated_at, next_sync_at,
                  last_sync_at, last_sync "#
                + $tail,
            $($args)*
        )
    };
}
pub(super) use integration_row;

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct Integration {
    pub id: IntegrationId,
    pub org_id: OrgId,
    pub kind: IntegrationKind,
    pub name: String,
    pub config: serde_json::Value,
    pub credential_hints: serde_json::Value,
    pub enabled: bool,
    pub status: HealthStatus,
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
    /// When the next scheduled sync is due (types that sync on an interval).
    pub next_sync_at: Option<DateTime<Utc>>,
    pub last_sync_at: Option<DateTime<Utc>>,
    /// The outcome of the last sync.
    pub last_sync: Option<serde_json::Value>,
}

pub struct NewIntegration<'a> {
    pub id: IntegrationId,
    pub org: OrgId,
    pub kind: IntegrationKind,
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
    integration_row!(
        r#"INSERT INTO integrations (id, org_id, kind, name, config, credentials_sealed, credential_hints,
                                   created_by, token_expires_at, next_check_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         RETURNING"#,
        r#""#,
        n.id as IntegrationId,
        n.org as OrgId,
        n.kind as IntegrationKind,
        n.name,
        n.config,
        n.credentials_sealed,
        n.credential_hints,
        n.created_by as Option<UserId>,
        n.token_expires_at,
        n.next_check_at,
    )
    .fetch_one(db)
    .await
    .map_err(super::super::conflicts::map)
}

/// Optional filters of `list`.
#[derive(Debug, Default)]
pub struct Filter {
    pub status: Option<HealthStatus>,
    pub kind: Option<IntegrationKind>,
}

/// The organisation's integrations, by name.
pub async fn list(
    db: impl PgExecutor<'_>,
    org: OrgId,
    f: &Filter,
) -> Result<Vec<Integration>, Error> {
    Ok(integration_row!(
        r#"SELECT"#,
        r#"FROM integrations
         WHERE org_id = $1 AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR kind = $3)
         ORDER BY name"#,
        org as OrgId,
        f.status as Option<HealthStatus>,
        f.kind as Option<IntegrationKind>,
    )
    .fetch_all(db)
    .await?)
}

pub async fn find(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: IntegrationId,
) -> Result<Option<Integration>, Error> {
    Ok(integration_row!(
        r#"SELECT"#,
        r#"FROM integrations WHERE org_id = $1 AND id = $2"#,
        org as OrgId,
        id as IntegrationId,
    )
    .fetch_optional(db)
    .await?)
}

pub async fn update_config(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: IntegrationId,
    name: Option<&str>,
    config: Option<&serde_json::Value>,
) -> Result<Option<Integration>, Error> {
    integration_row!(
        r#"UPDATE integrations SET name = coalesce($3, name), config = coalesce($4, config), updated_at = now()
         WHERE org_id = $1 AND id = $2
         RETURNING"#,
        r#""#,
        org as OrgId,
        id as IntegrationId,
        name,
        config,
    )
    .fetch_optional(db)
    .await
    .map_err(super::super::conflicts::map)
}

/// Turning an integration on or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Switch {
    /// Used again: the health starts afresh and is checked at this time (an integration in
    /// `reauth_required` keeps needing new credentials, and is not checked).
    On { next_check_at: DateTime<Utc> },
    /// Not used, not checked.
    Off,
}

/// Enables or disables an integration.
pub async fn set_enabled(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: IntegrationId,
    switch: Switch,
) -> Result<Option<Integration>, Error> {
    let (enabled, next_check_at) = match switch {
        Switch::On { next_check_at } => (true, Some(next_check_at)),
        Switch::Off => (false, None),
    };
    Ok(integration_row!(
        r#"UPDATE integrations SET enabled = $3,
             next_check_at = CASE WHEN $3 AND status <> $5 THEN $4::timestamptz END,
             status = CASE WHEN $3 AND status <> $5 THEN $6 ELSE status END,
             consecutive_failures = CASE WHEN $3 THEN 0 ELSE consecutive_failures END,
             failing_since = CASE WHEN $3 THEN NULL ELSE failing_since END,
             updated_at = now()
         WHERE org_id = $1 AND id = $2
         RETURNING"#,
        r#""#,
        org as OrgId,
        id as IntegrationId,
        enabled,
        next_check_at,
        HealthStatus::ReauthRequired as HealthStatus,
        HealthStatus::Active as HealthStatus,
    )
    .fetch_optional(db)
    .await?)
}

pub async fn delete(db: impl PgExecutor<'_>, org: OrgId, id: IntegrationId) -> Result<bool, Error> {
    Ok(sqlx::query!(
        "DELETE FROM integrations WHERE org_id = $1 AND id = $2",
        org as OrgId,
        id as IntegrationId,
    )
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}

/// The organisation an integration belongs to, for work that starts from an integration id
/// alone (a scheduled check or token refresh), before every call scoped by organisation.
pub async fn org_of(db: impl PgExecutor<'_>, id: IntegrationId) -> Result<Option<OrgId>, Error> {
    Ok(sqlx::query_scalar!(
        r#"SELECT org_id AS "org_id: OrgId" FROM integrations WHERE id = $1"#,
        id as IntegrationId,
    )
    .fetch_optional(db)
    .await?)
}

/// Merges `config` into an integration's config (connecting a Slack workspace again keeps
/// settings such as `alert_channel`).
pub async fn merge_config(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: IntegrationId,
    config: &serde_json::Value,
) -> Result<(), Error> {
    sqlx::query!(
        "UPDATE integrations SET config = config || $3, updated_at = now() WHERE org_id = $1 AND id = $2",
        org as OrgId,
        id as IntegrationId,
        config,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The organisation's Slack integration for a workspace, if it has one.
pub async fn find_slack_team(
    db: impl PgExecutor<'_>,
    org: OrgId,
    team_id: &str,
) -> Result<Option<IntegrationId>, Error> {
    Ok(sqlx::query_scalar!(
        r#"SELECT id AS "id: IntegrationId" FROM integrations
         WHERE org_id = $1 AND kind = $2 AND config->>'team_id' = $3
         ORDER BY created_at LIMIT 1"#,
        org as OrgId,
        IntegrationKind::Slack as IntegrationKind,
        team_id,
    )
    .fetch_optional(db)
    .await?)
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
) -> Result<Option<IntegrationId>, Error> {
    Ok(sqlx::query_scalar!(
        r#"INSERT INTO integrations (org_id, kind, name, config, created_by, next_check_at)
         SELECT $1, $5,
                CASE WHEN EXISTS (SELECT 1 FROM integrations WHERE org_id = $1
                                   AND name = 'GitHub App installation ' || $2::bigint::text)
                     THEN 'GitHub App installation ' || $2::bigint::text || ' ' || left(gen_random_uuid()::text, 8)
                     ELSE 'GitHub App installation ' || $2::bigint::text END,
                jsonb_build_object('installation_id', $2::bigint), $3, $4
         WHERE NOT EXISTS (SELECT 1 FROM integrations WHERE org_id = $1 AND kind = $5
                             AND (config->>'installation_id')::bigint = $2::bigint)
         ON CONFLICT DO NOTHING
         RETURNING id AS "id: IntegrationId""#,
        org as OrgId,
        installation_id,
        created_by as UserId,
        next_check_at,
        IntegrationKind::GithubApp as IntegrationKind,
    )
    .fetch_optional(db)
    .await?)
}

/// The organisation's `github_app` integration for an installation, if any.
pub async fn for_installation(
    db: impl PgExecutor<'_>,
    org: OrgId,
    installation_id: i64,
) -> Result<Option<IntegrationId>, Error> {
    Ok(sqlx::query_scalar!(
        r#"SELECT id AS "id: IntegrationId" FROM integrations WHERE org_id = $1 AND kind = $3
           AND (config->>'installation_id')::bigint = $2"#,
        org as OrgId,
        installation_id,
        IntegrationKind::GithubApp as IntegrationKind,
    )
    .fetch_optional(db)
    .await?)
}
