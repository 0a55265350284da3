//! `prune_jobs`: the periodic clean-up of finished job rows and stale worker rows.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Job, Queue};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PruneJobs {}

impl Job for PruneJobs {
    const QUEUE: Queue = Queue {
        name: "prune_jobs",
        max_attempts: 3,
        timeout: Duration::from_secs(300),
        batch_size: 1,
        concurrency: Some(1),
    };
}
