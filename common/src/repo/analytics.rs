//! Analytics reads from the tables themselves: the run series (for partial days and branch
//! filters; whole days come from the rollups), and the organisation's repositories.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgExecutor;
use utoipa::ToSchema;
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

// A failing job, or one failing step of it (`step` set), with how often and when it last failed:
// read straight into the analytics API's shape.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FailureOut {
    pub repository_id: Uuid,
    pub repository: String,
    pub job: String,
    /// The failing step (only in `steps`).
    pub step: Option<String>,
    pub failures: i64,
    pub last_seen_at: Option<DateTime<Utc>>,
    /// The workflow run (RepoPal's id) of the last failure, for `…/workflow-runs/{id}`.
    pub last_run_id: Option<Uuid>,
    pub workflow: Option<String>,
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

/// A repository of the organisation, for naming and ranking.
#[derive(Debug, Clone)]
pub struct RepositoryRow {
    pub id: Uuid,
    pub full_name: String,
    pub monitored: bool,
    pub removed: bool,
}

/// Every repository of the organisation, removed ones included (their incidents still count).
pub async fn repositories(
    db: impl PgExecutor<'_>,
    org: OrgId,
) -> Result<Vec<RepositoryRow>, Error> {
    Ok(sqlx::query_as!(
        RepositoryRow,
        r#"SELECT id, full_name, monitoring_enabled AS monitored, removed_at IS NOT NULL AS "removed!"
           FROM repositories WHERE org_id = $1"#,
        org as OrgId,
    )
    .fetch_all(db)
    .await?)
}

/// Repository names by id, for the incident groups.
pub async fn repository_names(
    db: impl PgExecutor<'_>,
    org: OrgId,
) -> Result<std::collections::BTreeMap<Uuid, String>, Error> {
    Ok(repositories(db, org)
        .await?
        .into_iter()
        .map(|r| (r.id, r.full_name))
        .collect())
}
