//! `process_webhook`: routes one stored delivery to what it means for RepoPal.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Job, Queue};
use crate::domain::{DeliveryId, OrgId};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProcessWebhook {
    pub delivery_id: DeliveryId,
    /// The organisation the delivery was credited to when stored (`None`: none yet); the job
    /// reads only a delivery that organisation holds. Jobs enqueued before this field existed
    /// lack it, which reads as `None`.
    #[serde(default)]
    pub owner: Option<OrgId>,
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
