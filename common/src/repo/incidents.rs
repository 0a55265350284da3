//! `incidents`, `incident_occurrences` and `incident_events`: one incident per failing workflow and
//! branch, each failing run attempt once, and the timeline.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgConnection, PgExecutor, QueryBuilder};
use uuid::Uuid;

use crate::{
    Error,
    domain::{OrgId, UserId},
};

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct Incident {
    pub id: Uuid,
    pub org_id: OrgId,
    pub repository_id: Uuid,
    pub repository: String,
    pub dedupe_key: String,
    pub workflow_id: i64,
    pub workflow_name: String,
    pub branch: String,
    pub title: String,
    pub severity: String,
    pub status: String,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub occurrence_count: i32,
    pub head_sha: String,
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

const COLUMNS: &str = "i.id, i.org_id, i.repository_id, r.full_name AS repository, i.dedupe_key, i.workflow_id,
    i.workflow_name, i.branch, i.title, i.severity, i.status, i.first_seen_at, i.last_seen_at, i.occurrence_count,
    i.head_sha, i.suspect_author, i.suspect_message, i.context, i.acknowledged_at, i.acknowledged_by,
    i.resolved_at, i.resolved_by, i.resolution, i.created_at";

/// What opens an incident.
pub struct NewIncident<'a> {
    pub org: OrgId,
    pub repository: Uuid,
    pub dedupe_key: &'a str,
    pub workflow_id: i64,
    pub workflow_name: &'a str,
    pub branch: &'a str,
    pub title: &'a str,
    pub severity: &'a str,
    pub head_sha: &'a str,
    pub suspect_author: Option<&'a str>,
    pub suspect_message: Option<&'a str>,
}

/// Serialises evaluations of one dedupe key until the transaction ends.
pub async fn lock_key(tx: &mut PgConnection, org: OrgId, key: &str) -> Result<(), Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!("incident:{org}:{key}"))
        .execute(tx)
        .await?;
    Ok(())
}

/// The unresolved incident for the key, locked.
pub async fn open_for_key(
    tx: &mut PgConnection,
    org: OrgId,
    key: &str,
) -> Result<Option<Incident>, Error> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM incidents i JOIN repositories r ON r.id = i.repository_id
         WHERE i.org_id = $1 AND i.dedupe_key = $2 AND i.status <> 'resolved' FOR UPDATE OF i"
    )))
    .bind(org)
    .bind(key)
    .fetch_optional(tx)
    .await?)
}

/// Opens an incident (its notification slot counts as used now). Returns its id.
pub async fn insert(tx: &mut PgConnection, n: &NewIncident<'_>) -> Result<Uuid, Error> {
    Ok(sqlx::query_scalar(
        "INSERT INTO incidents (org_id, repository_id, dedupe_key, workflow_id, workflow_name, branch, title,
             severity, first_seen_at, last_seen_at, occurrence_count, head_sha, suspect_author, suspect_message,
             last_notified_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now(), now(), 0, $9, $10, $11, now())
         RETURNING id",
    )
    .bind(n.org)
    .bind(n.repository)
    .bind(n.dedupe_key)
    .bind(n.workflow_id)
    .bind(n.workflow_name)
    .bind(n.branch)
    .bind(n.title)
    .bind(n.severity)
    .bind(n.head_sha)
    .bind(n.suspect_author)
    .bind(n.suspect_message)
    .fetch_one(tx)
    .await?)
}

/// Adds the run attempt as an occurrence; false when it already was one (a redelivery).
pub async fn add_occurrence(
    tx: &mut PgConnection,
    org: OrgId,
    incident: Uuid,
    workflow_run: Uuid,
) -> Result<bool, Error> {
    let added = sqlx::query(
        "INSERT INTO incident_occurrences (org_id, incident_id, workflow_run_id) VALUES ($1, $2, $3)
         ON CONFLICT (workflow_run_id) DO NOTHING",
    )
    .bind(org)
    .bind(incident)
    .bind(workflow_run)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if added {
        sqlx::query(
                        "UPDATE incidents SET occurrence_count = occurrence_count + 1, last_seen_at = now(), updated_at = now()
             WHERE org_id = $1 AND id = $2",
        )
        .bind(org)
        .bind(incident)
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
    incident: Uuid,
    window_secs: i64,
) -> Result<bool, Error> {
    Ok(sqlx::query(
        "UPDATE incidents SET last_notified_at = now()
         WHERE org_id = $1 AND id = $2
           AND (last_notified_at IS NULL OR last_notified_at <= now() - make_interval(secs => $3))",
    )
    .bind(org)
    .bind(incident)
    .bind(window_secs as f64)
    .execute(tx)
    .await?
    .rows_affected()
        == 1)
}

/// Moves an incident to `to` when it is in one of `from`; false when it was not.
pub async fn transition(
    tx: &mut PgConnection,
    org: OrgId,
    id: Uuid,
    from: &[&str],
    to: &str,
    actor: Option<UserId>,
    resolution: Option<&str>,
) -> Result<bool, Error> {
    let from: Vec<String> = from.iter().map(|s| (*s).to_owned()).collect();
    Ok(sqlx::query(
        "UPDATE incidents SET status = $4, updated_at = now(),
             acknowledged_at = CASE WHEN $4 = 'acknowledged' THEN now() WHEN $4 = 'open' THEN NULL ELSE acknowledged_at END,
             acknowledged_by = CASE WHEN $4 = 'acknowledged' THEN $5 WHEN $4 = 'open' THEN NULL ELSE acknowledged_by END,
             resolved_at = CASE WHEN $4 = 'resolved' THEN now() ELSE NULL END,
             resolved_by = CASE WHEN $4 = 'resolved' THEN $5 ELSE NULL END,
             resolution = CASE WHEN $4 = 'resolved' THEN $6 ELSE NULL END
         WHERE org_id = $1 AND id = $2 AND status = ANY($3)",
    )
    .bind(org)
    .bind(id)
    .bind(from)
    .bind(to)
    .bind(actor)
    .bind(resolution)
    .execute(tx)
    .await?
    .rows_affected()
        == 1)
}

pub async fn set_context(
    tx: &mut PgConnection,
    org: OrgId,
    id: Uuid,
    context: &serde_json::Value,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE incidents SET context = $3, updated_at = now() WHERE org_id = $1 AND id = $2",
    )
    .bind(org)
    .bind(id)
    .bind(context)
    .execute(tx)
    .await?;
    Ok(())
}

