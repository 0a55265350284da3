//! `sync_integration`: one sync of one integration (Argo CD: its applications), for one due time
//! or on request; `sync_due_integrations`: the scheduler tick's fan-out of the syncs that are due.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Job, Queue};
use crate::domain::IntegrationId;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SyncIntegration {
    pub integration_id: IntegrationId,
    /// The `next_sync_at` this scheduled sync is for (a sync whose time has moved on does
    /// nothing); `None` for a sync someone asked for, which runs whatever the schedule.
    #[serde(default)]
    pub due_at: Option<DateTime<Utc>>,
}

impl Job for SyncIntegration {
    /// One listing of the server's applications and the incidents it decides.
    const QUEUE: Queue = Queue {
        name: "sync_integration",
        max_attempts: 5,
        timeout: Duration::from_secs(120),
        batch_size: 1,
        concurrency: Some(4),
    };
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SyncDueIntegrations {}

impl Job for SyncDueIntegrations {
    /// Fans out the due syncs (scheduler tick).
    const QUEUE: Queue = Queue {
        name: "sync_due_integrations",
        max_attempts: 3,
        timeout: Duration::from_secs(120),
        batch_size: 1,
        concurrency: Some(1),
    };
}
