//! Queries on the job queue's own tables (`apalis.jobs`, `apalis.workers`) that apalis does not
//! offer: retry scheduling, dead jobs, per-queue counts, pruning.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

use crate::{
    Error,
    domain::{Attempts, JobOutcome, JobStatus, OrgId, UserId},
    jobs::JobId,
};

#[derive(Debug, Clone, Serialize)]
pub struct JobRow {
    pub id: JobId,
    pub queue: String,
    pub status: JobStatus,
    /// How the job stands for someone waiting for it (derived from status and attempts).
    pub outcome: JobOutcome,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at: DateTime<Utc>,
    pub lock_by: Option<String>,
    pub done_at: Option<DateTime<Utc>>,
    pub last_result: Option<serde_json::Value>,
}

/// `apalis.jobs` as stored; [`JobRow`] adds the outcome.
pub(crate) struct Stored {
    pub(crate) id: JobId,
    pub(crate) queue: String,
    pub(crate) status: JobStatus,
    pub(crate) attempts: i32,
    pub(crate) max_attempts: i32,
    pub(crate) run_at: DateTime<Utc>,
    pub(crate) lock_by: Option<String>,
    pub(crate) done_at: Option<DateTime<Utc>>,
    pub(crate) last_result: Option<serde_json::Value>,
}

impl From<Stored> for JobRow {
    fn from(s: Stored) -> Self {
        Self {
            outcome: JobOutcome::of(s.status, Attempts::of(s.attempts, s.max_attempts)),
            id: s.id,
            queue: s.queue,
            status: s.status,
            attempts: s.attempts,
            max_attempts: s.max_attempts,
            run_at: s.run_at,
            lock_by: s.lock_by,
            done_at: s.done_at,
            last_result: s.last_result,
        }
    }
}

/// Who must have started a job for it to be found.
#[derive(Debug, Clone, Copy)]
enum StartedBy {
    /// Anyone (the system's own view: tests, the CLI, the worker).
    Anyone,
    User(UserId),
    Org(OrgId),
}

async fn find_started_by(
    pool: &PgPool,
    id: &JobId,
    by: StartedBy,
) -> Result<Option<JobRow>, Error> {
    let (user, org) = match by {
        StartedBy::Anyone => (None, None),
        StartedBy::User(u) => (Some(u), None),
        StartedBy::Org(o) => (None, Some(o)),
    };
    let row = sqlx::query_as!(
        Stored,
        r#"SELECT id AS "id: JobId", job_type AS queue, status AS "status: JobStatus", attempts, max_attempts,
                run_at, lock_by, done_at, last_result
         FROM apalis.jobs j WHERE id = $1
           AND ($2::uuid IS NULL OR EXISTS (SELECT 1 FROM org_jobs o WHERE o.job_id = j.id AND o.user_id = $2))
           AND ($3::uuid IS NULL OR EXISTS (SELECT 1 FROM org_jobs o WHERE o.job_id = j.id AND o.org_id = $3))"#,
        id as &JobId,
        user as Option<UserId>,
        org as Option<OrgId>,
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(Into::into))
}

pub async fn find(pool: &PgPool, id: &JobId) -> Result<Option<JobRow>, Error> {
    find_started_by(pool, id, StartedBy::Anyone).await
}

/// Which jobs to list.
#[derive(Debug, Clone, Copy)]
enum Listing<'a> {
    /// Dead jobs of every queue, most recently finished first, at most this many.
    Dead(i64),
    /// Dead jobs of these queues, oldest first.
    DeadIn(&'a [&'a str]),
    /// Every job of one queue, oldest first.
    Queue(&'a str),
}

