//! `workflow_jobs`: the jobs of GitHub Actions run attempts, as `workflow_job` deliveries and the
//! jobs API report them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgExecutor};

use crate::{
    Error,
    domain::{OrgId, RepositoryId, RunStatus},
};

/// One job of a run attempt.
#[derive(Debug, Clone, Default, Serialize, FromRow)]
pub struct JobRow {
    pub job_id: i64,
    pub run_id: i64,
    pub run_attempt: i32,
    pub name: String,
    pub status: String,
    pub conclusion: Option<String>,
    pub html_url: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    /// Names of the steps that failed.
    pub failed_steps: sqlx::types::Json<Vec<String>>,
}

/// Records jobs (from `workflow_job` deliveries or the jobs API); a completed job keeps its result.
pub async fn upsert_jobs(
    db: impl PgExecutor<'_>,
    org: OrgId,
    repository: RepositoryId,
    jobs: &[JobRow],
) -> Result<(), Error> {
    if jobs.is_empty() {
        return Ok(());
    }
    let col = |f: fn(&JobRow) -> Option<String>| jobs.iter().map(f).collect::<Vec<_>>();
    let at = |f: fn(&JobRow) -> Option<DateTime<Utc>>| jobs.iter().map(f).collect::<Vec<_>>();
    let steps: Vec<serde_json::Value> = jobs
        .iter()
        .map(|j| serde_json::json!(j.failed_steps.0))
        .collect();
    sqlx::query!(
        "INSERT INTO workflow_jobs (org_id, repository_id, job_id, run_id, run_attempt, name, status,
             conclusion, html_url, started_at, completed_at, failed_steps)
         SELECT $1, $2, j.* FROM unnest($3::bigint[], $4::bigint[], $5::int[], $6::text[], $7::text[],
             $8::text[], $9::text[], $10::timestamptz[], $11::timestamptz[], $12::jsonb[])
             AS j(job_id, run_id, run_attempt, name, status, conclusion, html_url, started_at, completed_at,
                  failed_steps)
         ON CONFLICT (org_id, job_id) DO UPDATE SET
            status = CASE WHEN workflow_jobs.status = $13 THEN workflow_jobs.status ELSE EXCLUDED.status END,
            conclusion = CASE WHEN workflow_jobs.status = $13 THEN workflow_jobs.conclusion ELSE EXCLUDED.conclusion END,
            completed_at = coalesce(workflow_jobs.completed_at, EXCLUDED.completed_at),
            started_at = coalesce(workflow_jobs.started_at, EXCLUDED.started_at),
            failed_steps = CASE WHEN EXCLUDED.failed_steps <> '[]' THEN EXCLUDED.failed_steps ELSE workflow_jobs.failed_steps END,
            html_url = coalesce(EXCLUDED.html_url, workflow_jobs.html_url), updated_at = now()",
        org as OrgId,
        repository as RepositoryId,
        &jobs.iter().map(|j| j.job_id).collect::<Vec<_>>(),
        &jobs.iter().map(|j| j.run_id).collect::<Vec<_>>(),
        &jobs.iter().map(|j| j.run_attempt).collect::<Vec<_>>(),
        &jobs.iter().map(|j| j.name.clone()).collect::<Vec<_>>(),
        &jobs.iter().map(|j| j.status.clone()).collect::<Vec<_>>(),
        &col(|j| j.conclusion.clone()) as &[Option<String>],
        &col(|j| j.html_url.clone()) as &[Option<String>],
        &at(|j| j.started_at) as &[Option<DateTime<Utc>>],
        &at(|j| j.completed_at) as &[Option<DateTime<Utc>>],
        &steps,
        RunStatus::Completed as RunStatus,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The jobs of one run attempt.
pub async fn jobs_of(
    db: impl PgExecutor<'_>,
    org: OrgId,
    run_id: i64,
    run_attempt: i32,
) -> Result<Vec<JobRow>, Error> {
    Ok(sqlx::query_as!(
        JobRow,
        r#"SELECT job_id, run_id, run_attempt, name, status, conclusion, html_url, started_at, completed_at,
                failed_steps AS "failed_steps: _"
         FROM workflow_jobs WHERE org_id = $1 AND run_id = $2 AND run_attempt = $3 ORDER BY name, job_id"#,
        org as OrgId,
        run_id,
        run_attempt,
    )
    .fetch_all(db)
    .await?)
}
