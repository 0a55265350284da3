//! Analytics reads: time series and rankings over workflow runs, jobs and incidents of one
//! organisation, each one statement served by the indexes of `20261201000800_index_analytics.sql`.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::{
    Error,
    domain::{Bucket, OrgId},
};

/// What every analytics read is limited to: the organisation, a half-open time window, and the
/// optional filters (each `None` means "all").
#[derive(Debug, Clone)]
pub struct Scope {
    pub org: OrgId,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub bucket: Bucket,
    pub repository: Option<Uuid>,
    pub workflow: Option<String>,
    pub branch: Option<String>,
}

/// One bucket of runs, overall (`workflow` is `None`) or of one workflow.
#[derive(Debug, Clone)]
pub struct RunBucket {
    pub bucket_start: DateTime<Utc>,
    pub workflow: Option<String>,
    pub runs: i64,
    pub failures: i64,
    pub duration_p50_ms: Option<f64>,
    pub duration_p90_ms: Option<f64>,
}

pub async fn run_series(db: impl PgExecutor<'_>, s: &Scope) -> Result<Vec<RunBucket>, Error> {
    Ok(sqlx::query_as!(
        RunBucket,
        r#"SELECT date_trunc($4, completed_at, 'UTC') AS "bucket_start!",
                  CASE WHEN GROUPING(workflow_name) = 0 THEN workflow_name END AS workflow,
                  count(*) AS "runs!",
                  count(*) FILTER (WHERE conclusion IN ('failure', 'timed_out')) AS "failures!",
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS duration_p50_ms,
                  percentile_cont(0.9) WITHIN GROUP (ORDER BY duration_ms) AS duration_p90_ms
           FROM workflow_runs
           WHERE org_id = $1 AND completed_at >= $2 AND completed_at < $3
             AND completed_at IS NOT NULL AND conclusion IS NOT NULL
             AND ($5::uuid IS NULL OR repository_id = $5)
             AND ($6::text IS NULL OR workflow_name = $6)
             AND ($7::text IS NULL OR branch = $7)
           GROUP BY GROUPING SETS ((1), (1, workflow_name))
           ORDER BY 1, 2 NULLS FIRST"#,
        s.org as OrgId,
        s.from,
        s.to,
        s.bucket.as_str(),
        s.repository,
        s.workflow.as_deref(),
        s.branch.as_deref(),
    )
    .fetch_all(db)
    .await?)
}

/// Incidents opened in one bucket, with the time to acknowledge of those acknowledged.
#[derive(Debug, Clone)]
pub struct OpenedBucket {
    pub bucket_start: DateTime<Utc>,
    pub opened: i64,
    pub mtta_p50_secs: Option<f64>,
    pub mtta_p90_secs: Option<f64>,
}

/// Incidents resolved in one bucket, with their time to resolve.
#[derive(Debug, Clone)]
pub struct ResolvedBucket {
    pub bucket_start: DateTime<Utc>,
    pub resolved: i64,
    pub mttr_p50_secs: Option<f64>,
    pub mttr_p90_secs: Option<f64>,
}

pub async fn opened_series(
    db: impl PgExecutor<'_>,
    s: &Scope,
    severity: Option<&str>,
) -> Result<Vec<OpenedBucket>, Error> {
    Ok(sqlx::query_as!(
        OpenedBucket,
        r#"SELECT date_trunc($4, first_seen_at, 'UTC') AS "bucket_start!",
                  count(*) AS "opened!",
                  percentile_cont(0.5) WITHIN GROUP (
                      ORDER BY extract(epoch FROM acknowledged_at - first_seen_at)::float8) AS mtta_p50_secs,
                  percentile_cont(0.9) WITHIN GROUP (
                      ORDER BY extract(epoch FROM acknowledged_at - first_seen_at)::float8) AS mtta_p90_secs
           FROM incidents
           WHERE org_id = $1 AND first_seen_at >= $2 AND first_seen_at < $3
             AND ($5::uuid IS NULL OR repository_id = $5)
             AND ($6::text IS NULL OR workflow_name = $6)
             AND ($7::text IS NULL OR branch = $7)
             AND ($8::text IS NULL OR severity = $8)
           GROUP BY 1 ORDER BY 1"#,
        s.org as OrgId,
        s.from,
        s.to,
        s.bucket.as_str(),
        s.repository,
        s.workflow.as_deref(),
        s.branch.as_deref(),
        severity,
    )
    .fetch_all(db)
    .await?)
}

