//! `process_webhook`: routes one stored delivery to what it means for RepoPal.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Job, Queue};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProcessWebhook {
    pub delivery_id: Uuid,
}

impl Job for ProcessWebhook {
    /// Webhook processing is database-only and fast: batched, like `noop`.
    const QUEUE: Queue = Queue {
        name: "process_webhook",
        max_attempts: 8,
        timeout: Duration::from_secs(60),
        batch_size: 50,
        concurrency: Some(50),
    };
}
