//! `probe`: a diagnostic job that exercises the worker pool end to end. It records every start and
//! its single completion in `probe_runs`, and can be told to be slow, fail, panic or hang, so tests
//! and operators can check retries, timeouts and crash recovery on real processes.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Job, Queue};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Probe {
    /// The `probe_runs` row this job counts into.
    pub key: String,
    /// Sleep this long before finishing.
    #[serde(default)]
    pub sleep_ms: u64,
    #[serde(default)]
    pub behaviour: ProbeBehaviour,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeBehaviour {
    /// Complete (exactly once, even when run again).
    #[default]
    Succeed,
    /// Return a retryable error.
    Fail,
    /// Return a permanent error: no retry.
    FailPermanently,
    /// Panic.
    Panic,
    /// Never finish (until the queue's timeout cancels it).
    Hang,
}

impl Job for Probe {
    const QUEUE: Queue = Queue {
        name: "probe",
        max_attempts: 3,
        timeout: Duration::from_secs(120),
        batch_size: 1,
        concurrency: None,
    };
}
