//! The analytics rollups: recomputing the days the triggers marked (runs, incidents and failing
//! jobs alike), and reading the run rollup back as [`RunBucket`]s and per-repository counts.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::analytics::{RunBucket, Scope};
use crate::{
    Error,
    domain::{Bucket, OrgId},
};

/// The repository key of rows that cover every repository.
const ALL: Uuid = Uuid::nil();

/// At most this many marked days are recomputed per transaction.
const CHUNK: usize = 14;

fn midnight(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

/// Recomputes every rollup of every marked day in `[from, to)` of the organisation (the run day
/// and week rows, the incident and failing-job day rows), deleting the marks in the same
/// transaction. Returns how many days were recomputed.
pub async fn refresh(
    pool: &PgPool,
    org: OrgId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<usize, Error> {
    let mut done = 0;
    loop {
        let mut tx = pool.begin().await?;
        // One refresh per organisation at a time: two refreshes of different days of one week
        // would both rewrite that week's rows and collide on the unique key.
        sqlx::query_scalar!(
            r#"SELECT true AS "locked!" FROM pg_advisory_xact_lock(hashtextextended('analytics_rollups:' || $1::text, 0))"#,
            org as OrgId,
        )
        .fetch_one(&mut *tx)
        .await?;
        // Waits for a concurrent refresh of the same days; it then finds them recomputed.
        let days: Vec<NaiveDate> = sqlx::query_scalar!(
            r#"DELETE FROM analytics_dirty_days
               WHERE (org_id, day) IN (
                   SELECT org_id, day FROM analytics_dirty_days
                   WHERE org_id = $1 AND day >= $2 AND day < $3
                   ORDER BY day LIMIT $4 FOR UPDATE)
               RETURNING day"#,
            org as OrgId,
            from.date_naive(),
            // A partial last day counts: its mark covers the whole day.
            (to - Duration::nanoseconds(1)).date_naive() + Duration::days(1),
            CHUNK as i64,
        )
        .fetch_all(&mut *tx)
        .await?;
        if days.is_empty() {
            tx.commit().await?;
            return Ok(done);
        }
        let day_starts: Vec<DateTime<Utc>> = days.iter().map(|d| midnight(*d)).collect();
        let mut week_starts: Vec<DateTime<Utc>> = days
            .iter()
            .map(|d| midnight(*d - Duration::days(i64::from(d.weekday().num_days_from_monday()))))
            .collect();
        week_starts.dedup();
        for (bucket, starts, width) in [
            (Bucket::Day, &day_starts, Duration::days(1)),
            (Bucket::Week, &week_starts, Duration::weeks(1)),
        ] {
            let lo = starts.iter().min().copied().unwrap_or_default();
            let hi = starts.iter().max().copied().unwrap_or_default() + width;
            sqlx::query!(
                "DELETE FROM analytics_run_rollups
                 WHERE org_id = $1 AND bucket = $2 AND bucket_start = ANY($3)",
                org as OrgId,
                bucket.as_str(),
                starts.as_slice(),
            )
            .execute(&mut *tx)
            .await?;
            sqlx::query!(
                r#"INSERT INTO analytics_run_rollups
                       (org_id, bucket, bucket_start, repository_id, workflow_name, runs, failures,
                        duration_p50_ms, duration_p90_ms)
                   SELECT $1, $2, date_trunc($2, completed_at, 'UTC'),
                          CASE WHEN GROUPING(repository_id) = 0 THEN repository_id ELSE $6 END,
                          CASE WHEN GROUPING(workflow_name) = 0 THEN workflow_name END,
                          count(*),
                          count(*) FILTER (WHERE conclusion IN ('failure', 'timed_out')),
                          percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms),
                          percentile_cont(0.9) WITHIN GROUP (ORDER BY duration_ms)
                   FROM workflow_runs
                   WHERE org_id = $1 AND completed_at >= $4 AND completed_at < $5
                     AND completed_at IS NOT NULL AND conclusion IS NOT NULL
                     AND date_trunc($2, completed_at, 'UTC') = ANY($3)
                   GROUP BY GROUPING SETS ((3), (3, workflow_name), (3, repository_id),
                                           (3, repository_id, workflow_name))"#,
                org as OrgId,
                bucket.as_str(),
                starts.as_slice(),
                lo,
                hi,
                ALL,
            )
            .execute(&mut *tx)
            .await?;
        }
        // The per-day incident and failure rows of these days are rewritten: one statement
        // clears both tables' rows first.
        sqlx::query!(
            "WITH incident_days AS (
                 DELETE FROM analytics_incident_days WHERE org_id = $1 AND day_start = ANY($2))
             DELETE FROM analytics_failure_days WHERE org_id = $1 AND day_start = ANY($2)",
            org as OrgId,
            &day_starts,
        )
        .execute(&mut *tx)
        .await?;
        super::analytics_incidents::recompute_days(&mut tx, org, &day_starts).await?;
        super::analytics_failures::recompute_days(&mut tx, org, &day_starts).await?;
        tx.commit().await?;
        done += days.len();
    }
}

