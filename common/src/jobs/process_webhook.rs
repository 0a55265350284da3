//! `process_webhook`: routes one stored delivery to what it means for RepoPal.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Job, Queue};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProcessWebhook {
    pub delivery_id: Uuid,
}

impl Job for ProcessWebhook {
    const QUEUE: Queue = Queue::PROCESS_WEBHOOK;
}
