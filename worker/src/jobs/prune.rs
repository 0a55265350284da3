//! `prune_jobs`: deletes finished job rows, stale worker rows, old effect records, login
//! throttles that no longer count (unlocked and quiet for a day) and GitHub answers cached by ETag
//! that were not fetched for a week.

use common::{jobs::PruneJobs, repo};

use crate::{context::JobContext, error::JobError};

handler!(PruneJobs => run);

pub async fn run(_job: PruneJobs, ctx: JobContext) -> Result<(), JobError> {
    let pruned = repo::jobs::prune(&ctx.services.pool, ctx.config.retention.jobs).await?;
    tracing::info!(
        jobs = pruned.jobs,
        workers = pruned.workers,
        effects = pruned.effects,
        "pruned job history"
    );
    let attempts =
        repo::effect_attempts::prune(&ctx.services.pool, ctx.config.retention.jobs.as_secs_f64())
            .await?;
    tracing::info!(attempts, "pruned effect attempt marks");
    let throttles = repo::login_attempts::prune_throttles(&ctx.services.pool).await?;
    tracing::info!(throttles, "pruned login throttles");
    let cached = repo::github_cache::prune(&ctx.services.pool, 7 * 24 * 3600).await?;
    tracing::info!(cached, "pruned cached GitHub answers");
    Ok(())
}
