//! `noop`: does nothing; the benchmark uses it to measure the queue itself.

use serde::{Deserialize, Serialize};

use super::{Job, Queue};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Noop {
    /// Unix time in microseconds when the job was enqueued, for latency measurement.
    #[serde(default)]
    pub enqueued_at_us: i64,
}

impl Job for Noop {
    const QUEUE: Queue = Queue::NOOP;
}
