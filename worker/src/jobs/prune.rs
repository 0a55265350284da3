//! `prune_jobs`: deletes finished job rows, stale worker rows and old effect records.

use common::{jobs::PruneJobs, repo};

use crate::{context::JobContext, error::JobError};

pub async fn run(_job: PruneJobs, ctx: JobContext) -> Result<(), JobError> {
    let pruned = repo::jobs::prune(&ctx.pool, ctx.config.job_retention).await?;
    tracing::info!(
        jobs = pruned.jobs,
        workers = pruned.workers,
        effects = pruned.effects,
        "pruned job history"
    );
    Ok(())
}
