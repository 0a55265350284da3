//! The redelivery sweep: GitHub never retries a failed delivery by itself, so RepoPal lists the
//! App's recent deliveries and asks GitHub to redeliver every event that got no 2xx and is not
//! stored (e.g. refused with 503 while the database was down).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::{
    Error,
    github::{Github, HookDelivery},
    repo::webhook_deliveries,
};

/// What one sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Distinct events (delivery GUIDs) GitHub listed in the window.
    pub events: usize,
    /// Events none of whose attempts got a 2xx.
    pub failed: usize,
    /// Failed events asked to be redelivered (the rest were stored after all).
    pub redelivered: usize,
}

/// Sweeps the App's deliveries made since `since`.
pub async fn sweep(
    pool: &PgPool,
    github: &Github,
    since: DateTime<Utc>,
) -> Result<SweepReport, Error> {
    let listed = github.app_deliveries(since).await?;
    // Per event: whether any attempt succeeded, and its latest attempt (the list is newest first).
    let mut latest: HashMap<&str, &HookDelivery> = HashMap::new();
    let mut succeeded: HashSet<&str> = HashSet::new();
    for d in &listed {
        latest.entry(d.guid.as_str()).or_insert(d);
        if d.succeeded() {
            succeeded.insert(d.guid.as_str());
        }
    }
    let failed: Vec<&str> = latest
        .keys()
        .copied()
        .filter(|guid| !succeeded.contains(guid))
        .collect();
    let stored: HashSet<String> = webhook_deliveries::stored_among(pool, &failed)
        .await?
        .into_iter()
        .collect();
    let mut report = SweepReport {
        events: latest.len(),
        failed: failed.len(),
        redelivered: 0,
    };
    for guid in failed.iter().filter(|g| !stored.contains(**g)) {
        let Some(attempt) = latest.get(guid) else {
            continue;
        };
        github.redeliver(attempt.id).await?;
        tracing::info!(
            delivery = guid,
            attempt = attempt.id,
            event = %attempt.event,
            status = attempt.status_code,
            "asked GitHub to redeliver a delivery that was not stored"
        );
        report.redelivered += 1;
    }
    Ok(report)
}
