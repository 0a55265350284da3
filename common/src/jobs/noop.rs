//! `noop`: does nothing; the benchmark uses it to measure the queue itself.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Job, Queue};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Noop {
    /// Unix time in microseconds when the job was enqueued, for latency measurement.
    #[serde(default)]
    pub enqueued_at_us: i64,
}

impl Job for Noop {
    const QUEUE: Queue = Queue {
        name: "noop",
        max_attempts: 3,
        timeout: Duration::from_secs(10),
        batch_size: 1000,
        concurrency: Some(1000),
    };
}