pub async fn resolved_series(
    db: impl PgExecutor<'_>,
    s: &Scope,
    severity: Option<&str>,
) -> Result<Vec<ResolvedBucket>, Error> {
    Ok(sqlx::query_as!(
        ResolvedBucket,
        r#"SELECT date_trunc($4, resolved_at, 'UTC') AS "bucket_start!",
                  count(*) AS "resolved!",
                  percentile_cont(0.5) WITHIN GROUP (
                      ORDER BY extract(epoch FROM resolved_at - first_seen_at)::float8) AS mttr_p50_secs,
                  percentile_cont(0.9) WITHIN GROUP (
                      ORDER BY extract(epoch FROM resolved_at - first_seen_at)::float8) AS mttr_p90_secs
           FROM incidents
           WHERE org_id = $1 AND resolved_at >= $2 AND resolved_at < $3 AND resolved_at IS NOT NULL
             AND ($5::uuid IS NULL OR repository_id = $5)
             AND ($6::text IS NULL OR workflow_name = $6)
             AND ($7::text IS NULL OR branch = $7)
             AND ($8::text IS NULL OR severity = $8)
           GROUP BY 1 ORDER BY 1"#,
        s.org as OrgId,
        s.from,
        s.to,
        s.bucket.as_str(),
        s.repository,
        s.workflow.as_deref(),
        s.branch.as_deref(),
        severity,
    )
    .fetch_all(db)
    .await?)
}

/// Incidents opened in the window, grouped by severity or by repository (the other is `None`),
/// and once for all of them (both `None`).
#[derive(Debug, Clone)]
pub struct IncidentGroup {
    pub severity: Option<String>,
    pub repository_id: Option<Uuid>,
    pub repository: Option<String>,
    pub opened: i64,
    pub resolved: i64,
    pub mtta_p50_secs: Option<f64>,
    pub mttr_p50_secs: Option<f64>,
    pub mttr_p90_secs: Option<f64>,
}

pub async fn incident_groups(
    db: impl PgExecutor<'_>,
    s: &Scope,
    severity: Option<&str>,
) -> Result<Vec<IncidentGroup>, Error> {
    Ok(sqlx::query_as!(
        IncidentGroup,
        r#"SELECT CASE WHEN GROUPING(i.severity) = 0 THEN i.severity END AS severity,
                  CASE WHEN GROUPING(i.repository_id) = 0 THEN i.repository_id END AS repository_id,
                  CASE WHEN GROUPING(i.repository_id) = 0 THEN max(r.full_name) END AS repository,
                  count(*) AS "opened!",
                  count(i.resolved_at) AS "resolved!",
                  percentile_cont(0.5) WITHIN GROUP (
                      ORDER BY extract(epoch FROM i.acknowledged_at - i.first_seen_at)::float8) AS mtta_p50_secs,
                  percentile_cont(0.5) WITHIN GROUP (
                      ORDER BY extract(epoch FROM i.resolved_at - i.first_seen_at)::float8) AS mttr_p50_secs,
                  percentile_cont(0.9) WITHIN GROUP (
                      ORDER BY extract(epoch FROM i.resolved_at - i.first_seen_at)::float8) AS mttr_p90_secs
           FROM incidents i JOIN repositories r ON r.id = i.repository_id
           WHERE i.org_id = $1 AND i.first_seen_at >= $2 AND i.first_seen_at < $3
             AND ($4::uuid IS NULL OR i.repository_id = $4)
             AND ($5::text IS NULL OR i.workflow_name = $5)
             AND ($6::text IS NULL OR i.branch = $6)
             AND ($7::text IS NULL OR i.severity = $7)
           GROUP BY GROUPING SETS ((i.severity), (i.repository_id), ())
           ORDER BY 4 DESC, 1, 3"#,
        s.org as OrgId,
        s.from,
        s.to,
        s.repository,
        s.workflow.as_deref(),
        s.branch.as_deref(),
        severity,
    )
    .fetch_all(db)
    .await?)
}

/// A failing job, or one failing step of it (`step` set), with how often and when it last failed.
#[derive(Debug, Clone)]
pub struct Failing {
    pub repository_id: Uuid,
    pub repository: String,
    pub job: String,
    pub step: Option<String>,
    pub failures: i64,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub last_run_id: Option<Uuid>,
    pub workflow: Option<String>,
}

pub async fn failing_jobs(
    db: impl PgExecutor<'_>,
    s: &Scope,
    limit: i64,
) -> Result<Vec<Failing>, Error> {
    Ok(sqlx::query_as!(
        Failing,
        r#"SELECT j.repository_id AS "repository_id!", max(r.full_name) AS "repository!", j.name AS "job!",
                  NULL::text AS step,
                  count(*) AS "failures!",
                  max(j.completed_at) AS last_seen_at,
                  (array_agg(w.id ORDER BY j.completed_at DESC NULLS LAST))[1] AS last_run_id,
                  (array_agg(w.workflow_name ORDER BY j.completed_at DESC NULLS LAST))[1] AS workflow
           FROM workflow_jobs j
           JOIN repositories r ON r.id = j.repository_id
           LEFT JOIN workflow_runs w
                  ON w.org_id = j.org_id AND w.run_id = j.run_id AND w.run_attempt = j.run_attempt
           WHERE j.org_id = $1 AND j.conclusion IN ('failure', 'timed_out')
             AND j.completed_at >= $2 AND j.completed_at < $3
             AND ($4::uuid IS NULL OR j.repository_id = $4)
             AND ($5::text IS NULL OR w.workflow_name = $5)
             AND ($6::text IS NULL OR w.branch = $6)
           GROUP BY j.repository_id, j.name
           ORDER BY 5 DESC, 3
           LIMIT $7"#,
        s.org as OrgId,
        s.from,
        s.to,
        s.repository,
        s.workflow.as_deref(),
        s.branch.as_deref(),
        limit,
    )
    .fetch_all(db)
    .await?)
}

