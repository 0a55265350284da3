//! Settings only the worker processes need, with per-queue overrides.

use std::{collections::HashMap, time::Duration};

use super::ProcessEnv;
use super::{ConfigError, Source, parse::*};

/// Settings only the worker processes need.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Default number of jobs one process runs at once per queue.
    pub concurrency: usize,
    /// How often a worker proves it is alive.
    pub heartbeat: Duration,
    /// Missed heartbeats after which another worker re-runs a dead worker's jobs.
    pub missed_heartbeats: usize,
    /// Polling interval for delayed and retried jobs (immediate ones arrive by LISTEN/NOTIFY).
    pub poll_interval: Duration,
    /// First retry delay; doubles per attempt, with jitter, up to `retry_max`.
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// How long SIGTERM waits for running jobs before giving up on them.
    pub shutdown_timeout: Duration,
    /// Period of the scheduler tick that enqueues periodic jobs.
    pub scheduler_tick: Duration,
    /// Connections of the pool that fetches, acknowledges and heartbeats for every queue of the
    /// process (`WORKER_QUEUE_CONNECTIONS`). They come out of `DATABASE_MAX_CONNECTIONS`: handlers
    /// get the rest, so a worker holds at most `DATABASE_MAX_CONNECTIONS` + 1 (its one `LISTEN`).
    pub queue_connections: u32,
    /// How far back the redelivery sweep looks at the App's deliveries
    /// (`WEBHOOK_REDELIVERY_WINDOW_HOURS`, 1 to 72: GitHub redelivers only the last 3 days).
    pub redelivery_window: Duration,
    /// How long each class of history is kept (`RETENTION_*`).
    pub retention: super::RetentionConfig,
    /// Per-queue overrides from `JOB_TIMEOUT_SECS_<QUEUE>`, `JOB_BATCH_SIZE_<QUEUE>` and
    /// `JOB_CONCURRENCY_<QUEUE>` (queue name upper-cased, e.g. `JOB_TIMEOUT_SECS_PROBE`).
    pub queue_overrides: HashMap<String, QueueOverride>,
}

/// Operator overrides of one queue's built-in limits.
#[derive(Debug, Clone, Default)]
pub struct QueueOverride {
    pub timeout: Option<Duration>,
    pub batch_size: Option<usize>,
    pub concurrency: Option<usize>,
    /// Parallel claim streams of the queue in one process (`JOB_FETCHERS_<QUEUE>`, default 1).
    pub fetchers: Option<usize>,
}

