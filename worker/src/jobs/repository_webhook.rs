//! `repository_webhook`: installs, removes or pings RepoPal's hook on a repository.

use common::jobs::{HookAction, RepositoryWebhook};

use crate::{context::JobContext, error::JobError};

handler!(RepositoryWebhook => run);

pub async fn run(job: RepositoryWebhook, ctx: JobContext) -> Result<(), JobError> {
    match job.action {
        HookAction::Install => {
            let outcome = ctx
                .services
                .github_db()
                .install_hook(job.org_id, job.repository_id)
                .await?;
            tracing::info!(repository = %job.repository_id, ?outcome, "repository hook installed");
        }
        HookAction::Remove => {
            let removed = ctx
                .services
                .github_db()
                .remove_hook(job.org_id, job.repository_id)
                .await?;
            tracing::info!(repository = %job.repository_id, removed, "repository hook removed");
        }
        HookAction::Ping => {
            let hook = ctx
                .services
                .github_db()
                .ping_hook(job.org_id, job.repository_id)
                .await?;
            tracing::info!(repository = %job.repository_id, hook, "repository hook pinged");
        }
    }
    Ok(())
}
