//! The most frequent failing jobs and steps in the window, with the last run they failed in.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;

pub use crate::repo::analytics::FailureOut;

use super::Window;
use crate::{
    Error,
    repo::{analytics_failures, analytics_rollups},
};

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
        jobs: analytics_failures::failing(pool, s, days, false, limit).await?,
        steps: analytics_failures::failing(pool, s, days, true, limit).await?,
    })
}
