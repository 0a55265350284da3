//! Runs the registered queues over apalis's tables with RepoPal's own claim path (`claim.rs`:
//! one statement per claim, N claim streams per queue), batched acks (`acker.rs`) and heartbeat with
//! orphan recovery (`heartbeat.rs`). Each run has its own timeout and panic capture (so a job never
//! stays `Running`), retries back off exponentially with jitter by moving the job's `run_at`,
//! permanent errors stop at once, and database errors are retried, never fatal.

use std::{
    any::Any,
    future::Future,
    panic::AssertUnwindSafe,
    pin::Pin,
    sync::Arc,
    time::{Duration, Instant},
};

use common::{
    config::WorkerConfig,
    domain::JobStatus,
    jobs::{Job, JobId, Queue},
    repo::{
        self,
        job_claims::{Ack, Claimed},
    },
    services::Services,
};
use futures::FutureExt;
use rand::Rng;
use sqlx::PgPool;
use tokio::sync::watch;
use tracing::Instrument;

use crate::{
    acker::Acker,
    claim::{self, StreamSpec},
    context::JobContext,
    error::JobError,
    listener::SharedListener,
};

type BoxFuture = Pin<Box<dyn Future<Output = Result<(), JobError>> + Send>>;
type Handler = dyn Fn(serde_json::Value, JobContext) -> BoxFuture + Send + Sync;