pub async fn failing_steps(
    db: impl PgExecutor<'_>,
    s: &Scope,
    limit: i64,
) -> Result<Vec<Failing>, Error> {
    Ok(sqlx::query_as!(
        Failing,
        r#"SELECT j.repository_id AS "repository_id!", max(r.full_name) AS "repository!", j.name AS "job!",
                  step.name AS step,
                  count(*) AS "failures!",
                  max(j.completed_at) AS last_seen_at,
                  (array_agg(w.id ORDER BY j.completed_at DESC NULLS LAST))[1] AS last_run_id,
                  (array_agg(w.workflow_name ORDER BY j.completed_at DESC NULLS LAST))[1] AS workflow
           FROM workflow_jobs j
           CROSS JOIN LATERAL jsonb_array_elements_text(j.failed_steps) AS step(name)
           JOIN repositories r ON r.id = j.repository_id
           LEFT JOIN workflow_runs w
                  ON w.org_id = j.org_id AND w.run_id = j.run_id AND w.run_attempt = j.run_attempt
           WHERE j.org_id = $1 AND j.conclusion IN ('failure', 'timed_out')
             AND j.completed_at >= $2 AND j.completed_at < $3
             AND ($4::uuid IS NULL OR j.repository_id = $4)
             AND ($5::text IS NULL OR w.workflow_name = $5)
             AND ($6::text IS NULL OR w.branch = $6)
           GROUP BY j.repository_id, j.name, step.name
           ORDER BY 5 DESC, 3, 4
           LIMIT $7"#,
        s.org as OrgId,
        s.from,
        s.to,
        s.repository,
        s.workflow.as_deref(),
        s.branch.as_deref(),
        limit,
    )
    .fetch_all(db)
    .await?)
}

/// The parts of one repository's health over the window.
#[derive(Debug, Clone)]
pub struct RepositoryParts {
    pub repository_id: Uuid,
    pub repository: String,
    pub monitored: bool,
    pub runs: i64,
    pub failures: i64,
    pub open_incidents: i64,
    pub mttr_p50_secs: Option<f64>,
}

pub async fn repository_parts(
    db: impl PgExecutor<'_>,
    s: &Scope,
) -> Result<Vec<RepositoryParts>, Error> {
    Ok(sqlx::query_as!(
        RepositoryParts,
        r#"WITH runs AS (
               SELECT repository_id, count(*) AS runs,
                      count(*) FILTER (WHERE conclusion IN ('failure', 'timed_out')) AS failures
               FROM workflow_runs
               WHERE org_id = $1 AND completed_at >= $2 AND completed_at < $3
                 AND completed_at IS NOT NULL AND conclusion IS NOT NULL
                 AND ($5::text IS NULL OR workflow_name = $5)
                 AND ($6::text IS NULL OR branch = $6)
               GROUP BY repository_id),
           open AS (
               SELECT repository_id, count(*) AS open_incidents
               FROM incidents WHERE org_id = $1 AND status <> 'resolved'
               GROUP BY repository_id),
           mttr AS (
               SELECT repository_id,
                      percentile_cont(0.5) WITHIN GROUP (
                          ORDER BY extract(epoch FROM resolved_at - first_seen_at)::float8) AS mttr_p50_secs
               FROM incidents
               WHERE org_id = $1 AND resolved_at >= $2 AND resolved_at < $3 AND resolved_at IS NOT NULL
               GROUP BY repository_id)
           SELECT r.id AS repository_id, r.full_name AS repository, r.monitoring_enabled AS monitored,
                  coalesce(runs.runs, 0) AS "runs!", coalesce(runs.failures, 0) AS "failures!",
                  coalesce(open.open_incidents, 0) AS "open_incidents!", mttr.mttr_p50_secs
           FROM repositories r
           LEFT JOIN runs ON runs.repository_id = r.id
           LEFT JOIN open ON open.repository_id = r.id
           LEFT JOIN mttr ON mttr.repository_id = r.id
           WHERE r.org_id = $1 AND r.removed_at IS NULL
             AND ($4::uuid IS NULL OR r.id = $4)
             AND (r.monitoring_enabled OR runs.runs IS NOT NULL OR open.open_incidents IS NOT NULL)"#,
        s.org as OrgId,
        s.from,
        s.to,
        s.repository,
        s.workflow.as_deref(),
        s.branch.as_deref(),
    )
    .fetch_all(db)
    .await?)
}
