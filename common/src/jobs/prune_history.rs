//! `prune_history`: the periodic pruning of old history by the `RETENTION_*` settings.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Job, Queue};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PruneHistory {}

impl Job for PruneHistory {
    const QUEUE: Queue = Queue {
        name: "prune_history",
        max_attempts: 3,
        timeout: Duration::from_secs(300),
        batch_size: 1,
        concurrency: Some(1),
    };
}
