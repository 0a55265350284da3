//! The process's heartbeat: every `WORKER_HEARTBEAT_SECS` one statement refreshes `last_seen` of
//! all its claim streams, and one more re-queues the jobs of workers of its queues that have been
//! silent for the orphan timeout (their process died), so a crash costs at most that long.

use std::sync::Arc;

use common::repo::job_claims;

use crate::runner::Shared;

/// Beats until the task is aborted (after the drain, so a draining worker still looks alive).
pub(crate) async fn run(shared: Arc<Shared>, queues: Vec<&'static str>) {
    let mut tick = tokio::time::interval(shared.config.heartbeat);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let streams = shared.streams.lock().map(|s| s.clone()).unwrap_or_default();
        if !streams.is_empty()
            && let Err(e) = job_claims::register(&shared.queue_pool, &streams).await
        {
            tracing::warn!(error = %e, "heartbeat failed; retrying at the next beat");
            continue;
        }
        match job_claims::requeue_orphans(&shared.queue_pool, &queues, shared.config.orphan_after())
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::warn!(
                jobs = n,
                "re-queued the jobs of workers that stopped beating"
            ),
            Err(e) => {
                tracing::warn!(error = %e, "orphan recovery failed; retrying at the next beat")
            }
        }
    }
}
