//! In-process workers and queue draining: tests run jobs by draining the queue, never by sleeping
//! for a guessed time.

use std::{
    collections::{BTreeSet, HashMap},
    sync::{Mutex, MutexGuard},
    time::Duration,
};

use common::{config::WorkerConfig, repo::jobs::JobRow};
use sqlx::PgPool;
use tokio::{sync::watch, task::JoinHandle};

/// Worker settings tuned for tests: fast polling, short backoff, quick orphan detection.
pub fn test_worker_config(overrides: &[(&str, &str)]) -> WorkerConfig {
    let mut env: HashMap<String, String> = [
        ("WORKER_HEARTBEAT_SECS", "1"),
        ("WORKER_MISSED_HEARTBEATS", "3"),
        ("WORKER_POLL_INTERVAL_MS", "50"),
        ("JOB_RETRY_BASE_MS", "20"),
        ("JOB_RETRY_MAX_SECS", "1"),
        ("WORKER_SHUTDOWN_TIMEOUT_SECS", "2"),
        ("SCHEDULER_TICK_SECS", "3600"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    for (k, v) in overrides {
        env.insert((*k).to_owned(), (*v).to_owned());
    }
    WorkerConfig::from_source(&env).expect("test worker config")
}

/// A worker (all queues and the scheduler) running inside the test process.
pub struct InProcessWorker {
    stop: watch::Sender<bool>,
    handle: JoinHandle<()>,
}

impl InProcessWorker {
    pub fn start(pool: PgPool, config: WorkerConfig) -> Self {
        Self::start_with(pool, config, &[])
    }

    /// A worker whose shared configuration has `extra` on top of the test defaults (e.g. a fake
    /// GitHub's URLs, `SMTP_URL`).
    pub fn start_with(pool: PgPool, config: WorkerConfig, extra: &[(&str, &str)]) -> Self {
        let mut env = crate::http::test_env("postgres://in-process-worker/unused");
        for (k, v) in extra {
            env.insert((*k).to_owned(), (*v).to_owned());
        }
        let app = common::config::Config::from_source(&env).expect("worker test config");
        let (stop, rx) = watch::channel(false);
        let handle = tokio::spawn(async move {
            repopal_worker::run(pool, config, &app, rx)
                .await
                .expect("worker runs");
        });
        Self { stop, handle }
    }

    /// Graceful stop: drains, like SIGTERM.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(30), self.handle).await;
    }
}

/// Dead jobs a test already accepted through [`drain_expecting_dead`], so a later [`drain`] of the
/// same queues does not fail on them again. Job ids are unique across test databases.
static ACCEPTED_DEAD: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// Waits until no job in `queues` is pending, running or waiting to retry. Panics after `limit`,
/// and panics when a job of `queues` is dead at the end (`Killed`, or `Failed` with no attempts
/// left) that no earlier [`drain_expecting_dead`] accepted: a job dying is a failure unless the
/// test says it expects one.
pub async fn drain(pool: &PgPool, queues: &[&str], limit: Duration) {
    let dead = drain_and_collect_dead(pool, queues, limit).await;
    assert!(
        dead.is_empty(),
        "{} job(s) went dead while draining {queues:?} (a test that means this uses \
         drain_expecting_dead): {}",
        dead.len(),
        describe(&dead)
    );
}

/// Like [`drain`], for a test that expects jobs to die: returns the newly dead jobs of `queues`
/// (oldest first) for the test to assert on, and panics when none died.
pub async fn drain_expecting_dead(pool: &PgPool, queues: &[&str], limit: Duration) -> Vec<JobRow> {
    let dead = drain_allowing_dead(pool, queues, limit).await;
    assert!(
        !dead.is_empty(),
        "expected a dead job while draining {queues:?}, none died"
    );
    dead
}

/// Like [`drain_expecting_dead`], for a test where whether a job dies depends on timing it does
/// not control (e.g. a health check marking an integration before a post is tried): returns the
/// newly dead jobs, possibly none, for the test to assert on.
pub async fn drain_allowing_dead(pool: &PgPool, queues: &[&str], limit: Duration) -> Vec<JobRow> {
    let dead = drain_and_collect_dead(pool, queues, limit).await;
    accepted_dead().extend(dead.iter().map(|j| j.id.0.clone()));
    dead
}

/// Waits for `queues` to have nothing unfinished, then returns their dead jobs not yet accepted.
async fn drain_and_collect_dead(pool: &PgPool, queues: &[&str], limit: Duration) -> Vec<JobRow> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let left = common::repo::jobs::unfinished(pool, queues)
            .await
            .expect("count unfinished jobs");
        if left == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{left} job(s) in {queues:?} still unfinished after {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let dead = common::repo::jobs::dead_in(pool, queues)
        .await
        .expect("list dead jobs");
    let accepted = accepted_dead();
    dead.into_iter()
        .filter(|j| !accepted.contains(&j.id.0))
        .collect()
}

fn accepted_dead() -> MutexGuard<'static, BTreeSet<String>> {
    // A panicking test cannot leave the set half-updated, so a poisoned lock is still usable.
    ACCEPTED_DEAD.lock().unwrap_or_else(|e| e.into_inner())
}

fn describe(jobs: &[JobRow]) -> String {
    jobs.iter()
        .map(|j| {
            format!(
                "{} {} {} after {}/{} attempts, last result {}",
                j.queue,
                j.id,
                j.status,
                j.attempts,
                j.max_attempts,
                j.last_result
                    .as_ref()
                    .map_or_else(|| "none".to_owned(), ToString::to_string)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Polls `check` until it returns `Some`, panicking with `what` after `limit`.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
