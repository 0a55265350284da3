//! Runs the registered queues on apalis-postgres, with the guarantees apalis does not give alone:
//! each run has its own timeout and panic capture (so a job never stays `Running`), retries back
//! off exponentially with jitter by moving the job's `run_at`, permanent errors stop at once, and
//! each queue's worker is restarted with backoff after a database outage.

use std::{
    any::Any,
    future::Future,
    panic::AssertUnwindSafe,
    pin::Pin,
    sync::Arc,
    time::{Duration, Instant},
};

use apalis::prelude::*;
use apalis_postgres::{Config as QueueConfig, PostgresStorage};
use common::{
    config::WorkerConfig,
    jobs::{Job, JobId, Queue},
    repo,
    services::Services,
};
use futures::FutureExt;
use rand::Rng;
use sqlx::PgPool;
use tokio::sync::watch;
use tracing::Instrument;

use crate::{context::JobContext, error::JobError, listener::SharedListener};

type BoxFuture = Pin<Box<dyn Future<Output = Result<(), JobError>> + Send>>;
type Handler = dyn Fn(serde_json::Value, JobContext) -> BoxFuture + Send + Sync;

/// A queue and the handler that runs its jobs.
pub struct Registration {
    pub queue: Queue,
    handler: Arc<Handler>,
}

/// Binds a typed handler to its job's queue. A payload that does not decode is a permanent error
/// of that one job, never a crash of the worker.
pub fn handle<J, F, Fut>(f: F) -> Registration
where
    J: Job,
    F: Fn(J, JobContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), JobError>> + Send + 'static,
{
    let f = Arc::new(f);
    let handler = move |payload: serde_json::Value, ctx: JobContext| -> BoxFuture {
        let f = f.clone();
        Box::pin(async move {
            let job: J = serde_json::from_value(payload).map_err(|e| {
                JobError::permanent(format!("payload does not decode as {}: {e}", J::QUEUE.name))
            })?;
            f(job, ctx).await
        })
    };
    Registration {
        queue: J::QUEUE,
        handler: Arc::new(handler),
    }
}

/// Everything a run needs that is the same for every job of the process.
struct Shared {
    services: Arc<Services>,
    /// A separate small pool for the queue machinery (fetch, ack, heartbeat), so busy handlers
    /// can never starve a heartbeat and get their worker declared dead.
    queue_pool: PgPool,
    config: Arc<WorkerConfig>,
    /// The process's one `LISTEN` connection, waking each queue when a job is inserted into it.
    listener: SharedListener,
    /// Every worker name this process has registered, for the final hand-back at shutdown.
    names: std::sync::Mutex<Vec<String>>,
    /// Jobs whose handler is executing right now (to tell interrupted jobs from finished ones
    /// whose result apalis has not written yet).
    in_flight: std::sync::Mutex<std::collections::HashSet<String>>,
}

/// The delay before retry number `attempt` (1-based: the delay after the first failed run):
/// `base · 2^(attempt-1)` capped at `max`, then "equal jitter" (half fixed, half random).
pub fn retry_delay(attempt: u32, base: Duration, max: Duration, rng: &mut impl Rng) -> Duration {
    let exp = base
        .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
        .min(max);
    let half = exp / 2;
    let jitter_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
    half + Duration::from_millis(rng.random_range(0..=jitter_ms))
}