impl WorkerConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&ProcessEnv)
    }

    pub fn from_source(env: &dyn Source) -> Result<Self, ConfigError> {
        let mut queue_overrides = HashMap::new();
        for queue in crate::jobs::ALL_QUEUES.iter().map(|q| q.name) {
            let o = QueueOverride {
                timeout: optional(
                    env,
                    queue_var("JOB_TIMEOUT_SECS", queue),
                    parse_positive_secs,
                )?,
                batch_size: optional(env, queue_var("JOB_BATCH_SIZE", queue), parse_positive)?,
                concurrency: optional(env, queue_var("JOB_CONCURRENCY", queue), parse_positive)?,
                fetchers: optional(env, queue_var("JOB_FETCHERS", queue), parse_positive)?,
            };
            queue_overrides.insert(queue.to_owned(), o);
        }
        let concurrency = or_default(env, "WORKER_CONCURRENCY", 8, parse_usize)?;
        if concurrency == 0 {
            return Err(ConfigError::Malformed {
                name: "WORKER_CONCURRENCY",
                reason: "must be at least 1".into(),
            });
        }
        Self {
            concurrency,
            heartbeat: or_default(
                env,
                "WORKER_HEARTBEAT_SECS",
                Duration::from_secs(5),
                parse_positive_secs,
            )?,
            missed_heartbeats: or_default(env, "WORKER_MISSED_HEARTBEATS", 6, parse_positive)?,
            poll_interval: or_default(
                env,
                "WORKER_POLL_INTERVAL_MS",
                Duration::from_millis(500),
                parse_positive_millis,
            )?,
            retry_base: or_default(
                env,
                "JOB_RETRY_BASE_MS",
                Duration::from_secs(2),
                parse_positive_millis,
            )?,
            retry_max: or_default(
                env,
                "JOB_RETRY_MAX_SECS",
                Duration::from_secs(600),
                parse_positive_secs,
            )?,
            shutdown_timeout: or_default(
                env,
                "WORKER_SHUTDOWN_TIMEOUT_SECS",
                Duration::from_secs(20),
                parse_secs,
            )?,
            scheduler_tick: or_default(
                env,
                "SCHEDULER_TICK_SECS",
                Duration::from_secs(60),
                parse_positive_secs,
            )?,
            queue_connections: or_default(env, "WORKER_QUEUE_CONNECTIONS", 4, parse_u32)?,
            redelivery_window: or_default(
                env,
                "WEBHOOK_REDELIVERY_WINDOW_HOURS",
                Duration::from_secs(24 * 3600),
                |v| match parse_positive(v)? {
                    h @ 1..=72 => Ok(Duration::from_secs(h as u64 * 3600)),
                    _ => Err(format!("`{v}` is not between 1 and 72 hours")),
                },
            )?,
            retention: super::RetentionConfig::from_source(env)?,
            queue_overrides,
        }
        .validated()
    }

    /// Cross-field rules: a draining worker sends no heartbeats, so the shutdown timeout must end
    /// before other workers would consider it dead and start its jobs a second time.
    fn validated(self) -> Result<Self, ConfigError> {
        if self.queue_connections == 0 {
            return Err(ConfigError::Malformed {
                name: "WORKER_QUEUE_CONNECTIONS",
                reason: "must be at least 1".into(),
            });
        }
        if self.shutdown_timeout + self.heartbeat > self.orphan_after() {
            return Err(ConfigError::Malformed {
                name: "WORKER_SHUTDOWN_TIMEOUT_SECS",
                reason: format!(
                    "must be at most WORKER_HEARTBEAT_SECS x (WORKER_MISSED_HEARTBEATS - 1) = {}s",
                    (self.orphan_after() - self.heartbeat).as_secs()
                ),
            });
        }
        Ok(self)
    }

    /// The limits one queue runs with: the operator's overrides over the queue's built-in values.
    pub fn effective(&self, queue: crate::jobs::Queue) -> crate::jobs::Queue {
        let o = self
            .queue_overrides
            .get(queue.name)
            .cloned()
            .unwrap_or_default();
        crate::jobs::Queue {
            timeout: o.timeout.unwrap_or(queue.timeout),
            batch_size: o.batch_size.unwrap_or(queue.batch_size),
            concurrency: Some(
                o.concurrency
                    .or(queue.concurrency)
                    .unwrap_or(self.concurrency),
            ),
            ..queue
        }
    }

    /// The handlers' pool size when the whole process may use `database_max` pooled connections:
    /// what the queue pool leaves. Fails when nothing is left.
    pub fn handler_connections(&self, database_max: u32) -> Result<u32, ConfigError> {
        match database_max.checked_sub(self.queue_connections) {
            Some(n) if n >= 1 => Ok(n),
            _ => Err(ConfigError::Malformed {
                name: "DATABASE_MAX_CONNECTIONS",
                reason: format!(
                    "a worker needs more than WORKER_QUEUE_CONNECTIONS ({}) connections: the queue pool comes out of this budget",
                    self.queue_connections
                ),
            }),
        }
    }

    /// How many claim streams (apalis workers, each fetching and acknowledging on its own) run the
    /// queue in one process; the queue's concurrency is split between them. More than one lets an
    /// unbatched queue claim several jobs at once instead of one round trip after another.
    pub fn fetchers(&self, queue: crate::jobs::Queue) -> usize {
        let concurrency = self
            .effective(queue)
            .concurrency
            .unwrap_or(self.concurrency);
        self.queue_overrides
            .get(queue.name)
            .and_then(|o| o.fetchers)
            .unwrap_or(1)
            .clamp(1, concurrency.max(1))
    }

    /// How long a worker may be silent before its jobs are handed to another worker.
    pub fn orphan_after(&self) -> Duration {
        self.heartbeat * u32::try_from(self.missed_heartbeats).unwrap_or(u32::MAX)
    }
}

/// The variable overriding one setting of one queue, e.g. `JOB_TIMEOUT_SECS_PROBE`.
fn queue_var(prefix: &str, queue: &str) -> &'static str {
    // Queue names are a fixed, small set and this runs once at boot; leaking the names is fine.
    Box::leak(format!("{prefix}_{}", queue.to_ascii_uppercase()).into_boxed_str())
}
