//! `argocd_applications`: the applications an Argo CD sync copied, per integration, with those
//! gone from the server kept and marked removed.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgConnection, PgExecutor, QueryBuilder};

use crate::{
    Error,
    domain::{AppHealth, AppSync, ApplicationId, IntegrationId, OrgId},
};

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct Application {
    pub id: ApplicationId,
    pub org_id: OrgId,
    pub integration_id: IntegrationId,
    pub app_namespace: String,
    pub name: String,
    pub project: Option<String>,
    pub dest_server: Option<String>,
    pub dest_namespace: Option<String>,
    pub dest_name: Option<String>,
    pub repo_url: Option<String>,
    pub path: Option<String>,
    pub target_revision: Option<String>,
    pub sync_revision: Option<String>,
    pub sync_status: AppSync,
    pub health_status: AppHealth,
    pub conditions: serde_json::Value,
    pub operation_phase: Option<String>,
    pub operation_message: Option<String>,
    pub operation_finished_at: Option<DateTime<Utc>>,
    pub out_of_sync_since: Option<DateTime<Utc>>,
    pub removed_at: Option<DateTime<Utc>>,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// One application as the server reported it.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    pub app_namespace: String,
    pub name: String,
    pub project: Option<String>,
    pub dest_server: Option<String>,
    pub dest_namespace: Option<String>,
    pub dest_name: Option<String>,
    pub repo_url: Option<String>,
    pub path: Option<String>,
    pub target_revision: Option<String>,
    pub sync_revision: Option<String>,
    pub sync_status: Option<AppSync>,
    pub health_status: Option<AppHealth>,
    pub conditions: serde_json::Value,
    pub operation_phase: Option<String>,
    pub operation_message: Option<String>,
    pub operation_finished_at: Option<DateTime<Utc>>,
}

/// Stores what a sync saw of one application (back from removed if it was); `out_of_sync_since`
/// starts when it first turns OutOfSync and clears when it is not. Returns the stored row.
pub async fn upsert(
    tx: &mut PgConnection,
    org: OrgId,
    integration: IntegrationId,
    s: &Seen,
) -> Result<Application, Error> {
    let sync = s.sync_status.unwrap_or(AppSync::Unknown);
    let health = s.health_status.unwrap_or(AppHealth::Unknown);
    Ok(sqlx::query_as!(
        Application,
        r#"INSERT INTO argocd_applications (org_id, integration_id, app_namespace, name, project, dest_server,
             dest_namespace, dest_name, repo_url, path, target_revision, sync_revision, sync_status,
             health_status, conditions, operation_phase, operation_message, operation_finished_at,
             out_of_sync_since)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
                 CASE WHEN $13 = 'OutOfSync' THEN now() END)
         ON CONFLICT (integration_id, app_namespace, name) DO UPDATE SET
             project = EXCLUDED.project, dest_server = EXCLUDED.dest_server,
             dest_namespace = EXCLUDED.dest_namespace, dest_name = EXCLUDED.dest_name,
             repo_url = EXCLUDED.repo_url, path = EXCLUDED.path, target_revision = EXCLUDED.target_revision,
             sync_revision = EXCLUDED.sync_revision, sync_status = EXCLUDED.sync_status,
             health_status = EXCLUDED.health_status, conditions = EXCLUDED.conditions,
             operation_phase = EXCLUDED.operation_phase, operation_message = EXCLUDED.operation_message,
             operation_finished_at = EXCLUDED.operation_finished_at,
             out_of_sync_since = CASE WHEN EXCLUDED.sync_status = 'OutOfSync'
                 THEN coalesce(argocd_applications.out_of_sync_since, now()) END,
             removed_at = NULL, last_seen_at = now(), updated_at = now()
         WHERE argocd_applications.org_id = EXCLUDED.org_id
         RETURNING id AS "id: _", org_id AS "org_id: _", integration_id AS "integration_id: _",
             app_namespace, name, project, dest_server, dest_namespace, dest_name, repo_url, path,
             target_revision, sync_revision, sync_status AS "sync_status: _",
             health_status AS "health_status: _", conditions, operation_phase, operation_message,
             operation_finished_at, out_of_sync_since, removed_at, first_seen_at, last_seen_at"#,
        org as OrgId,
        integration as IntegrationId,
        s.app_namespace,
        s.name,
        s.project,
        s.dest_server,
        s.dest_namespace,
        s.dest_name,
        s.repo_url,
        s.path,
        s.target_revision,
        s.sync_revision,
        sync as AppSync,
        health as AppHealth,
        s.conditions,
        s.operation_phase,
        s.operation_message,
        s.operation_finished_at,
    )
    .fetch_one(tx)
    .await?)
}

