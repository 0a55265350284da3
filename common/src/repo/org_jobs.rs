//! An organisation's jobs (`org_jobs` joined to `apalis.jobs`): the ones its members started and
//! the ones the scheduler runs for its integrations, newest first, by queue and state.

use sqlx::PgPool;

use super::jobs::{JobRow, Stored};
use crate::{
    Error,
    domain::{IntegrationId, JobOutcome, JobStatus, OrgId},
    jobs::JobId,
};

/// Which of an organisation's jobs to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// A queue name (one of `jobs::ALL_QUEUES`).
    pub queue: Option<String>,
    pub state: Option<JobOutcome>,
    /// Only jobs older than this one (the cursor: the last id of the previous page).
    pub before: Option<JobId>,
    /// Queues left out (those the caller's role may not see).
    pub hidden_queues: Vec<&'static str>,
    pub limit: i64,
}

/// A job id handed back as a cursor: a ULID, or nothing.
pub fn parse_cursor(raw: &str) -> Option<JobId> {
    ulid::Ulid::from_string(raw)
        .ok()
        .map(|u| JobId(u.to_string()))
}

/// `org`'s jobs, newest first (job ids are ULIDs, so their order is their enqueue order).
/// The state filter spells out `JobOutcome::of` in SQL (the `jobs_list` tests hold them together).
pub async fn list(pool: &PgPool, org: OrgId, f: &Filter) -> Result<Vec<JobRow>, Error> {
    let rows = sqlx::query_as!(
        Stored,
        r#"SELECT j.id AS "id!: JobId", j.job_type AS "queue!", j.status AS "status!: JobStatus",
                  j.attempts AS "attempts!", j.max_attempts AS "max_attempts!", j.run_at AS "run_at!",
                  j.lock_by, j.done_at, j.last_result
           FROM org_jobs o JOIN apalis.jobs j ON j.id = o.job_id
           WHERE o.org_id = $1
             AND ($2::text IS NULL OR j.job_type = $2)
             AND ($3::text IS NULL OR $3 = CASE
                   WHEN j.status = 'Done' THEN 'succeeded'
                   WHEN j.status = 'Killed' OR (j.status = 'Failed' AND j.attempts >= j.max_attempts) THEN 'dead'
                   WHEN j.status = 'Failed' THEN 'retrying'
                   WHEN j.status IN ('Queued', 'Running') THEN 'running'
                   ELSE 'pending' END)
             AND ($4::text IS NULL OR o.job_id < $4)
             AND NOT (j.job_type = ANY($6::text[]))
           ORDER BY o.job_id DESC
           LIMIT $5"#,
        org as OrgId,
        f.queue.as_deref(),
        f.state.map(|s| s.as_str()),
        f.before.as_ref().map(|j| j.0.as_str()),
        f.limit,
        &f.hidden_queues as &[&str],
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(JobRow::from).collect())
}

/// Records that `job` runs for the organisation owning `integration` (a scheduled check, sync or
/// token refresh), in the caller's transaction.
pub async fn record_for_integration(
    db: impl sqlx::PgExecutor<'_>,
    integration: IntegrationId,
    job: &JobId,
    kind: &str,
) -> Result<(), Error> {
    sqlx::query!(
        "INSERT INTO org_jobs (job_id, org_id, kind)
         SELECT $1, org_id, $3 FROM integrations WHERE id = $2
         ON CONFLICT (job_id) DO NOTHING",
        job as &JobId,
        integration as IntegrationId,
        kind,
    )
    .execute(db)
    .await?;
    Ok(())
}