async fn execute(
    mut payload: serde_json::Value,
    registration: Data<Arc<Registration>>,
    shared: Data<Arc<Shared>>,
    attempt: Attempt,
    task_id: TaskId,
) -> Result<(), BoxDynError> {
    let queue = shared.config.effective(registration.queue);
    let job_id = JobId(task_id.to_string());
    let attempt = u32::try_from(attempt.current()).unwrap_or(u32::MAX).max(1);
    // The request the job was enqueued under, and the organisation when the payload names one
    // (handlers that find it out later record it themselves), so a request can be followed here.
    let request_id = common::jobs::take_request_id(&mut payload);
    let span = tracing::info_span!(
        "job",
        queue = queue.name,
        job_id = %job_id,
        attempt,
        request_id = tracing::field::Empty,
        org_id = tracing::field::Empty,
    );
    if let Some(id) = &request_id {
        span.record("request_id", id.as_str());
    }
    if let Some(org) = payload.get("org_id").and_then(serde_json::Value::as_str) {
        span.record("org_id", org);
    }
    let shared: Arc<Shared> = (*shared).clone();
    let _in_flight = InFlight::enter(shared.clone(), &job_id);
    async move {
        if attempt > queue.max_attempts {
            // Only re-runs after a crash or an interrupted shutdown get here (apalis re-queues those
            // without checking attempts): a job that keeps killing its worker must not loop forever.
            tracing::error!(max_attempts = queue.max_attempts, "job was interrupted on every attempt; it is dead");
            return Err(AbortError::new(JobError::permanent("attempts exhausted by interrupted runs")).into());
        }
        let ctx = JobContext {
            services: shared.services.clone(),
            config: shared.config.clone(),
            job_id: job_id.clone(),
            attempt,
        };
        let started = Instant::now();
        // Jobs the handler enqueues carry the same request id.
        let handler = (registration.handler)(payload, ctx);
        let run = AssertUnwindSafe(common::jobs::with_request_id(request_id, handler)).catch_unwind();
        let outcome = match tokio::time::timeout(queue.timeout, run).await {
            Ok(Ok(result)) => result,
            Ok(Err(panic)) => Err(JobError::retryable(format!("panicked: {}", panic_message(&panic)))),
            Err(_) => Err(JobError::retryable(format!("timed out after {}s", queue.timeout.as_secs_f64()))),
        };
        let elapsed_ms = started.elapsed().as_millis();
        match outcome {
            Ok(()) => {
                tracing::debug!(elapsed_ms, "job succeeded");
                Ok(())
            }
            Err(e @ JobError::Permanent(_)) => {
                tracing::warn!(elapsed_ms, error = %e, "job failed permanently; not retrying");
                Err(AbortError::new(e).into())
            }
            Err(e) if attempt >= queue.max_attempts => {
                tracing::error!(elapsed_ms, error = %e, max_attempts = queue.max_attempts, "job failed; no attempts left, it is dead");
                Err(e.into())
            }
            Err(e) => {
                let delay = retry_delay(attempt, shared.config.retry_base, shared.config.retry_max, &mut rand::rng());
                tracing::warn!(elapsed_ms, error = %e, retry_in_ms = delay.as_millis(), "job failed; will retry");
                if let Err(defer) = repo::jobs::defer_retry(&shared.services.pool, &job_id, delay).await {
                    tracing::warn!(error = %defer, "could not delay the retry; it will run at once");
                }
                Err(e.into())
            }
        }
    }
    .instrument(span)
    .await
}

/// Marks a job as executing in this process for as long as the guard lives.
struct InFlight {
    shared: Arc<Shared>,
    id: String,
}

impl InFlight {
    fn enter(shared: Arc<Shared>, id: &JobId) -> Self {
        if let Ok(mut set) = shared.in_flight.lock() {
            set.insert(id.0.clone());
        }
        Self {
            shared,
            id: id.0.clone(),
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Ok(mut set) = self.shared.in_flight.lock() {
            set.remove(&self.id);
        }
    }
}

fn panic_message(panic: &Box<dyn Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic payload".to_owned())
}

/// A name unique to this process, claim stream and run, as apalis requires
/// (`{queue}@{host}:{pid}:{nonce}.r{restarts}`, with `.f{n}` before the restart count for every claim
/// stream after the first).
fn worker_name(queue: &str, fetcher: usize, restarts: usize) -> String {
    static NONCE: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    let nonce = NONCE.get_or_init(|| rand::rng().random());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "host".to_owned());
    let stream = if fetcher == 0 {
        String::new()
    } else {
        format!(".f{fetcher}")
    };
    format!(
        "{queue}@{host}:{}:{nonce:08x}{stream}.r{restarts}",
        std::process::id()
    )
}

/// Runs one queue's worker until shutdown, restarting it (with backoff) whenever it dies, e.g.
/// because the database went away.
async fn supervise(
    registration: Arc<Registration>,
    shared: Arc<Shared>,
    fetcher: usize,
    concurrency: usize,
    mut shutdown: watch::Receiver<bool>,
) {
    let cfg = shared.config.clone();
    let queue = cfg.effective(registration.queue);
    let mut restarts = 0usize;
    let mut delay = Duration::from_millis(250);
    loop {
        if *shutdown.borrow() {
            return;
        }
        let storage = PostgresStorage::<serde_json::Value>::new(&shared.queue_pool)
            .with_config(
                QueueConfig::default()
                    .queue(queue.name)
                    .batch_size(queue.batch_size)
                    .heartbeat_interval(cfg.heartbeat)
                    .missed_heartbeats(cfg.missed_heartbeats),
            )
            .poll_with_stream(shared.listener.wakeups(queue.name))
            .poll_with_interval(cfg.poll_interval);
        let name = worker_name(queue.name, fetcher, restarts);
        if let Ok(mut names) = shared.names.lock() {
            names.push(name.clone());
        }
        let worker = WorkerBuilder::new(name.clone())
            .backend(storage)
            .data(registration.clone())
            .data(shared.clone())
            .concurrency(concurrency)
            .build(execute);
        let mut stop = shutdown.clone();
        let signal = async move {
            let _ = stop.wait_for(|s| *s).await;
            Ok::<(), std::io::Error>(())
        };
        let started = Instant::now();
        tracing::info!(queue = queue.name, worker = %name, concurrency, "worker starting");
        match worker.run_until(signal).await {
            Ok(()) if *shutdown.borrow() => {
                tracing::info!(queue = queue.name, worker = %name, "worker drained and stopped");
                return;
            }
            Ok(()) => {
                tracing::warn!(queue = queue.name, worker = %name, "worker stopped unexpectedly; restarting")
            }
            Err(e) => {
                tracing::error!(queue = queue.name, worker = %name, error = %e, "worker died; restarting")
            }
        }
        if started.elapsed() > Duration::from_secs(30) {
            delay = Duration::from_millis(250);
        }
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
        delay = (delay * 2).min(Duration::from_secs(5));
        restarts += 1;
    }
}

