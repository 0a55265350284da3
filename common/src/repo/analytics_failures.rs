//! Failing jobs and steps for analytics: per-day rows of `analytics_failure_days` for whole days,
//! merged in the same statement with the failed jobs of the window's partial days.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};

use super::analytics::{FailureOut, Scope};
use crate::{Error, domain::OrgId};

/// Writes the rows of the given days (UTC midnights; the caller deleted their old rows) from
/// `workflow_jobs` and their runs.
pub(super) async fn recompute_days(
    tx: &mut PgConnection,
    org: OrgId,
    days: &[DateTime<Utc>],
) -> Result<(), Error> {
    let lo = days.iter().min().copied().unwrap_or_default();
    let hi = days.iter().max().copied().unwrap_or_default() + chrono::Duration::days(1);
    sqlx::query!(
        r#"INSERT INTO analytics_failure_days
               (org_id, day_start, repository_id, workflow_name, job, step, failures, last_seen_at,
                last_run_id)
           SELECT $1, date_trunc('day', j.completed_at, 'UTC'), j.repository_id, w.workflow_name,
                  j.name, s.step, count(*), max(j.completed_at),
                  (array_agg(w.id ORDER BY j.completed_at DESC))[1]
           FROM workflow_jobs j
           LEFT JOIN workflow_runs w
                  ON w.org_id = j.org_id AND w.run_id = j.run_id AND w.run_attempt = j.run_attempt
           CROSS JOIN LATERAL (SELECT NULL::text
                               UNION ALL
                               SELECT jsonb_array_elements_text(j.failed_steps)) AS s(step)
           WHERE j.org_id = $1 AND j.conclusion IN ('failure', 'timed_out')
             AND j.completed_at >= $3 AND j.completed_at < $4
             AND date_trunc('day', j.completed_at, 'UTC') = ANY($2)
           GROUP BY 2, 3, 4, 5, 6"#,
        org as OrgId,
        days,
        lo,
        hi,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The most frequent failing jobs (`steps` false) or steps of the window: the day rows of the whole
/// days `[lo, hi)` plus the failed jobs of `[from, lo)` and `[hi, to)`. With `lo == hi` the whole
/// window comes from the jobs (the branch filter, which the day rows do not keep).
pub async fn failing(
    db: impl PgExecutor<'_>,
    s: &Scope,
    (lo, hi): (DateTime<Utc>, DateTime<Utc>),
    steps: bool,
    limit: i64,
) -> Result<Vec<FailureOut>, Error> {
    Ok(sqlx::query_as!(
        FailureOut,
        r#"SELECT x.repository_id AS "repository_id!", max(r.full_name) AS "repository!",
                  x.job AS "job!", x.step,
                  sum(x.failures)::bigint AS "failures!",
                  max(x.last_seen_at) AS last_seen_at,
                  (array_agg(x.last_run_id ORDER BY x.last_seen_at DESC))[1] AS last_run_id,
                  (array_agg(x.workflow_name ORDER BY x.last_seen_at DESC))[1] AS workflow
           FROM (
               SELECT repository_id, job, step, workflow_name, failures, last_seen_at, last_run_id
               FROM analytics_failure_days
               WHERE org_id = $1 AND day_start >= $4 AND day_start < $5
                 AND (step IS NOT NULL) = $9
                 AND ($6::uuid IS NULL OR repository_id = $6)
                 AND ($7::text IS NULL OR workflow_name = $7)
               UNION ALL
               SELECT j.repository_id, j.name, s.step, w.workflow_name, 1, j.completed_at, w.id
               FROM workflow_jobs j
               LEFT JOIN workflow_runs w
                      ON w.org_id = j.org_id AND w.run_id = j.run_id AND w.run_attempt = j.run_attempt
               CROSS JOIN LATERAL (SELECT NULL::text WHERE NOT $9
                                   UNION ALL
                                   SELECT jsonb_array_elements_text(j.failed_steps) WHERE $9) AS s(step)
               WHERE j.org_id = $1 AND j.conclusion IN ('failure', 'timed_out')
                 AND ((j.completed_at >= $2 AND j.completed_at < $4)
                      OR (j.completed_at >= $5 AND j.completed_at < $3))
                 AND ($6::uuid IS NULL OR j.repository_id = $6)
                 AND ($7::text IS NULL OR w.workflow_name = $7)
                 AND ($8::text IS NULL OR w.branch = $8)
           ) AS x(repository_id, job, step, workflow_name, failures, last_seen_at, last_run_id)
           JOIN repositories r ON r.id = x.repository_id
           GROUP BY x.repository_id, x.job, x.step
           ORDER BY 5 DESC, 3, 4, 2
           LIMIT $10"#,
        s.org as OrgId,
        s.from,
        s.to,
        lo,
        hi,
        s.repository,
        s.workflow.as_deref(),
        s.branch.as_deref(),
        steps,
        limit,
    )
    .fetch_all(db)
    .await?)
}
