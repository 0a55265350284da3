//! Queries on the job queue's own tables (`apalis.jobs`, `apalis.workers`) that apalis does not
//! offer: retry scheduling, dead jobs, per-queue counts, pruning.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{AssertSqlSafe, FromRow, PgPool};

use crate::{Error, jobs::JobId};

/// Queries below splice only this constant into their text (never input), hence `AssertSqlSafe`.
///
/// How a job stands, from the point of view of someone waiting for it.
pub const OUTCOME_SQL: &str = "CASE
        WHEN status = 'Done' THEN 'succeeded'
        WHEN status = 'Killed' THEN 'dead'
        WHEN status = 'Failed' AND attempts >= max_attempts THEN 'dead'
        WHEN status = 'Failed' THEN 'retrying'
        WHEN status IN ('Queued', 'Running') THEN 'running'
        ELSE 'pending'
    END";

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct JobRow {
    pub id: String,
    pub queue: String,
    pub status: String,
    pub outcome: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at: DateTime<Utc>,
    pub lock_by: Option<String>,
    pub done_at: Option<DateTime<Utc>>,
    pub last_result: Option<serde_json::Value>,
}

fn select_jobs() -> String {
    format!(
        "SELECT id, job_type AS queue, status, {OUTCOME_SQL} AS outcome, attempts, max_attempts, run_at,
                lock_by, done_at, last_result
         FROM apalis.jobs"
    )
}

pub async fn find(pool: &PgPool, id: &JobId) -> Result<Option<JobRow>, Error> {
    Ok(
        sqlx::query_as(AssertSqlSafe(format!("{} WHERE id = $1", select_jobs())))
            .bind(&id.0)
            .fetch_optional(pool)
            .await?,
    )
}

/// Jobs that will not run again by themselves: permanently failed or out of attempts.
pub async fn dead(pool: &PgPool, limit: i64) -> Result<Vec<JobRow>, Error> {
    Ok(sqlx::query_as(AssertSqlSafe(format!(
        "{} WHERE status = 'Killed' OR (status = 'Failed' AND attempts >= max_attempts)
         ORDER BY done_at DESC NULLS LAST LIMIT $1",
        select_jobs()
    )))
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// Dead jobs (see [`dead`]) of the given queues, oldest first.
pub async fn dead_in(pool: &PgPool, queues: &[&str]) -> Result<Vec<JobRow>, Error> {
    let queues: Vec<String> = queues.iter().map(|q| (*q).to_owned()).collect();
    Ok(sqlx::query_as(AssertSqlSafe(format!(
        "{} WHERE job_type = ANY($1)
           AND (status = 'Killed' OR (status = 'Failed' AND attempts >= max_attempts))
         ORDER BY id",
        select_jobs()
    )))
    .bind(&queues)
    .fetch_all(pool)
    .await?)
}

/// Every job of one queue, oldest first (for tests and the CLI).
pub async fn list_queue(pool: &PgPool, queue: &str) -> Result<Vec<JobRow>, Error> {
    Ok(sqlx::query_as(AssertSqlSafe(format!(
        "{} WHERE job_type = $1 ORDER BY id",
        select_jobs()
    )))
    .bind(queue)
    .fetch_all(pool)
    .await?)
}

#[derive(Debug, Clone, FromRow)]
pub struct QueueCount {
    pub queue: String,
    pub outcome: String,
    pub count: i64,
}

/// Job counts by queue and outcome, for `/metrics`.
pub async fn counts(pool: &PgPool) -> Result<Vec<QueueCount>, Error> {
    Ok(sqlx::query_as(AssertSqlSafe(format!(
        "SELECT job_type AS queue, {OUTCOME_SQL} AS outcome, count(*) AS count
         FROM apalis.jobs GROUP BY 1, 2 ORDER BY 1, 2"
    )))
    .fetch_all(pool)
    .await?)
}

/// Unfinished jobs (pending, running or waiting to retry) in the given queues.
pub async fn unfinished(pool: &PgPool, queues: &[&str]) -> Result<i64, Error> {
    let queues: Vec<String> = queues.iter().map(|q| (*q).to_owned()).collect();
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM apalis.jobs
         WHERE job_type = ANY($1)
           AND (status IN ('Pending', 'Queued', 'Running') OR (status = 'Failed' AND attempts < max_attempts))",
    )
    .bind(&queues)
    .fetch_one(pool)
    .await?)
}

/// Moves a failed job's next run into the future, so storage-level retries back off instead of
/// running again at once. Called by the worker just before it reports the failure.
pub async fn defer_retry(pool: &PgPool, id: &JobId, delay: Duration) -> Result<(), Error> {
    let micros = i64::try_from(delay.as_micros()).unwrap_or(i64::MAX);
    sqlx::query("UPDATE apalis.jobs SET run_at = now() + make_interval(secs => $2::float8 / 1e6) WHERE id = $1")
        .bind(&id.0)
        .bind(micros as f64)
        .execute(pool)
        .await?;
    Ok(())
}

