//! The redelivery sweep: GitHub never retries a failed delivery by itself, so RepoPal lists the
//! App's recent deliveries and asks GitHub to redeliver every event that got no 2xx and is not
//! stored (e.g. refused with 503 while the database was down).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::{
    Error,
    github::{Github, HookDelivery},
    repo::{effect_attempts, webhook_deliveries},
};

/// An event asked to be redelivered is not asked again before this (GitHub redelivers
/// asynchronously, and a sweep may run again before the redelivery is listed).
const ASK_AGAIN_AFTER: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

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
        // GitHub redelivers asynchronously: one asked for recently may not be listed yet.
        let key = format!("redeliver:{guid}");
        if effect_attempts::find(pool, &key)
            .await?
            .is_some_and(|asked| Utc::now() - asked.started_at < ASK_AGAIN_AFTER)
        {
            continue;
        }
        effect_attempts::replace(pool, &key, &serde_json::json!({ "delivery": attempt.id }))
            .await?;
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
