//! The worker's own claim/ack path over `apalis.jobs` and `apalis.workers`: one statement per claim
//! (marking the jobs `Running` at once), acks of many jobs in one statement, heartbeats and orphan
//! recovery for every claim stream of a process in one statement each.

use std::time::Duration;

use sqlx::PgPool;

use crate::{Error, domain::JobStatus};

/// A job taken by a claim stream: `Running` and locked by it.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: String,
    /// The stored payload (JSON bytes).
    pub job: Vec<u8>,
    /// Attempts used before this run (this run is `attempts + 1`).
    pub attempts: i32,
}

/// A finished run to record.
#[derive(Debug, Clone)]
pub struct Ack {
    pub id: String,
    /// The claim stream that ran it: an ack of a job since handed to someone else is ignored.
    pub worker: String,
    pub status: JobStatus,
    /// The run's number, stored as the job's attempts.
    pub attempt: i32,
    /// `{"Ok": null}` or `{"Err": "…"}`, as apalis writes it.
    pub result: serde_json::Value,
}

/// Registers (or refreshes) claim streams as workers of their queues: `(name, queue)` pairs. A
/// job's `lock_by` refers to this row, so a stream registers before it claims.
pub async fn register(pool: &PgPool, workers: &[(String, String)]) -> Result<(), Error> {
    let (names, queues): (Vec<&str>, Vec<&str>) = workers
        .iter()
        .map(|(n, q)| (n.as_str(), q.as_str()))
        .unzip();
    sqlx::query!(
        "INSERT INTO apalis.workers (id, worker_type, storage_name, layers, last_seen)
         SELECT n, q, 'repopal', '', now() FROM unnest($1::text[], $2::text[]) AS w(n, q)
         ON CONFLICT (id) DO UPDATE SET last_seen = now(), worker_type = EXCLUDED.worker_type",
        &names as &[&str],
        &queues as &[&str],
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Re-queues the jobs held by workers of `queues` silent for `older_than` or more (their process
/// died): as `Pending`, the interrupted run counted as an attempt. Returns how many.
pub async fn requeue_orphans(
    pool: &PgPool,
    queues: &[&str],
    older_than: Duration,
) -> Result<u64, Error> {
    Ok(sqlx::query!(
        r#"WITH stale AS (
             SELECT j.id FROM apalis.jobs j JOIN apalis.workers w ON j.lock_by = w.id
             WHERE j.status IN ('Running', 'Queued') AND w.worker_type = ANY($1)
               AND now() - w.last_seen >= make_interval(secs => $2)
             FOR UPDATE OF j SKIP LOCKED)
           UPDATE apalis.jobs SET status = 'Pending', done_at = NULL, lock_by = NULL, lock_at = NULL,
             attempts = attempts + 1,
             last_result = '{"Err": "Re-enqueued due to worker heartbeat timeout."}'
           FROM stale WHERE apalis.jobs.id = stale.id"#,
        queues as &[&str],
        older_than.as_secs_f64(),
    )
    .execute(pool)
    .await?
    .rows_affected())
}

/// Claims up to `limit` due jobs of `queue` for `worker` in one statement: the same jobs, in the
/// same order, as apalis's `get_jobs` (pending, or failed with attempts left; highest priority,
/// then oldest `run_at`), but marked `Running` directly.
pub async fn claim(
    pool: &PgPool,
    queue: &str,
    worker: &str,
    limit: i64,
) -> Result<Vec<Claimed>, Error> {
    let rows = sqlx::query_as!(
        Claimed,
        r#"UPDATE apalis.jobs j SET status = 'Running', lock_by = $2, lock_at = now()
         WHERE j.id IN (
             SELECT id FROM apalis.jobs
             WHERE (status = 'Pending' OR (status = 'Failed' AND attempts < max_attempts))
               AND run_at < now() AND job_type = $1
             ORDER BY priority DESC, run_at ASC
             LIMIT $3
             FOR UPDATE SKIP LOCKED)
         RETURNING j.id, j.job, j.attempts"#,
        queue,
        worker,
        limit,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows)
}

/// Records many finished runs in one statement. Only rows still `Running` under the acking
/// worker change (a job re-queued as an orphan meanwhile belongs to its next run). Each run's row
/// is found by its primary key: the worker is compared with `IS NOT DISTINCT FROM` (the same test,
/// as `lock_by` is set on every `Running` row) so the planner cannot probe the `lock_by` index
/// instead, whose entries for one worker grow with every job it ever ran (its statistics, taken
/// while the queue was filling, say almost none), making every ack scan them all.
pub async fn ack(pool: &PgPool, acks: &[Ack]) -> Result<u64, Error> {
    let ids: Vec<&str> = acks.iter().map(|a| a.id.as_str()).collect();
    let workers: Vec<&str> = acks.iter().map(|a| a.worker.as_str()).collect();
    let statuses: Vec<&str> = acks.iter().map(|a| a.status.as_str()).collect();
    let attempts: Vec<i32> = acks.iter().map(|a| a.attempt).collect();
    let results: Vec<serde_json::Value> = acks.iter().map(|a| a.result.clone()).collect();
    Ok(sqlx::query!(
        "UPDATE apalis.jobs j
         SET status = a.status, attempts = a.attempt, last_result = a.result, done_at = now()
         FROM unnest($1::text[], $2::text[], $3::text[], $4::int4[], $5::jsonb[])
              AS a(id, worker, status, attempt, result)
         WHERE j.id = a.id AND j.lock_by IS NOT DISTINCT FROM a.worker AND j.status = 'Running'",
        &ids as &[&str],
        &workers as &[&str],
        &statuses as &[&str],
        &attempts,
        &results,
    )
    .execute(pool)
    .await?
    .rows_affected())
}

/// Hands claimed jobs that never started (a stopping stream's prefetch) back to the queue as
/// they were: `Pending`, no attempt used.
pub async fn release(pool: &PgPool, worker: &str, ids: &[String]) -> Result<u64, Error> {
    Ok(sqlx::query!(
        "UPDATE apalis.jobs SET status = 'Pending', lock_by = NULL, lock_at = NULL
         WHERE id = ANY($2) AND lock_by = $1 AND status = 'Running'",
        worker,
        ids,
    )
    .execute(pool)
    .await?
    .rows_affected())
}
