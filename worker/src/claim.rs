//! One claim stream of a queue: it registers as its own worker, then claims due jobs in one
//! statement that marks them `Running` and starts each as a run slot frees. It holds at most
//! max(batch size, concurrency) jobs: with a batch no larger than the concurrency it claims as soon
//! as a slot frees; with a larger batch (a local prefetch buffer) it claims again once half the
//! batch has drained. With nothing due it waits for the queue's insert notification or the poll
//! interval. Database errors are retried with backoff; the stream never dies of them. At shutdown
//! the jobs it holds but has not started go back to the queue unchanged.

use std::{sync::Arc, time::Duration};

use common::repo::job_claims;
use tokio::{
    sync::{Semaphore, watch},
    task::JoinSet,
};

use crate::{
    acker::Acker,
    runner::{Registration, Shared, execute},
};

/// How one stream runs.
pub(crate) struct StreamSpec {
    pub registration: Arc<Registration>,
    pub name: String,
    /// Jobs run at once by this stream.
    pub concurrency: usize,
}

/// Runs the stream until `shutdown`, then waits for its running jobs to finish.
pub(crate) async fn run(
    spec: StreamSpec,
    shared: Arc<Shared>,
    acker: Acker,
    mut shutdown: watch::Receiver<bool>,
) {
    let queue = shared.config.effective(spec.registration.queue);
    let pool = shared.queue_pool.clone();
    let mut delay = Duration::from_millis(250);
    // A job's `lock_by` refers to the worker row, so it must exist before the first claim.
    loop {
        match job_claims::register(&pool, &[(spec.name.clone(), queue.name.to_owned())]).await {
            Ok(()) => break,
            Err(e) => {
                tracing::warn!(queue = queue.name, worker = %spec.name, error = %e, "cannot register; claim stream retrying with backoff");
                if pause(&mut shutdown, &mut delay).await {
                    return;
                }
            }
        }
    }
    tracing::info!(queue = queue.name, worker = %spec.name, concurrency = spec.concurrency, "claim stream starting");
    let concurrency = spec.concurrency.max(1);
    let batch = queue.batch_size.max(1);
    let slots = Arc::new(Semaphore::new(concurrency));
    let held = Arc::new(Semaphore::new(batch.max(concurrency)));
    let low_water = u32::try_from(if batch > concurrency { batch / 2 } else { 1 }).unwrap_or(1);
    let mut wake = shared.listener.subscribe(queue.name);
    // Each task yields the id of a job it gave back unstarted (shutdown), else `None`.
    let mut running: JoinSet<Option<String>> = JoinSet::new();
    // Where the time goes, logged when the stream stops (`make bench` reads it).
    let (mut claims, mut claimed, mut claim_time) = (0u64, 0u64, Duration::ZERO);
    loop {
        while running.try_join_next().is_some() {}
        let first = tokio::select! {
            p = held.clone().acquire_many_owned(low_water) => p,
            _ = shutdown.wait_for(|s| *s) => break,
        };
        let Ok(mut permit) = first else { break };
        let extra = held
            .available_permits()
            .min(batch.saturating_sub(permit.num_permits()));
        if extra > 0
            && let Ok(more) = held
                .clone()
                .try_acquire_many_owned(u32::try_from(extra).unwrap_or(0))
        {
            permit.merge(more);
        }
        // Any insert from now on wakes the wait below, so none is missed between claim and wait.
        if let Some(w) = wake.as_mut() {
            w.borrow_and_update();
        }
        let limit = i64::try_from(permit.num_permits()).unwrap_or(1);
        let began = std::time::Instant::now();
        let result = job_claims::claim(&pool, queue.name, &spec.name, limit).await;
        claim_time += began.elapsed();
        match result {
            Ok(jobs) => {
                claims += 1;
                claimed += jobs.len() as u64;
                delay = Duration::from_millis(250);
                let idle = jobs.is_empty();
                for job in jobs {
                    let Some(hold) = permit.split(1) else { break };
                    let (registration, shared, acker, name, slots) = (
                        spec.registration.clone(),
                        shared.clone(),
                        acker.clone(),
                        spec.name.clone(),
                        slots.clone(),
                    );
                    let mut stop = shutdown.clone();
                    running.spawn(async move {
                        let slot = tokio::select! {
                            biased;
                            _ = stop.wait_for(|s| *s) => None,
                            s = slots.acquire_owned() => s.ok(),
                        };
                        let Some(slot) = slot else {
                            return Some(job.id);
                        };
                        let ack = execute(job, &registration, &shared, name).await;
                        acker.ack(ack);
                        drop((slot, hold));
                        None
                    });
                }
                drop(permit);
                if idle {
                    let woken = async {
                        match wake.as_mut() {
                            Some(w) => {
                                if w.changed().await.is_err() {
                                    std::future::pending::<()>().await;
                                }
                            }
                            None => std::future::pending::<()>().await,
                        }
                    };
                    tokio::select! {
                        () = woken => {}
                        () = tokio::time::sleep(shared.config.poll_interval) => {}
                        _ = shutdown.wait_for(|s| *s) => break,
                    }
                }
            }
            Err(e) => {
                drop(permit);
                tracing::warn!(queue = queue.name, worker = %spec.name, error = %e, retry_in_ms = delay.as_millis(), "claim failed; claim stream retrying with backoff");
                if pause(&mut shutdown, &mut delay).await {
                    break;
                }
            }
        }
    }
    // Unstarted jobs come back at once; hand them back while the running ones finish.
    let mut unstarted = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_millis(20), running.join_next()).await {
            Ok(Some(Ok(Some(id)))) => unstarted.push(id),
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(_) => give_back(&pool, &spec.name, &mut unstarted).await,
        }
    }
    give_back(&pool, &spec.name, &mut unstarted).await;
    tracing::info!(
        queue = queue.name,
        worker = %spec.name,
        claims,
        claimed,
        claim_ms = claim_time.as_secs_f64() * 1e3,
        "claim stream drained and stopped"
    );
}

/// Returns claimed-but-unstarted jobs to the queue (a failure leaves them to orphan recovery).
async fn give_back(pool: &sqlx::PgPool, worker: &str, ids: &mut Vec<String>) {
    if ids.is_empty() {
        return;
    }
    match job_claims::release(pool, worker, ids).await {
        Ok(n) => tracing::info!(jobs = n, worker, "returned unstarted jobs to the queue"),
        Err(e) => {
            tracing::warn!(error = %e, worker, "could not return unstarted jobs; orphan recovery will")
        }
    }
    ids.clear();
}

/// Sleeps `delay` (then doubles it, up to 5 s); true when shutdown came first.
async fn pause(shutdown: &mut watch::Receiver<bool>, delay: &mut Duration) -> bool {
    let stop = tokio::select! {
        () = tokio::time::sleep(*delay) => false,
        _ = shutdown.wait_for(|s| *s) => true,
    };
    *delay = (*delay * 2).min(Duration::from_secs(5));
    stop
}
