//! `incidents` and `incident_occurrences`: one incident per dedupe key of its source (a failing
//! workflow and branch; an Argo CD application), and each failing run attempt once (the timeline
//! is in `incident_events`).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgConnection, PgExecutor, QueryBuilder};

use crate::{
    Error,
    domain::{
        ApplicationId, IncidentId, IncidentSource, IncidentStatus, IntegrationId, OrgId,
        RepositoryId, Severity, Transition, UserId, WorkflowRunId,
    },
};

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct Incident {
    pub id: IncidentId,
    pub org_id: OrgId,
    pub source: IncidentSource,
    /// The CI subject (GitHub Actions incidents).
    pub repository_id: Option<RepositoryId>,
    pub repository: Option<String>,
    /// The deployment subject (Argo CD incidents).
    pub integration_id: Option<IntegrationId>,
    pub application_id: Option<ApplicationId>,
    pub dedupe_key: String,
    pub workflow_id: Option<i64>,
    pub workflow_name: Option<String>,
    pub branch: Option<String>,
    pub title: String,
    pub severity: Severity,
    pub status: IncidentStatus,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub occurrence_count: i32,
    pub head_sha: Option<String>,
    pub suspect_author: Option<String>,
    pub suspect_message: Option<String>,
    pub context: Option<serde_json::Value>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<UserId>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<UserId>,
    pub resolution: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// What opens an incident.
pub struct NewIncident<'a> {
    pub org: OrgId,
    pub repository: RepositoryId,
    pub dedupe_key: &'a str,
    pub workflow_id: i64,
    pub workflow_name: &'a str,
    pub branch: &'a str,
    pub title: &'a str,
    pub severity: Severity,
    pub head_sha: &'a str,
    pub suspect_author: Option<&'a str>,
    pub suspect_message: Option<&'a str>,
}

/// What opens a deployment incident.
pub struct NewDeploymentIncident<'a> {
    pub org: OrgId,
    pub integration: IntegrationId,
    pub application: ApplicationId,
    pub dedupe_key: &'a str,
    pub title: &'a str,
    pub severity: Severity,
    pub context: &'a serde_json::Value,
}

/// Opens a deployment incident (one occurrence; its notification slot counts as used now).
pub async fn insert_deployment(
    tx: &mut PgConnection,
    n: &NewDeploymentIncident<'_>,
) -> Result<IncidentId, Error> {
    Ok(sqlx::query_scalar!(
        r#"INSERT INTO incidents (org_id, source, integration_id, application_id, dedupe_key, title, severity,
             first_seen_at, last_seen_at, occurrence_count, context, last_notified_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, now(), now(), 1, $8, now())
         RETURNING id AS "id: IncidentId""#,
        n.org as OrgId,
        IncidentSource::Argocd as IncidentSource,
        n.integration as IntegrationId,
        n.application as ApplicationId,
        n.dedupe_key,
        n.title,
        n.severity as Severity,
        n.context,
    )
    .fetch_one(tx)
    .await?)
}

/// Counts one more occurrence of an incident whose source has no run to record.
pub async fn bump_occurrence(
    tx: &mut PgConnection,
    org: OrgId,
    incident: IncidentId,
) -> Result<(), Error> {
    sqlx::query!(
        "UPDATE incidents SET occurrence_count = occurrence_count + 1, last_seen_at = now(), updated_at = now()
         WHERE org_id = $1 AND id = $2",
        org as OrgId,
        incident as IncidentId,
    )
    .execute(tx)
    .await?;
    Ok(())
}

/// Serialises evaluations of one dedupe key until the transaction ends.
pub async fn lock_key(tx: &mut PgConnection, org: OrgId, key: &str) -> Result<(), Error> {
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        format!("incident:{org}:{key}"),
    )
    .fetch_one(tx)
    .await?;
    Ok(())
}

/// The unresolved incident for the key, locked.
pub async fn open_for_key(
    tx: &mut PgConnection,
    org: OrgId,
    key: &str,
) -> Result<Option<Incident>, Error> {
    let id = sqlx::query_scalar!(
        r#"SELECT id AS "id: IncidentId" FROM incidents
         WHERE org_id = $1 AND dedupe_key = $2 AND status <> $3 FOR UPDATE"#,
        org as OrgId,
        key,
        IncidentStatus::Resolved as IncidentStatus,
    )
    .fetch_optional(&mut *tx)
    .await?;
    match id {
        Some(id) => find(tx, org, id).await,
        None => Ok(None),
    }
}