/// Returns the jobs held by the named (stopping) workers to the queue: fetched-but-unstarted ones
/// as they were, and the `interrupted` ones (cut off by the shutdown timeout) as a used attempt.
pub async fn release_held(
    pool: &PgPool,
    workers: &[String],
    interrupted: &[String],
) -> Result<u64, Error> {
    let queued = sqlx::query(
        "UPDATE apalis.jobs SET status = 'Pending', lock_by = NULL, lock_at = NULL
         WHERE lock_by = ANY($1) AND status = 'Queued'",
    )
    .bind(workers)
    .execute(pool)
    .await?
    .rows_affected();
    let running = sqlx::query(
        "UPDATE apalis.jobs
         SET status = 'Pending', lock_by = NULL, lock_at = NULL, attempts = attempts + 1,
             last_result = '{\"Err\": \"interrupted by worker shutdown\"}'::jsonb
         WHERE lock_by = ANY($1) AND id = ANY($2) AND status = 'Running'",
    )
    .bind(workers)
    .bind(interrupted)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(queued + running)
}

/// What one pruning pass removed.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Pruned {
    pub jobs: u64,
    pub workers: u64,
    pub effects: u64,
}

/// Deletes finished jobs (succeeded or dead), worker rows not seen, and effect records, all older
/// than `older_than`. Unfinished jobs are never touched; a worker row still named by a job's
/// `lock_by` (a foreign key) stays until that job is pruned.
pub async fn prune(pool: &PgPool, older_than: Duration) -> Result<Pruned, Error> {
    let secs = older_than.as_secs_f64();
    let mut tx = pool.begin().await?;
    let jobs = sqlx::query(
        "DELETE FROM apalis.jobs
         WHERE done_at < now() - make_interval(secs => $1)
           AND (status IN ('Done', 'Killed') OR (status = 'Failed' AND attempts >= max_attempts))",
    )
    .bind(secs)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let workers = sqlx::query(
        "DELETE FROM apalis.workers w
         WHERE w.last_seen < now() - make_interval(secs => $1)
           AND NOT EXISTS (SELECT 1 FROM apalis.jobs j WHERE j.lock_by = w.id)",
    )
    .bind(secs)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let effects = sqlx::query(
        "DELETE FROM job_effects WHERE completed_at < now() - make_interval(secs => $1)",
    )
    .bind(secs)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(Pruned {
        jobs,
        workers,
        effects,
    })
}

/// Records that `job` was started for `org` (in the transaction that pushed it).
pub async fn record_for_org(
    db: impl sqlx::PgExecutor<'_>,
    org: crate::domain::OrgId,
    job: &JobId,
    kind: &str,
) -> Result<(), Error> {
    sqlx::query("INSERT INTO org_jobs (job_id, org_id, kind) VALUES ($1, $2, $3)")
        .bind(&job.0)
        .bind(org)
        .bind(kind)
        .execute(db)
        .await?;
    Ok(())
}

/// Records that `job` was started by `user` for their own account (e.g. a token refresh).
pub async fn record_for_user(
    db: impl sqlx::PgExecutor<'_>,
    user: crate::domain::UserId,
    job: &JobId,
    kind: &str,
) -> Result<(), Error> {
    sqlx::query("INSERT INTO org_jobs (job_id, user_id, kind) VALUES ($1, $2, $3)")
        .bind(&job.0)
        .bind(user)
        .bind(kind)
        .execute(db)
        .await?;
    Ok(())
}

/// A job the user started, with its state.
pub async fn find_for_user(
    pool: &PgPool,
    user: crate::domain::UserId,
    id: &str,
) -> Result<Option<JobRow>, Error> {
    Ok(sqlx::query_as(AssertSqlSafe(format!(
        "{} WHERE id = $1 AND EXISTS (SELECT 1 FROM org_jobs o WHERE o.job_id = apalis.jobs.id AND o.user_id = $2)",
        select_jobs()
    )))
    .bind(id)
    .bind(user)
    .fetch_optional(pool)
    .await?)
}

/// A job of `org`, with its state; `None` when it is not theirs (or pruned).
pub async fn find_for_org(
    pool: &PgPool,
    org: crate::domain::OrgId,
    id: &str,
) -> Result<Option<JobRow>, Error> {
    Ok(sqlx::query_as(AssertSqlSafe(format!(
        "{} WHERE id = $1 AND EXISTS (SELECT 1 FROM org_jobs o WHERE o.job_id = apalis.jobs.id AND o.org_id = $2)",
        select_jobs()
    )))
    .bind(id)
    .bind(org)
    .fetch_optional(pool)
    .await?)
}
