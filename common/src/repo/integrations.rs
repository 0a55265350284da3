//! `integrations`: an organisation's connections to other tools, with credentials sealed as one
//! JSON object and only masked hints readable.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgExecutor};
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
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, org_id, kind, name, config, credential_hints, enabled, status, last_error, created_at, updated_at";

pub struct NewIntegration<'a> {
    pub id: Uuid,
    pub org: OrgId,
    pub kind: &'a str,
    pub name: &'a str,
    pub config: &'a serde_json::Value,
    pub credentials_sealed: &'a str,
    pub credential_hints: &'a serde_json::Value,
    pub created_by: UserId,
}

/// Inserts; a name already used in the organisation is a conflict.
pub async fn insert(db: impl PgExecutor<'_>, n: &NewIntegration<'_>) -> Result<Integration, Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO integrations (id, org_id, kind, name, config, credentials_sealed, credential_hints, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {COLUMNS}"
    )))
    .bind(n.id)
    .bind(n.org)
    .bind(n.kind)
    .bind(n.name)
    .bind(n.config)
    .bind(n.credentials_sealed)
    .bind(n.credential_hints)
    .bind(n.created_by)
    .fetch_one(db)
    .await
    .map_err(|e| {
        let e = Error::from(e);
        if e.is_unique_violation() {
            Error::conflict("integration_name_taken", "an integration with this name already exists")
        } else {
            e
        }
    })
}

pub async fn list(db: impl PgExecutor<'_>, org: OrgId) -> Result<Vec<Integration>, Error> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM integrations WHERE org_id = $1 ORDER BY name"
    )))
    .bind(org)
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

/// The organisation's first enabled, usable integration of `kind` and its sealed credentials.
pub async fn usable_of_kind(
    db: impl PgExecutor<'_>,
    org: OrgId,
    kind: &str,
) -> Result<Option<(Uuid, String)>, Error> {
    Ok(sqlx::query_as(
        "SELECT id, credentials_sealed FROM integrations
         WHERE org_id = $1 AND kind = $2 AND enabled AND status NOT IN ('disabled', 'reauth_required')
           AND credentials_sealed IS NOT NULL
         ORDER BY created_at LIMIT 1",
    )
    .bind(org)
    .bind(kind)
    .fetch_optional(db)
    .await?)
}

/// Records a provider's refusal of the credentials: the integration needs new ones.
pub async fn mark_reauth_required(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: Uuid,
    error: &str,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE integrations SET status = 'reauth_required', last_error = $3, updated_at = now()
         WHERE org_id = $1 AND id = $2",
    )
    .bind(org)
    .bind(id)
    .bind(error)
    .execute(db)
    .await?;
    Ok(())
}
