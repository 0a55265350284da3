//! `prune_history`: prunes each class of history past its `RETENTION_*` age, in bounded batches
//! (each its own short statement), oldest first. A run stops a class after `MAX_BATCHES`; the
//! next tick goes on, so a large backlog drains over several ticks instead of one long run.

use common::{
    jobs::PruneHistory,
    repo::retention::{self, History, cutoff},
};

use crate::{context::JobContext, error::JobError};

handler!(PruneHistory => run);

/// Rows per statement.
const BATCH: i64 = 1_000;
/// Statements per class per run.
const MAX_BATCHES: usize = 50;

pub async fn run(_job: PruneHistory, ctx: JobContext) -> Result<(), JobError> {
    let pool = &ctx.services.pool;
    let keep = ctx.config.retention;

    let prune = |history: History, keep: std::time::Duration| {
        batches(move || retention::prune_batch(pool, history, cutoff(keep), BATCH))
    };
    let payloads = prune(History::DeliveryPayloads, keep.delivery_payload).await?;
    let checks = prune(History::Checks, keep.check_history).await?;
    let notifications = prune(History::Notifications, keep.notifications).await?;
    let audit = prune(History::AuditEntries, keep.audit).await?;
    tracing::info!(
        payloads,
        checks,
        notifications,
        audit,
        "pruned history past its retention"
    );
    Ok(())
}

/// Runs `batch` until it prunes less than a full batch or `MAX_BATCHES` ran; the rows pruned.
async fn batches<F, Fut>(mut batch: F) -> Result<u64, JobError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<u64, common::Error>>,
{
    let mut total = 0;
    for _ in 0..MAX_BATCHES {
        let n = batch().await?;
        total += n;
        if n < BATCH as u64 {
            break;
        }
    }
    Ok(total)
}