/// The incident, locked until the transaction ends.
pub async fn lock(tx: &mut PgConnection, org: OrgId, id: Uuid) -> Result<Option<Incident>, Error> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM incidents i JOIN repositories r ON r.id = i.repository_id
         WHERE i.org_id = $1 AND i.id = $2 FOR UPDATE OF i"
    )))
    .bind(org)
    .bind(id)
    .fetch_optional(tx)
    .await?)
}

pub async fn find(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: Uuid,
) -> Result<Option<Incident>, Error> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM incidents i JOIN repositories r ON r.id = i.repository_id
         WHERE i.org_id = $1 AND i.id = $2"
    )))
    .bind(org)
    .bind(id)
    .fetch_optional(db)
    .await?)
}

#[derive(Debug, Default)]
pub struct Filter {
    pub status: Option<String>,
    pub severity: Option<String>,
    pub repository: Option<Uuid>,
    pub branch: Option<String>,
    /// Only incidents seen before this one (the cursor).
    pub before: Option<(DateTime<Utc>, Uuid)>,
    pub limit: i64,
}

/// Incidents, most recently seen first.
pub async fn list(db: impl PgExecutor<'_>, org: OrgId, f: &Filter) -> Result<Vec<Incident>, Error> {
    let mut q = QueryBuilder::new(format!(
        "SELECT {COLUMNS} FROM incidents i JOIN repositories r ON r.id = i.repository_id WHERE i.org_id = "
    ));
    q.push_bind(org);
    if let Some(s) = &f.status {
        q.push(" AND i.status = ").push_bind(s.clone());
    }
    if let Some(s) = &f.severity {
        q.push(" AND i.severity = ").push_bind(s.clone());
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
    pub workflow_run_id: Uuid,
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
    incident: Uuid,
) -> Result<Vec<Occurrence>, Error> {
    Ok(sqlx::query_as(
        "SELECT o.workflow_run_id, w.run_id, w.run_attempt, w.run_number, w.head_sha, w.conclusion,
                w.commit_author, w.html_url, o.occurred_at
         FROM incident_occurrences o JOIN workflow_runs w ON w.id = o.workflow_run_id
         WHERE o.org_id = $1 AND o.incident_id = $2 ORDER BY o.occurred_at, w.run_number, w.run_attempt",
    )
    .bind(org)
    .bind(incident)
    .fetch_all(db)
    .await?)
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct Event {
    pub id: Uuid,
    pub incident_id: Uuid,
    pub kind: String,
    pub actor_id: Option<UserId>,
    pub body: Option<String>,
    pub data: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// Adds a timeline entry; returns its id.
pub async fn add_event(
    tx: &mut PgConnection,
    org: OrgId,
    incident: Uuid,
    kind: &str,
    actor: Option<UserId>,
    body: Option<&str>,
    data: serde_json::Value,
) -> Result<Uuid, Error> {
    Ok(sqlx::query_scalar(
        "INSERT INTO incident_events (org_id, incident_id, kind, actor_id, body, data)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(org)
    .bind(incident)
    .bind(kind)
    .bind(actor)
    .bind(body)
    .bind(data)
    .fetch_one(tx)
    .await?)
}

pub async fn events(
    db: impl PgExecutor<'_>,
    org: OrgId,
    incident: Uuid,
) -> Result<Vec<Event>, Error> {
    Ok(sqlx::query_as(
        "SELECT id, incident_id, kind, actor_id, body, data, created_at FROM incident_events
         WHERE org_id = $1 AND incident_id = $2 ORDER BY created_at, id",
    )
    .bind(org)
    .bind(incident)
    .fetch_all(db)
    .await?)
}

pub async fn find_event(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: Uuid,
) -> Result<Option<Event>, Error> {
    Ok(sqlx::query_as(
        "SELECT id, incident_id, kind, actor_id, body, data, created_at FROM incident_events
         WHERE org_id = $1 AND id = $2",
    )
    .bind(org)
    .bind(id)
    .fetch_optional(db)
    .await?)
}
