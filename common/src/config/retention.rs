//! How long RepoPal keeps each class of history before the worker prunes it (`RETENTION_*`).

use std::time::Duration;

use super::{ConfigError, Source, parse::*};

/// Ages after which history is pruned. Incidents and workflow runs are not here: analytics need
/// them, so they are kept until their organisation is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionConfig {
    /// A webhook delivery's payload is dropped after this; its row (event, status, times) stays.
    pub delivery_payload: Duration,
    /// Integration health checks (the history behind charts and uptime figures).
    pub check_history: Duration,
    /// In-app notifications, read or not.
    pub notifications: Duration,
    /// Audit log entries.
    pub audit: Duration,
    /// Finished job rows, stale worker rows and effect records.
    pub jobs: Duration,
}

const DAY: u64 = 24 * 3600;

impl RetentionConfig {
    pub fn from_source(env: &dyn Source) -> Result<Self, ConfigError> {
        // `JOB_RETENTION_HOURS` is the setting's earlier name; the new one wins when both are set.
        let jobs_var = if env.get("RETENTION_JOBS_HOURS").is_none()
            && env.get("JOB_RETENTION_HOURS").is_some()
        {
            "JOB_RETENTION_HOURS"
        } else {
            "RETENTION_JOBS_HOURS"
        };
        Ok(Self {
            delivery_payload: days(env, "RETENTION_DELIVERY_PAYLOAD_DAYS", 30)?,
            check_history: days(env, "RETENTION_CHECK_HISTORY_DAYS", 30)?,
            notifications: days(env, "RETENTION_NOTIFICATIONS_DAYS", 90)?,
            audit: days(env, "RETENTION_AUDIT_DAYS", 365)?,
            jobs: or_default(env, jobs_var, Duration::from_secs(7 * DAY), |v| {
                bounded(v, 24 * 365 * 100, 3600)
            })?,
        })
    }
}

fn days(env: &dyn Source, name: &'static str, default: u64) -> Result<Duration, ConfigError> {
    or_default(env, name, Duration::from_secs(default * DAY), |v| {
        bounded(v, 365 * 100, DAY)
    })
}

/// A whole number of units from 1 to `max` (a century), as a duration.
fn bounded(v: &str, max: usize, unit_secs: u64) -> Result<Duration, String> {
    let n = parse_positive(v)?;
    if n > max {
        return Err(format!("`{v}` is more than {max}"));
    }
    Ok(Duration::from_secs(n as u64 * unit_secs))
}
