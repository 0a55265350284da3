//! Analytics: whether a team is getting better — run failure rates and durations, incident MTTA and
//! MTTR, the most frequent failures and a ranked repository health score, over a time window.

mod failures;
mod incidents;
mod repositories;
mod samples;
mod window;
mod workflows;

pub use failures::{FailureOut, Failures, failures};
pub use incidents::{IncidentBucketOut, IncidentGroupOut, IncidentStats, incidents};
pub use repositories::{RepositoryHealth, health_score, repositories};
pub use window::{Window, WindowIn};
pub use workflows::{RunBucketOut, WorkflowSeries, WorkflowStats, workflows};

/// Converts a duration in seconds or milliseconds from Postgres's `float8` to whole units.
fn whole(v: Option<f64>) -> Option<i64> {
    v.filter(|x| x.is_finite()).map(|x| x.round() as i64)
}

/// `part / total`, or 0 for an empty total, rounded to four decimals.
fn rate(part: i64, total: i64) -> f64 {
    if total <= 0 {
        0.0
    } else {
        ((part as f64 / total as f64) * 10_000.0).round() / 10_000.0
    }
}
