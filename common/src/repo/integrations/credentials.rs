//! An integration's sealed credentials: reading them (for a check, a test, a refresh, a Slack
//! post), replacing them, and recording a provider's refusal of them.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection, PgExecutor};

use super::{Integration, rows::integration_row};
use crate::{
    Error,
    domain::{HealthStatus, IntegrationId, IntegrationKind, OrgId},
};

/// What a check or test needs: the integration and its sealed credentials.
#[derive(Debug, Clone, FromRow)]
pub struct Sealed {
    pub id: IntegrationId,
    pub org_id: OrgId,
    pub kind: IntegrationKind,
    pub config: serde_json::Value,
    pub credentials_sealed: Option<String>,
    pub enabled: bool,
    pub status: HealthStatus,
    pub consecutive_failures: i32,
    pub failing_since: Option<DateTime<Utc>>,
    pub next_check_at: Option<DateTime<Utc>>,
    pub token_expires_at: Option<DateTime<Utc>>,
    pub last_refreshed_at: Option<DateTime<Utc>>,
}

/// `sqlx::query_as!` of a `Sealed`: `$head` (ending in `SELECT` or `RETURNING`), the columns a check needs, then
/// `$tail`. The column list is written once, here.
macro_rules! sealed_row {
    ($head:literal, $tail:literal, $($args:tt)*) => {
        sqlx::query_as!(
            $crate::repo::integrations::Sealed,
            $head + r#" id AS "id: _", org_id AS "org_id: _", kind AS "kind: _", config, credentials_sealed, enabled,
             status AS "status: _", consecutive_failures, failing_since, next_check_at, token_expires_at,
             last_refreshed_at "# + $tail,
            $($args)*
        )
    };
}

pub async fn sealed(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: IntegrationId,
) -> Result<Option<Sealed>, Error> {
    Ok(sealed_row!(
        r#"SELECT"#,
        r#"FROM integrations WHERE org_id = $1 AND id = $2"#,
        org as OrgId,
        id as IntegrationId,
    )
    .fetch_optional(db)
    .await?)
}

/// The same, locked until the transaction ends (one check or credentials change at a time).
pub async fn lock(
    tx: &mut PgConnection,
    org: OrgId,
    id: IntegrationId,
) -> Result<Option<Sealed>, Error> {
    Ok(sealed_row!(
        r#"SELECT"#,
        r#"FROM integrations WHERE org_id = $1 AND id = $2 FOR UPDATE"#,
        org as OrgId,
        id as IntegrationId,
    )
    .fetch_optional(tx)
    .await?)
}

/// The organisation's first enabled, usable integration of `kind`, with its sealed credentials.
pub async fn usable_of_kind(
    db: impl PgExecutor<'_>,
    org: OrgId,
    kind: IntegrationKind,
) -> Result<Option<Sealed>, Error> {
    Ok(sealed_row!(
        r#"SELECT"#,
        r#"FROM integrations WHERE org_id = $1 AND kind = $2 AND enabled AND status NOT IN ($3, $4) AND credentials_sealed IS NOT NULL ORDER BY created_at LIMIT 1"#,
        org as OrgId,
        kind as IntegrationKind,
        HealthStatus::Disabled as HealthStatus,
        HealthStatus::ReauthRequired as HealthStatus,
    )
    .fetch_optional(db)
    .await?)
}

/// New credentials: stored, and the health starts afresh (`active`, checked at `next_check_at`).
pub struct NewCredentials<'a> {
    /// A new config to store with them (the credentials were tested against it).
    pub config: Option<&'a serde_json::Value>,
    pub sealed: &'a str,
    pub hints: &'a serde_json::Value,
    pub token_expires_at: Option<DateTime<Utc>>,
    pub next_check_at: DateTime<Utc>,
}

pub async fn replace_credentials(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: IntegrationId,
    c: &NewCredentials<'_>,
) -> Result<Option<Integration>, Error> {
    integration_row!(
        r#"UPDATE integrations SET credentials_sealed = $3, credential_hints = $4, token_expires_at = $5,
             config = coalesce($6, config),
             status = $7,
             consecutive_failures = 0, failing_since = NULL, last_error = NULL,
             next_check_at = CASE WHEN enabled THEN $8::timestamptz END, updated_at = now()
         WHERE org_id = $1 AND id = $2
         RETURNING"#,
        r#""#,
        org as OrgId,
        id as IntegrationId,
        c.sealed,
        c.hints,
        c.token_expires_at,
        c.config,
        HealthStatus::Active as HealthStatus,
        c.next_check_at,
    )
    .fetch_optional(db)
    .await
    .map_err(super::super::conflicts::map)
}

/// Records a provider's refusal of the credentials: the integration needs new ones and is not
/// checked until then. Returns the status it had, when it was not already `reauth_required`.
pub async fn mark_reauth_required(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: IntegrationId,
    refused_sealed: Option<&str>,
    error: &str,
) -> Result<Option<HealthStatus>, Error> {
    Ok(sqlx::query_scalar!(
        r#"UPDATE integrations i SET status = $5, last_error = $3, next_check_at = NULL, updated_at = now()
         FROM (SELECT id, status FROM integrations WHERE org_id = $1 AND id = $2 FOR UPDATE) old
         WHERE i.id = old.id AND old.status <> $5 AND i.enabled
           AND ($4::text IS NULL OR i.credentials_sealed = $4)
         RETURNING old.status AS "status!: HealthStatus""#,
        org as OrgId,
        id as IntegrationId,
        error,
        refused_sealed,
        HealthStatus::ReauthRequired as HealthStatus,
    )
    .fetch_optional(db)
    .await?)
}

/// A refreshed token pair: sealed, its hints, and when the new access token expires.
pub struct RefreshedCredentials<'a> {
    pub sealed: &'a str,
    pub hints: &'a serde_json::Value,
    pub token_expires_at: Option<DateTime<Utc>>,
}

/// Stores a refreshed token pair without touching the health.
pub async fn store_refreshed(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: IntegrationId,
    refreshed: &RefreshedCredentials<'_>,
) -> Result<(), Error> {
    let RefreshedCredentials {
        sealed,
        hints,
        token_expires_at,
    } = *refreshed;
    sqlx::query!(
        "UPDATE integrations SET credentials_sealed = $3, credential_hints = $4, token_expires_at = $5,
             last_refreshed_at = now(), updated_at = now()
         WHERE org_id = $1 AND id = $2",
        org as OrgId,
        id as IntegrationId,
        sealed,
        hints,
        token_expires_at,
    )
    .execute(db)
    .await?;
    Ok(())
}