/// Opens an incident (its notification slot counts as used now). Returns its id.
pub async fn insert(tx: &mut PgConnection, n: &NewIncident<'_>) -> Result<IncidentId, Error> {
    Ok(sqlx::query_scalar!(
        r#"INSERT INTO incidents (org_id, repository_id, dedupe_key, workflow_id, workflow_name, branch, title,
             severity, first_seen_at, last_seen_at, occurrence_count, head_sha, suspect_author, suspect_message,
             last_notified_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now(), now(), 0, $9, $10, $11, now())
         RETURNING id AS "id: IncidentId""#,
        n.org as OrgId,
        n.repository as RepositoryId,
        n.dedupe_key,
        n.workflow_id,
        n.workflow_name,
        n.branch,
        n.title,
        n.severity as Severity,
        n.head_sha,
        n.suspect_author,
        n.suspect_message,
    )
    .fetch_one(tx)
    .await?)
}

/// Adds the run attempt as an occurrence; false when it already was one (a redelivery).
pub async fn add_occurrence(
    tx: &mut PgConnection,
    org: OrgId,
    incident: IncidentId,
    workflow_run: WorkflowRunId,
) -> Result<bool, Error> {
    let added = sqlx::query!(
        "INSERT INTO incident_occurrences (org_id, incident_id, workflow_run_id) VALUES ($1, $2, $3)
         ON CONFLICT (workflow_run_id) DO NOTHING",
        org as OrgId,
        incident as IncidentId,
        workflow_run as WorkflowRunId,
    )
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if added {
        sqlx::query!(
            "UPDATE incidents SET occurrence_count = occurrence_count + 1, last_seen_at = now(), updated_at = now()
             WHERE org_id = $1 AND id = $2",
            org as OrgId,
            incident as IncidentId,
        )
        .execute(tx)
        .await?;
    }
    Ok(added)
}

/// Takes the incident's "still failing" notification slot when the last message is older than
/// `window_secs`; false when a message went out within the window.
pub async fn take_notify_slot(
    tx: &mut PgConnection,
    org: OrgId,
    incident: IncidentId,
    window_secs: i64,
) -> Result<bool, Error> {
    Ok(sqlx::query!(
        "UPDATE incidents SET last_notified_at = now()
         WHERE org_id = $1 AND id = $2
           AND (last_notified_at IS NULL OR last_notified_at <= now() - make_interval(secs => $3))",
        org as OrgId,
        incident as IncidentId,
        window_secs as f64,
    )
    .execute(tx)
    .await?
    .rows_affected()
        == 1)
}

/// Who moved an incident, and why (a resolution note).
#[derive(Debug, Clone, Copy, Default)]
pub struct Moved<'a> {
    pub actor: Option<UserId>,
    pub resolution: Option<&'a str>,
}

/// Moves an incident along `t` when it is in one of `t.from`; false when it was not. Acknowledging
/// stamps who and when, reopening clears that; resolving stamps who, when and why, and any other
/// move clears it.
pub async fn transition(
    tx: &mut PgConnection,
    org: OrgId,
    id: IncidentId,
    t: Transition,
    by: Moved<'_>,
) -> Result<bool, Error> {
    let acknowledges = t.to == IncidentStatus::Acknowledged;
    let resolves = t.to == IncidentStatus::Resolved;
    Ok(sqlx::query!(
        "UPDATE incidents SET status = $4, updated_at = now(),
             acknowledged_at = CASE WHEN $7 THEN now() WHEN $8 THEN acknowledged_at END,
             acknowledged_by = CASE WHEN $7 THEN $5 WHEN $8 THEN acknowledged_by END,
             resolved_at = CASE WHEN $8 THEN now() END,
             resolved_by = CASE WHEN $8 THEN $5 END,
             resolution = CASE WHEN $8 THEN $6 END
         WHERE org_id = $1 AND id = $2 AND status = ANY($3)",
        org as OrgId,
        id as IncidentId,
        t.from as &[IncidentStatus],
        t.to as IncidentStatus,
        by.actor as Option<UserId>,
        by.resolution,
        acknowledges,
        resolves,
    )
    .execute(tx)
    .await?
    .rows_affected()
        == 1)
}

pub async fn set_context(
    tx: &mut PgConnection,
    org: OrgId,
    id: IncidentId,
    context: &serde_json::Value,
) -> Result<(), Error> {
    sqlx::query!(
        "UPDATE incidents SET context = $3, updated_at = now() WHERE org_id = $1 AND id = $2",
        org as OrgId,
        id as IncidentId,
        context,
    )
    .execute(tx)
    .await?;
    Ok(())
}

