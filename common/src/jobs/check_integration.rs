//! `check_integration`: one health check of one integration, for one due time (each due time is
//! checked once across all workers); `check_due_integrations`: the scheduler tick's fan-out of
//! the checks that are due and have no job yet.

use std::time::Duration;

use crate::domain::IntegrationId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Job, Queue};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckIntegration {
    pub integration_id: IntegrationId,
    /// The `next_check_at` this check is for; a check whose time has moved on does nothing.
    pub due_at: DateTime<Utc>,
}

impl Job for CheckIntegration {
    /// One integration health check (a few HTTP requests, retried inside within seconds).
    const QUEUE: Queue = Queue {
        name: "check_integration",
        max_attempts: 10,
        timeout: Duration::from_secs(120),
        batch_size: 1,
        concurrency: Some(8),
    };
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckDueIntegrations {}

impl Job for CheckDueIntegrations {
    /// Fans out the due checks (scheduler tick).
    const QUEUE: Queue = Queue {
        name: "check_due_integrations",
        max_attempts: 3,
        timeout: Duration::from_secs(120),
        batch_size: 1,
        concurrency: Some(1),
    };
}
