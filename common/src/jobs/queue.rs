//! The queues: names are permanent (rows in `apalis.jobs` refer to them), limits are per queue.

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

impl Queue {
    pub const NOOP: Queue = Queue {
        name: "noop",
        max_attempts: 3,
        timeout: Duration::from_secs(10),
        batch_size: 1000,
        concurrency: Some(1000),
    };
    pub const PROBE: Queue = Queue {
        name: "probe",
        max_attempts: 3,
        timeout: Duration::from_secs(120),
        batch_size: 1,
        concurrency: None,
    };
    pub const PRUNE_JOBS: Queue = Queue {
        name: "prune_jobs",
        max_attempts: 3,
        timeout: Duration::from_secs(300),
        batch_size: 1,
        concurrency: Some(1),
    };
    /// Webhook processing is database-only and fast: batched, like `noop`.
    pub const PROCESS_WEBHOOK: Queue = Queue {
        name: "process_webhook",
        max_attempts: 8,
        timeout: Duration::from_secs(60),
        batch_size: 50,
        concurrency: Some(50),
    };
    /// Talks to GitHub for minutes at a time: one per fetch.
    pub const SYNC_REPOSITORIES: Queue = Queue {
        name: "sync_repositories",
        max_attempts: 6,
        timeout: Duration::from_secs(900),
        batch_size: 1,
        concurrency: Some(4),
    };
    pub const SYNC_CONNECTION_REPOSITORIES: Queue = Queue {
        name: "sync_connection_repositories",
        max_attempts: 6,
        timeout: Duration::from_secs(900),
        batch_size: 1,
        concurrency: Some(2),
    };
    pub const REPOSITORY_WEBHOOK: Queue = Queue {
        name: "repository_webhook",
        max_attempts: 6,
        timeout: Duration::from_secs(120),
        batch_size: 1,
        concurrency: Some(4),
    };
    pub const REFRESH_OAUTH_TOKEN: Queue = Queue {
        name: "refresh_oauth_token",
        max_attempts: 6,
        timeout: Duration::from_secs(60),
        batch_size: 1,
        concurrency: None,
    };
    pub const REFRESH_DUE_TOKENS: Queue = Queue {
        name: "refresh_due_tokens",
        max_attempts: 3,
        timeout: Duration::from_secs(120),
        batch_size: 1,
        concurrency: Some(1),
    };
    pub const SEND_EMAIL: Queue = Queue {
        name: "send_email",
        max_attempts: 6,
        timeout: Duration::from_secs(60),
        batch_size: 1,
        concurrency: None,
    };
    /// Calls GitHub for a run's jobs and logs.
    pub const INCIDENT_CONTEXT: Queue = Queue {
        name: "incident_context",
        max_attempts: 6,
        timeout: Duration::from_secs(120),
        batch_size: 1,
        concurrency: Some(4),
    };
    /// One Slack message per job; a failed post is retried with backoff on its own.
    pub const NOTIFY_SLACK: Queue = Queue {
        name: "notify_slack",
        max_attempts: 8,
        timeout: Duration::from_secs(30),
        batch_size: 1,
        concurrency: Some(8),
    };
    pub const RERUN_WORKFLOW: Queue = Queue {
        name: "rerun_workflow",
        max_attempts: 6,
        timeout: Duration::from_secs(60),
        batch_size: 1,
        concurrency: Some(2),
    };
}

impl Queue {
    /// One integration health check (a few HTTP requests, retried inside within seconds).
    pub const CHECK_INTEGRATION: Queue = Queue {
        name: "check_integration",
        max_attempts: 10,
        timeout: Duration::from_secs(120),
        batch_size: 1,
        concurrency: Some(8),
    };
    /// Fans out the due checks (scheduler tick).
    pub const CHECK_DUE_INTEGRATIONS: Queue = Queue {
        name: "check_due_integrations",
        max_attempts: 3,
        timeout: Duration::from_secs(120),
        batch_size: 1,
        concurrency: Some(1),
    };
    /// Posts one integration health alert to the Slack alert channel.
    pub const NOTIFY_INTEGRATION_HEALTH: Queue = Queue {
        name: "notify_integration_health",
        max_attempts: 8,
        timeout: Duration::from_secs(30),
        batch_size: 1,
        concurrency: Some(4),
    };
    /// Refreshes one integration's rotating token (Slack).
    pub const REFRESH_INTEGRATION_TOKEN: Queue = Queue {
        name: "refresh_integration_token",
        max_attempts: 6,
        timeout: Duration::from_secs(60),
        batch_size: 1,
        concurrency: None,
    };
}

/// Every queue a worker process serves.
pub const ALL_QUEUES: &[Queue] = &[
    Queue::NOOP,
    Queue::PROBE,
    Queue::PRUNE_JOBS,
    Queue::SEND_EMAIL,
    Queue::PROCESS_WEBHOOK,
    Queue::SYNC_REPOSITORIES,
    Queue::REPOSITORY_WEBHOOK,
    Queue::REFRESH_OAUTH_TOKEN,
    Queue::REFRESH_DUE_TOKENS,
    Queue::SYNC_CONNECTION_REPOSITORIES,
    Queue::INCIDENT_CONTEXT,
    Queue::NOTIFY_SLACK,
    Queue::RERUN_WORKFLOW,
    Queue::CHECK_INTEGRATION,
    Queue::CHECK_DUE_INTEGRATIONS,
    Queue::REFRESH_INTEGRATION_TOKEN,
    Queue::NOTIFY_INTEGRATION_HEALTH,
];