/// Marks removed the integration's applications not in `kept`; returns the ids it marked.
pub async fn mark_removed(
    tx: &mut PgConnection,
    org: OrgId,
    integration: IntegrationId,
    kept: &[ApplicationId],
) -> Result<Vec<ApplicationId>, Error> {
    Ok(sqlx::query_scalar!(
        r#"UPDATE argocd_applications SET removed_at = now(), out_of_sync_since = NULL, updated_at = now()
         WHERE org_id = $1 AND integration_id = $2 AND removed_at IS NULL AND NOT (id = ANY($3))
         RETURNING id AS "id: ApplicationId""#,
        org as OrgId,
        integration as IntegrationId,
        kept as &[ApplicationId],
    )
    .fetch_all(tx)
    .await?)
}

/// Optional filters of `list`.
#[derive(Debug, Default)]
pub struct Filter {
    pub health: Option<AppHealth>,
    pub sync: Option<AppSync>,
    /// Include the applications gone from the server.
    pub include_removed: bool,
    /// Only applications first seen before this one (the cursor).
    pub before: Option<(DateTime<Utc>, uuid::Uuid)>,
    pub limit: i64,
}

/// The integration's applications, newest first. Dynamic SQL: only the filters given are applied.
pub async fn list(
    db: impl PgExecutor<'_>,
    org: OrgId,
    integration: IntegrationId,
    f: &Filter,
) -> Result<Vec<Application>, Error> {
    let mut q = QueryBuilder::new(
        "SELECT id, org_id, integration_id, app_namespace, name, project, dest_server, dest_namespace,
             dest_name, repo_url, path, target_revision, sync_revision, sync_status, health_status,
             conditions, operation_phase, operation_message, operation_finished_at, out_of_sync_since,
             removed_at, first_seen_at, last_seen_at
         FROM argocd_applications WHERE org_id = ",
    );
    q.push_bind(org);
    q.push(" AND integration_id = ").push_bind(integration);
    if let Some(h) = f.health {
        q.push(" AND health_status = ").push_bind(h);
    }
    if let Some(s) = f.sync {
        q.push(" AND sync_status = ").push_bind(s);
    }
    if !f.include_removed {
        q.push(" AND removed_at IS NULL");
    }
    super::paging::push_page(&mut q, "first_seen_at", "id", f.before, f.limit);
    Ok(q.build_query_as().fetch_all(db).await?)
}

pub async fn find(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: ApplicationId,
) -> Result<Option<Application>, Error> {
    Ok(sqlx::query_as!(
        Application,
        r#"SELECT id AS "id: _", org_id AS "org_id: _", integration_id AS "integration_id: _",
             app_namespace, name, project, dest_server, dest_namespace, dest_name, repo_url, path,
             target_revision, sync_revision, sync_status AS "sync_status: _",
             health_status AS "health_status: _", conditions, operation_phase, operation_message,
             operation_finished_at, out_of_sync_since, removed_at, first_seen_at, last_seen_at
         FROM argocd_applications WHERE org_id = $1 AND id = $2"#,
        org as OrgId,
        id as ApplicationId,
    )
    .fetch_optional(db)
    .await?)
}
