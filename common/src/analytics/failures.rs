//! The most frequent failing jobs and steps in the window, with the last run they failed in.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

use super::Window;
use crate::{
    Error,
    repo::{analytics, analytics_failures, analytics_rollups},
};

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

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Failures {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Jobs by failures, most first.
    pub jobs: Vec<FailureOut>,
    /// Steps by failures, most first.
    pub steps: Vec<FailureOut>,
}

pub async fn failures(pool: &PgPool, window: &Window, limit: i64) -> Result<Failures, Error> {
    let s = &window.scope;
    let out = |rows: Vec<analytics::Failing>| {
        rows.into_iter()
            .map(|f| FailureOut {
                repository_id: f.repository_id,
                repository: f.repository,
                job: f.job,
                step: f.step,
                failures: f.failures,
                last_seen_at: f.last_seen_at,
                last_run_id: f.last_run_id,
                workflow: f.workflow,
            })
            .collect()
    };
    // Whole days from the day rows (refreshed first); a branch filter reads the jobs throughout.
    let days = match window.whole_days().filter(|_| s.branch.is_none()) {
        Some((lo, hi)) => {
            analytics_rollups::refresh(pool, s.org, lo, hi).await?;
            (lo, hi)
        }
        None => (s.from, s.from),
    };
    Ok(Failures {
        from: s.from,
        to: s.to,
        jobs: out(analytics_failures::failing(pool, s, days, false, limit).await?),
        steps: out(analytics_failures::failing(pool, s, days, true, limit).await?),
    })
}
