//! `check_integration`: one health check of one integration, for one due time (each due time is
//! checked once across all workers); `check_due_integrations`: the scheduler tick's fan-out of
//! the checks that are due and have no job yet.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Job, Queue};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckIntegration {
    pub integration_id: Uuid,
    /// The `next_check_at` this check is for; a check whose time has moved on does nothing.
    pub due_at: DateTime<Utc>,
}

impl Job for CheckIntegration {
    const QUEUE: Queue = Queue::CHECK_INTEGRATION;
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckDueIntegrations {}

impl Job for CheckDueIntegrations {
    const QUEUE: Queue = Queue::CHECK_DUE_INTEGRATIONS;
}
