//! Run durations over a whole analytics window (median and p90 of every completed run in it), for
//! the console's run stats; the per-bucket figures are `analytics::run_series`'.

use sqlx::PgExecutor;

use super::analytics::Scope;
use crate::{Error, domain::OrgId};

/// The median and 90th percentile duration (ms) of the scope's completed runs; `None` when none
/// has a duration. Same rows as `analytics::run_series` (by `completed_at`, the same filters).
pub async fn window_percentiles(
    db: impl PgExecutor<'_>,
    s: &Scope,
) -> Result<(Option<f64>, Option<f64>), Error> {
    Ok(sqlx::query_as::<_, (Option<f64>, Option<f64>)>(
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms),
                percentile_cont(0.9) WITHIN GROUP (ORDER BY duration_ms)
         FROM workflow_runs
         WHERE org_id = $1 AND completed_at >= $2 AND completed_at < $3
           AND completed_at IS NOT NULL AND conclusion IS NOT NULL
           AND ($4::uuid IS NULL OR repository_id = $4)
           AND ($5::text IS NULL OR workflow_name = $5)
           AND ($6::text IS NULL OR branch = $6)",
    )
    .bind(s.org as OrgId)
    .bind(s.from)
    .bind(s.to)
    .bind(s.repository)
    .bind(s.workflow.as_deref())
    .bind(s.branch.as_deref())
    .fetch_one(db)
    .await?)
}