/// Jobs that will not run again by themselves are permanently failed or out of attempts ("dead").
async fn list_jobs(pool: &PgPool, listing: Listing<'_>) -> Result<Vec<JobRow>, Error> {
    let (queues, dead_only, newest_done_first, limit): (Vec<String>, bool, bool, Option<i64>) =
        match listing {
            Listing::Dead(limit) => (Vec::new(), true, true, Some(limit)),
            Listing::DeadIn(queues) => (
                queues.iter().map(|q| (*q).to_owned()).collect(),
                true,
                false,
                None,
            ),
            Listing::Queue(queue) => (vec![queue.to_owned()], false, false, None),
        };
    let rows = sqlx::query_as!(
        Stored,
        r#"SELECT id AS "id: JobId", job_type AS queue, status AS "status: JobStatus", attempts, max_attempts,
                run_at, lock_by, done_at, last_result
         FROM apalis.jobs
         WHERE (cardinality($1::text[]) = 0 OR job_type = ANY($1))
           AND (NOT $2 OR status = $3 OR (status = $4 AND attempts >= max_attempts))
         ORDER BY CASE WHEN $5 THEN done_at END DESC NULLS LAST, id
         LIMIT $6"#,
        &queues,
        dead_only,
        JobStatus::Killed as JobStatus,
        JobStatus::Failed as JobStatus,
        newest_done_first,
        limit,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Jobs that will not run again by themselves: permanently failed or out of attempts.
pub async fn dead(pool: &PgPool, limit: i64) -> Result<Vec<JobRow>, Error> {
    list_jobs(pool, Listing::Dead(limit)).await
}

/// Dead jobs (see [`dead`]) of the given queues, oldest first.
pub async fn dead_in(pool: &PgPool, queues: &[&str]) -> Result<Vec<JobRow>, Error> {
    list_jobs(pool, Listing::DeadIn(queues)).await
}

/// Every job of one queue, oldest first (for tests and the CLI).
pub async fn list_queue(pool: &PgPool, queue: &str) -> Result<Vec<JobRow>, Error> {
    list_jobs(pool, Listing::Queue(queue)).await
}

#[derive(Debug, Clone)]
pub struct QueueCount {
    pub queue: String,
    pub outcome: JobOutcome,
    pub count: i64,
}

/// Job counts by queue and outcome, for `/metrics`.
pub async fn counts(pool: &PgPool) -> Result<Vec<QueueCount>, Error> {
    let rows = sqlx::query!(
        r#"SELECT job_type AS queue, status AS "status: JobStatus", attempts >= max_attempts AS "used_up!",
                count(*) AS "count!"
         FROM apalis.jobs GROUP BY 1, 2, 3"#
    )
    .fetch_all(pool)
    .await?;
    let mut counts = std::collections::BTreeMap::<(String, &'static str), QueueCount>::new();
    for r in rows {
        let attempts = if r.used_up {
            Attempts::UsedUp
        } else {
            Attempts::Left
        };
        let outcome = JobOutcome::of(r.status, attempts);
        counts
            .entry((r.queue.clone(), outcome.as_str()))
            .or_insert(QueueCount {
                queue: r.queue,
                outcome,
                count: 0,
            })
            .count += r.count;
    }
    Ok(counts.into_values().collect())
}

/// Unfinished jobs (pending, running or waiting to retry) in the given queues.
pub async fn unfinished(pool: &PgPool, queues: &[&str]) -> Result<i64, Error> {
    let queues: Vec<String> = queues.iter().map(|q| (*q).to_owned()).collect();
    Ok(sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM apalis.jobs
         WHERE job_type = ANY($1)
           AND (status = ANY($2) OR (status = $3 AND attempts < max_attempts))"#,
        &queues,
        &[JobStatus::Pending, JobStatus::Queued, JobStatus::Running] as &[JobStatus],
        JobStatus::Failed as JobStatus,
    )
    .fetch_one(pool)
    .await?)
}

/// Moves a failed job's next run into the future, so storage-level retries back off instead of
/// running again at once. Called by the worker just before it reports the failure.
pub async fn defer_retry(pool: &PgPool, id: &JobId, delay: Duration) -> Result<(), Error> {
    let micros = i64::try_from(delay.as_micros()).unwrap_or(i64::MAX);
    sqlx::query!(
        "UPDATE apalis.jobs SET run_at = now() + make_interval(secs => $2::float8 / 1e6) WHERE id = $1",
        id as &JobId,
        micros as f64,
    )
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
    let queued = sqlx::query!(
        "UPDATE apalis.jobs SET status = $2, lock_by = NULL, lock_at = NULL
         WHERE lock_by = ANY($1) AND status = $3",
        workers,
        JobStatus::Pending as JobStatus,
        JobStatus::Queued as JobStatus,
    )
    .execute(pool)
    .await?
    .rows_affected();
    let running = sqlx::query!(
        r#"UPDATE apalis.jobs
         SET status = $3, lock_by = NULL, lock_at = NULL, attempts = attempts + 1,
             last_result = '{"Err": "interrupted by worker shutdown"}'::jsonb
         WHERE lock_by = ANY($1) AND id = ANY($2) AND status = $4"#,
        workers,
        interrupted,
        JobStatus::Pending as JobStatus,
        JobStatus::Running as JobStatus,
    )
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

/// Deletes finished jobs (succeeded or dead) with their owner records, worker rows not seen, and
/// effect records, all older than `older_than`. Unfinished jobs are never touched; a worker row still named by a job's
/// `lock_by` (a foreign key) stays until that job is pruned.
pub async fn prune(pool: &PgPool, older_than: Duration) -> Result<Pruned, Error> {
    let secs = older_than.as_secs_f64();
    let mut tx = pool.begin().await?;
    // A pruned job's owner record (`org_jobs`: who caused it) goes with it.
    let jobs = sqlx::query_scalar!(
        r#"WITH gone AS (
             DELETE FROM apalis.jobs
             WHERE done_at < now() - make_interval(secs => $1)
               AND (status = ANY($2) OR (status = $3 AND attempts >= max_attempts))
             RETURNING id),
           owners AS (DELETE FROM org_jobs WHERE job_id IN (SELECT id FROM gone))
           SELECT count(*) AS "pruned!" FROM gone"#,
        secs,
        &[JobStatus::Done, JobStatus::Killed] as &[JobStatus],
        JobStatus::Failed as JobStatus,
    )
    .fetch_one(&mut *tx)
    .await?;
    let jobs = u64::try_from(jobs).unwrap_or(0);
    let workers = sqlx::query!(
        "DELETE FROM apalis.workers w
         WHERE w.last_seen < now() - make_interval(secs => $1)
           AND NOT EXISTS (SELECT 1 FROM apalis.jobs j WHERE j.lock_by = w.id)",
        secs,
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let effects = sqlx::query!(
        "DELETE FROM job_effects WHERE completed_at < now() - make_interval(secs => $1)",
        secs,
    )
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
    org: OrgId,
    job: &JobId,
    kind: &str,
) -> Result<(), Error> {
    sqlx::query!(
        "INSERT INTO org_jobs (job_id, org_id, kind) VALUES ($1, $2, $3)",
        job as &JobId,
        org as OrgId,
        kind,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Records that `job` was started by `user` for their own account (e.g. a token refresh).
pub async fn record_for_user(
    db: impl sqlx::PgExecutor<'_>,
    user: UserId,
    job: &JobId,
    kind: &str,
) -> Result<(), Error> {
    sqlx::query!(
        "INSERT INTO org_jobs (job_id, user_id, kind) VALUES ($1, $2, $3)",
        job as &JobId,
        user as UserId,
        kind,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A job the user started, with its state.
pub async fn find_for_user(
    pool: &PgPool,
    user: UserId,
    id: &JobId,
) -> Result<Option<JobRow>, Error> {
    find_started_by(pool, id, StartedBy::User(user)).await
}

/// A job of `org`, with its state; `None` when it is not theirs (or pruned).
pub async fn find_for_org(pool: &PgPool, org: OrgId, id: &JobId) -> Result<Option<JobRow>, Error> {
    find_started_by(pool, id, StartedBy::Org(org)).await
}
