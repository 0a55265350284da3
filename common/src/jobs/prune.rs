//! `prune_jobs`: the periodic clean-up of finished job rows and stale worker rows.

use serde::{Deserialize, Serialize};

use super::{Job, Queue};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PruneJobs {}

impl Job for PruneJobs {
    const QUEUE: Queue = Queue::PRUNE_JOBS;
}