/// Runs every registered queue until `shutdown` flips to true, then drains: running jobs finish
/// (up to the shutdown timeout) and fetched-but-unstarted jobs go back to the queue.
pub async fn run(
    services: Arc<Services>,
    config: WorkerConfig,
    registrations: Vec<Registration>,
    shutdown: watch::Receiver<bool>,
) {
    // Fetch, ack and heartbeat of every queue share a few connections (`WORKER_QUEUE_CONNECTIONS`),
    // and new-job notifications for all queues arrive on one more: the process holds at most
    // handler pool + queue pool + 1.
    let options = (*services.pool.connect_options()).clone();
    let queue_pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(config.queue_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy_with(options.clone());
    let queues: Vec<&'static str> = registrations.iter().map(|r| r.queue.name).collect();
    let listener = SharedListener::start(options, &queues, shutdown.clone());
    let shared = Arc::new(Shared {
        services,
        queue_pool,
        listener,
        config: Arc::new(config),
        names: std::sync::Mutex::new(Vec::new()),
        in_flight: std::sync::Mutex::new(std::collections::HashSet::new()),
    });
    let mut tasks = tokio::task::JoinSet::new();
    for registration in registrations {
        let registration = Arc::new(registration);
        let queue = shared.config.effective(registration.queue);
        let total = queue.concurrency.unwrap_or(shared.config.concurrency);
        let fetchers = shared.config.fetchers(registration.queue);
        for fetcher in 0..fetchers {
            // The queue's concurrency, split as evenly as possible between its claim streams.
            let concurrency = total / fetchers + usize::from(fetcher < total % fetchers);
            tasks.spawn(supervise(
                registration.clone(),
                shared.clone(),
                fetcher,
                concurrency,
                shutdown.clone(),
            ));
        }
    }
    let mut stop = shutdown.clone();
    let _ = stop.wait_for(|s| *s).await;
    let drain = async { while tasks.join_next().await.is_some() {} };
    let drained = tokio::time::timeout(shared.config.shutdown_timeout, drain)
        .await
        .is_ok();
    let interrupted: Vec<String> = if drained {
        Vec::new()
    } else {
        // Stop the handlers first, so a released job is not still running here.
        let interrupted = shared
            .in_flight
            .lock()
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default();
        tasks.shutdown().await;
        tracing::warn!(
            timeout_secs = shared.config.shutdown_timeout.as_secs(),
            jobs = ?interrupted,
            "jobs still running at the shutdown timeout were interrupted; handing them back to the queue"
        );
        interrupted
    };
    // apalis returns fetched-but-unstarted jobs itself, except one fetched in the instant the
    // stop arrived; hand back whatever this process still holds so nothing waits for the orphan
    // timeout. Jobs that finished but whose result was not written stay for orphan recovery (their
    // effects are idempotent); only interrupted ones are released as a used attempt.
    let names = shared.names.lock().map(|n| n.clone()).unwrap_or_default();
    match repo::jobs::release_held(&shared.services.pool, &names, &interrupted).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(jobs = n, "returned held jobs to the queue"),
        Err(e) => {
            tracing::warn!(error = %e, "could not return held jobs; other workers will recover them")
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::{SeedableRng, rngs::StdRng};

    use super::*;

    #[test]
    fn retry_delay_grows_exponentially_with_bounded_jitter() {
        let mut rng = StdRng::seed_from_u64(7);
        let base = Duration::from_secs(2);
        let max = Duration::from_secs(60);
        for attempt in 1..=8u32 {
            let exp = (base * 2u32.pow(attempt - 1)).min(max);
            for _ in 0..50 {
                let d = retry_delay(attempt, base, max, &mut rng);
                assert!(
                    d >= exp / 2 && d <= exp,
                    "attempt {attempt}: {d:?} outside [{:?}, {exp:?}]",
                    exp / 2
                );
            }
        }
        assert!(retry_delay(40, base, max, &mut rng) <= max);
    }
}