/// The incident, locked until the transaction ends.
pub async fn lock(
    tx: &mut PgConnection,
    org: OrgId,
    id: IncidentId,
) -> Result<Option<Incident>, Error> {
    let locked = sqlx::query_scalar!(
        "SELECT 1 AS one FROM incidents WHERE org_id = $1 AND id = $2 FOR UPDATE",
        org as OrgId,
        id as IncidentId,
    )
    .fetch_optional(&mut *tx)
    .await?;
    match locked {
        Some(_) => find(tx, org, id).await,
        None => Ok(None),
    }
}

pub async fn find(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: IncidentId,
) -> Result<Option<Incident>, Error> {
    Ok(sqlx::query_as!(
        Incident,
        r#"SELECT i.id AS "id: _", i.org_id AS "org_id: _", i.source AS "source: _",
             i.repository_id AS "repository_id: _", r.full_name AS "repository?",
             i.integration_id AS "integration_id: _", i.application_id AS "application_id: _", i.dedupe_key, i.workflow_id, i.workflow_name, i.branch, i.title,
             i.severity AS "severity: _", i.status AS "status: _", i.first_seen_at, i.last_seen_at,
             i.occurrence_count, i.head_sha, i.suspect_author, i.suspect_message, i.context,
             i.acknowledged_at, i.acknowledged_by AS "acknowledged_by: _", i.resolved_at,
             i.resolved_by AS "resolved_by: _", i.resolution, i.created_at
         FROM incidents i LEFT JOIN repositories r ON r.id = i.repository_id
         WHERE i.org_id = $1 AND i.id = $2"#,
        org as OrgId,
        id as IncidentId,
    )
    .fetch_optional(db)
    .await?)
}

#[derive(Debug, Default)]
pub struct Filter {
    pub status: Option<IncidentStatus>,
    pub severity: Option<Severity>,
    pub source: Option<IncidentSource>,
    pub repository: Option<RepositoryId>,
    pub branch: Option<String>,
    /// Only incidents seen before this one (the cursor).
    pub before: Option<(DateTime<Utc>, uuid::Uuid)>,
    pub limit: i64,
}

/// Incidents, most recently seen first. Dynamic SQL: only the filters given are applied.
pub async fn list(db: impl PgExecutor<'_>, org: OrgId, f: &Filter) -> Result<Vec<Incident>, Error> {
    let mut q = QueryBuilder::new(
        "SELECT i.id, i.org_id, i.source, i.repository_id, r.full_name AS repository, i.integration_id,
             i.application_id, i.dedupe_key, i.workflow_id,
             i.workflow_name, i.branch, i.title, i.severity, i.status, i.first_seen_at, i.last_seen_at,
             i.occurrence_count, i.head_sha, i.suspect_author, i.suspect_message, i.context, i.acknowledged_at,
             i.acknowledged_by, i.resolved_at, i.resolved_by, i.resolution, i.created_at
         FROM incidents i LEFT JOIN repositories r ON r.id = i.repository_id WHERE i.org_id = ",
    );
    q.push_bind(org);
    if let Some(s) = f.status {
        q.push(" AND i.status = ").push_bind(s);
    }
    if let Some(s) = f.severity {
        q.push(" AND i.severity = ").push_bind(s);
    }
    if let Some(s) = f.source {
        q.push(" AND i.source = ").push_bind(s);
    }
    if let Some(r) = f.repository {
        q.push(" AND i.repository_id = ").push_bind(r);
    }
    if let Some(b) = &f.branch {
        q.push(" AND i.branch = ").push_bind(b.clone());
    }
    super::paging::push_page(&mut q, "i.last_seen_at", "i.id", f.before, f.limit);
    Ok(q.build_query_as().fetch_all(db).await?)
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct Occurrence {
    pub workflow_run_id: WorkflowRunId,
    pub run_id: i64,
    pub run_attempt: i32,
    pub run_number: i64,
    pub head_sha: String,
    pub conclusion: Option<String>,
    pub commit_author: Option<String>,
    pub html_url: Option<String>,
    pub occurred_at: DateTime<Utc>,
}

pub async fn occurrences(
    db: impl PgExecutor<'_>,
    org: OrgId,
    incident: IncidentId,
) -> Result<Vec<Occurrence>, Error> {
    Ok(sqlx::query_as!(
        Occurrence,
        r#"SELECT o.workflow_run_id AS "workflow_run_id: _", w.run_id, w.run_attempt, w.run_number, w.head_sha,
                w.conclusion, w.commit_author, w.html_url, o.occurred_at
         FROM incident_occurrences o JOIN workflow_runs w ON w.id = o.workflow_run_id
         WHERE o.org_id = $1 AND o.incident_id = $2 ORDER BY o.occurred_at, w.run_number, w.run_attempt"#,
        org as OrgId,
        incident as IncidentId,
    )
    .fetch_all(db)
    .await?)
}
