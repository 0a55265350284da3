//! `redeliver_webhooks`: the periodic sweep asking GitHub to redeliver the App's deliveries that
//! got no 2xx and are not stored (`webhooks::sweep`); one per scheduler tick across all workers.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Job, Queue};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RedeliverWebhooks {}

impl Job for RedeliverWebhooks {
    const QUEUE: Queue = Queue {
        name: "redeliver_webhooks",
        max_attempts: 3,
        timeout: Duration::from_secs(300),
        batch_size: 1,
        concurrency: Some(1),
    };
}