/// A queue and the handler that runs its jobs.
pub struct Registration {
    pub queue: Queue,
    pub(crate) handler: Arc<Handler>,
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
pub(crate) struct Shared {
    pub(crate) services: Arc<Services>,
    /// A separate small pool for the queue machinery (fetch, ack, heartbeat), so busy handlers
    /// can never starve a heartbeat and get their worker declared dead.
    pub(crate) queue_pool: PgPool,
    pub(crate) config: Arc<WorkerConfig>,
    /// The process's one `LISTEN` connection, waking each queue when a job is inserted into it.
    pub(crate) listener: SharedListener,
    /// Every claim stream this process has registered, `(name, queue)`: for the heartbeat and the
    /// final hand-back at shutdown.
    pub(crate) streams: std::sync::Mutex<Vec<(String, String)>>,
    /// Jobs whose handler is executing right now (to tell interrupted jobs from finished ones
    /// whose result is not written yet).
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

/// How a run ended, as recorded.
enum Outcome {
    Done,
    /// Retryable failure (the job runs again while it has attempts left).
    Failed(String),
    /// Permanent failure: the job is dead at once.
    Killed(String),
}

/// Runs one claimed job and says how to record it.
pub(crate) async fn execute(
    job: Claimed,
    registration: &Registration,
    shared: &Arc<Shared>,
    worker: String,
) -> Ack {
    let attempt = job.attempts.saturating_add(1).max(1);
    let job_id = JobId(job.id);
    let outcome = match serde_json::from_slice::<serde_json::Value>(&job.job) {
        Ok(payload) => {
            run_job(
                payload,
                registration,
                shared,
                &job_id,
                u32::try_from(attempt).unwrap_or(1),
            )
            .await
        }
        Err(e) => {
            tracing::warn!(queue = registration.queue.name, job_id = %job_id, error = %e, "job payload is not JSON; it is dead");
            Outcome::Killed(JobError::permanent(format!("payload is not JSON: {e}")).to_string())
        }
    };
    // Error and panic text may quote anything, but jsonb refuses NUL: one such row would stall
    // every acknowledgement batched with it.
    let err = |e: String| serde_json::json!({ "Err": e.replace('\0', "") });
    let (status, result) = match outcome {
        Outcome::Done => (JobStatus::Done, serde_json::json!({ "Ok": null })),
        Outcome::Failed(e) => (JobStatus::Failed, err(e)),
        Outcome::Killed(e) => (JobStatus::Killed, err(e)),
    };
    Ack {
        id: job_id.0,
        worker,
        status,
        attempt,
        result,
    }
}

async fn run_job(
    mut payload: serde_json::Value,
    registration: &Registration,
    shared: &Arc<Shared>,
    job_id: &JobId,
    attempt: u32,
) -> Outcome {
    let queue = shared.config.effective(registration.queue);
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
    let shared: Arc<Shared> = shared.clone();
    let _in_flight = InFlight::enter(shared.clone(), job_id);
    async move {
        if attempt > queue.max_attempts {
            // Only re-runs after a crash or an interrupted shutdown get here (orphan recovery
            // re-queues those without checking attempts): a job that keeps killing its worker must
            // not loop forever.
            tracing::error!(max_attempts = queue.max_attempts, "job was interrupted on every attempt; it is dead");
            return Outcome::Killed(JobError::permanent("attempts exhausted by interrupted runs").to_string());
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
                Outcome::Done
            }
            Err(e @ JobError::Permanent(_)) => {
                tracing::warn!(elapsed_ms, error = %e, "job failed permanently; not retrying");
                Outcome::Killed(e.to_string())
            }
            Err(e) if attempt >= queue.max_attempts => {
                tracing::error!(elapsed_ms, error = %e, max_attempts = queue.max_attempts, "job failed; no attempts left, it is dead");
                Outcome::Failed(e.to_string())
            }
            Err(e) => {
                let delay = retry_delay(attempt, shared.config.retry_base, shared.config.retry_max, &mut rand::rng());
                tracing::warn!(elapsed_ms, error = %e, retry_in_ms = delay.as_millis(), "job failed; will retry");
                if let Err(defer) = repo::jobs::defer_retry(&shared.services.pool, job_id, delay).await {
                    tracing::warn!(error = %defer, "could not delay the retry; it will run at once");
                }
                Outcome::Failed(e.to_string())
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

/// A name unique to this process and claim stream (`{queue}@{host}:{pid}:{nonce}`, with `.f{n}`
/// for every claim stream after the first); the pid is the second `:`-field.
fn worker_name(queue: &str, fetcher: usize) -> String {
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
    format!("{queue}@{host}:{}:{nonce:08x}{stream}", std::process::id())
}

/// Runs every registered queue until `shutdown` flips to true, then drains: running jobs finish
/// (up to the shutdown timeout), their results are written, and interrupted ones go back to the
/// queue.
pub async fn run(
    services: Arc<Services>,
    config: WorkerConfig,
    registrations: Vec<Registration>,
    shutdown: watch::Receiver<bool>,
) {
    // Claims, acks and heartbeats of every queue share a few connections
    // (`WORKER_QUEUE_CONNECTIONS`), and new-job notifications for all queues arrive on one more:
    // the process holds at most handler pool + queue pool + 1.
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
        streams: std::sync::Mutex::new(Vec::new()),
        in_flight: std::sync::Mutex::new(std::collections::HashSet::new()),
    });
    let (acker, ack_writer) = Acker::start(shared.queue_pool.clone());
    let heartbeat = tokio::spawn(crate::heartbeat::run(shared.clone(), queues));
    let mut tasks = tokio::task::JoinSet::new();
    for registration in registrations {
        let registration = Arc::new(registration);
        let queue = shared.config.effective(registration.queue);
        let total = queue.concurrency.unwrap_or(shared.config.concurrency);
        let fetchers = shared.config.fetchers(registration.queue);
        for fetcher in 0..fetchers {
            // The queue's concurrency, split as evenly as possible between its claim streams.
            let concurrency = total / fetchers + usize::from(fetcher < total % fetchers);
            let name = worker_name(queue.name, fetcher);
            if let Ok(mut streams) = shared.streams.lock() {
                streams.push((name.clone(), queue.name.to_owned()));
            }
            let spec = StreamSpec {
                registration: registration.clone(),
                name,
                concurrency,
            };
            tasks.spawn(claim::run(
                spec,
                shared.clone(),
                acker.clone(),
                shutdown.clone(),
            ));
        }
    }
    drop(acker);
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
    // Every claim stream is gone, so the writer ends once the finished runs are written.
    if tokio::time::timeout(Duration::from_secs(5), ack_writer)
        .await
        .is_err()
    {
        tracing::warn!("finished jobs could not all be recorded; orphan recovery will re-run them");
    }
    heartbeat.abort();
    // Interrupted runs go back as a used attempt, so nothing waits for the orphan timeout.
    let names: Vec<String> = shared
        .streams
        .lock()
        .map(|n| n.iter().map(|(name, _)| name.clone()).collect())
        .unwrap_or_default();
    match repo::jobs::release_held(&shared.services.pool, &names, &interrupted).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(jobs = n, "returned held jobs to the queue"),
        Err(e) => {
            tracing::warn!(error = %e, "could not return held jobs; other workers will recover them")
        }
    }
}

#[cfg(test)]
#[path = "runner_tests.rs"]
mod tests;
