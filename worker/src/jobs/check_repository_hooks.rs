//! `check_repository_hooks`: pings the hooks of repositories reached only through a user's OAuth
//! connection, each once per health-check interval, and reinstalls the ones GitHub no longer has.

use common::{
    github::{HookHealth, reinstall_hook},
    jobs::CheckRepositoryHooks,
    repo::repositories,
};

use crate::{context::JobContext, error::JobError};

handler!(CheckRepositoryHooks => run);

/// Hooks checked per run (the rest wait for the next tick).
const PER_RUN: i64 = 50;

pub async fn run(_job: CheckRepositoryHooks, ctx: JobContext) -> Result<(), JobError> {
    let pool = &ctx.services.pool;
    let github = ctx.services.github_db();
    let interval = github.health_interval.as_secs_f64();
    let due = repositories::due_connection_hooks(pool, interval, PER_RUN).await?;
    let mut reinstalled = 0;
    for (org, repository) in due {
        match github.hook_health(org, repository).await {
            Ok(HookHealth::Alive) => repositories::touch_hook(pool, org, repository).await?,
            Ok(HookHealth::Gone | HookHealth::NotInstalled) => {
                reinstall_hook(pool, org, repository).await?;
                reinstalled += 1;
            }
            // One repository's trouble (a revoked connection, GitHub down) does not stop the rest;
            // it is checked again next time.
            Err(e) => {
                tracing::warn!(%repository, error = %e, "repository hook check failed");
                repositories::touch_hook(pool, org, repository).await?;
            }
        }
    }
    if reinstalled > 0 {
        tracing::info!(reinstalled, "vanished repository hooks reinstalled");
    }
    Ok(())
}
