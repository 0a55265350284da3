//! Scheduling health checks: one job per due time.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::{
    Error,
    domain::IntegrationId,
    jobs::{self, CheckIntegration, Enqueue},
    repo::org_jobs,
};

/// `t` rounded up to a whole second (job run times have second precision, and a due time must
/// survive the round trip through a job payload exactly).
pub fn whole_second(t: DateTime<Utc>) -> DateTime<Utc> {
    let secs = t.timestamp() + i64::from(t.timestamp_subsec_nanos() > 0);
    DateTime::from_timestamp(secs, 0).unwrap_or(t)
}

/// Enqueues the check due at `due` (once: the job is keyed by the due time). False when a job for
/// that due time exists already (or existed, until it is pruned).
pub async fn schedule_check(
    conn: &mut PgConnection,
    id: IntegrationId,
    due: DateTime<Utc>,
) -> Result<bool, Error> {
    let job = jobs::push_with(
        conn,
        &CheckIntegration {
            integration_id: id,
            due_at: due,
        },
        Enqueue {
            run_at: Some(due),
            idempotency_key: Some(format!("check:{id}:{}", due.timestamp())),
        },
    )
    .await?;
    // The organisation sees its scheduled checks among its jobs.
    if let Some(job) = &job {
        org_jobs::record_for_integration(&mut *conn, id, job, "check_integration").await?;
    }
    Ok(job.is_some())
}
