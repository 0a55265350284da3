//! A queue's shape: its permanent name and its run policy. Each job type declares its own queue in
//! its `impl Job` (see `jobs::for_each_job!`); names are permanent (rows in `apalis.jobs` refer to them).

use std::time::Duration;

/// One queue and how its jobs are run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Queue {
    /// Permanent name stored in `apalis.jobs.job_type`. Never rename a queue with jobs in it.
    pub name: &'static str,
    /// Runs before a job is dead (the first run counts).
    pub max_attempts: u32,
    /// A run longer than this is cancelled and counts as a failed attempt.
    pub timeout: Duration,
    /// Jobs fetched per round trip. Slow queues keep 1 so a fetched job never waits behind a long
    /// one while its worker's heartbeat is starved (see notes/apalis-postgres-1.0.md §3.7).
    pub batch_size: usize,
    /// Jobs run at once per process; `None` means `WORKER_CONCURRENCY`.
    pub concurrency: Option<usize>,
}

/// Names the config tests use; every other queue is reached through its job type (`J::QUEUE`).
impl Queue {
    pub const NOOP: Queue = <super::Noop as super::Job>::QUEUE;
    pub const PROBE: Queue = <super::Probe as super::Job>::QUEUE;
    pub const PRUNE_JOBS: Queue = <super::PruneJobs as super::Job>::QUEUE;
}