/// The rollup's buckets starting in `[from, to)` for the scope's repository (or all) and workflow
/// (or each and all). The caller refreshes first and never passes a branch filter.
pub async fn run_rollups(
    pool: &PgPool,
    s: &Scope,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<RunBucket>, Error> {
    let rows = sqlx::query_as!(
        RunBucket,
        r#"SELECT bucket_start, workflow_name AS workflow, runs, failures,
                  duration_p50_ms, duration_p90_ms
           FROM analytics_run_rollups
           WHERE org_id = $1 AND bucket = $2 AND repository_id = coalesce($3::uuid, $4::uuid)
             AND bucket_start >= $5 AND bucket_start < $6
             AND ($7::text IS NULL OR workflow_name = $7)
           ORDER BY bucket_start, workflow_name NULLS FIRST"#,
        s.org as OrgId,
        s.bucket.as_str(),
        s.repository,
        ALL,
        from,
        to,
        s.workflow.as_deref(),
    )
    .fetch_all(pool)
    .await?;
    // With a workflow filter, that workflow's rows are also the overall ones.
    Ok(match &s.workflow {
        None => rows,
        Some(_) => rows
            .into_iter()
            .flat_map(|r| {
                [
                    RunBucket {
                        workflow: None,
                        ..r.clone()
                    },
                    r,
                ]
            })
            .collect(),
    })
}

/// Completed runs and failures per repository of the window: the day rows of the whole days
/// `[lo, hi)` plus the runs of `[from, lo)` and `[hi, to)`. With `lo == hi` every run comes from
/// the table (the branch filter, which the rollup does not keep).
pub async fn runs_per_repository(
    pool: &PgPool,
    s: &Scope,
    (lo, hi): (DateTime<Utc>, DateTime<Utc>),
) -> Result<Vec<(Uuid, i64, i64)>, Error> {
    let rows = sqlx::query!(
        r#"SELECT repository_id AS "repository_id!", sum(runs)::bigint AS "runs!",
                  sum(failures)::bigint AS "failures!"
           FROM (
               SELECT repository_id, runs, failures
               FROM analytics_run_rollups
               WHERE org_id = $1 AND bucket = 'day' AND repository_id <> $6
                 AND bucket_start >= $4 AND bucket_start < $5
                 AND workflow_name IS NOT DISTINCT FROM $7::text
               UNION ALL
               SELECT repository_id, 1,
                      CASE WHEN conclusion IN ('failure', 'timed_out') THEN 1 ELSE 0 END
               FROM workflow_runs
               WHERE org_id = $1 AND completed_at IS NOT NULL AND conclusion IS NOT NULL
                 AND ((completed_at >= $2 AND completed_at < $4)
                      OR (completed_at >= $5 AND completed_at < $3))
                 AND ($7::text IS NULL OR workflow_name = $7)
                 AND ($8::text IS NULL OR branch = $8)
           ) AS x(repository_id, runs, failures)
           GROUP BY repository_id"#,
        s.org as OrgId,
        s.from,
        s.to,
        lo,
        hi,
        ALL,
        s.workflow.as_deref(),
        s.branch.as_deref(),
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.repository_id, r.runs, r.failures))
        .collect())
}
