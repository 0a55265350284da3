//! `repository_webhook`: installs, removes or pings RepoPal's hook on a repository. A failed
//! install is recorded on the repository (hook state `failed`, with a stable code and reason, once
//! it will not be retried) and in the job's error (`{code}: {reason}`).

use common::{
    Error,
    jobs::{HookAction, Job, RepositoryWebhook},
    repo::repositories::{self, HookState},
};

use crate::{context::JobContext, error::JobError};

handler!(RepositoryWebhook => run);

/// The stable code of a failed install, and whether trying again cannot help.
fn failure_code(e: &Error) -> (&'static str, bool) {
    match e {
        Error::Rejected { code, .. } | Error::Forbidden { code, .. } => (code, true),
        Error::NotFound => ("repository_not_found", true),
        Error::UpstreamRateLimited { .. } => ("github_rate_limited", false),
        Error::Upstream { .. } => ("github_error", false),
        _ => ("hook_install_failed", false),
    }
}

pub async fn run(job: RepositoryWebhook, ctx: JobContext) -> Result<(), JobError> {
    match job.action {
        HookAction::Install => {
            let result = ctx
                .services
                .github_db()
                .install_hook(job.org_id, job.repository_id)
                .await;
            match result {
                Ok(outcome) => {
                    tracing::info!(repository = %job.repository_id, ?outcome, "repository hook installed");
                }
                Err(e) => {
                    let (code, permanent) = failure_code(&e);
                    let last = permanent || ctx.attempt >= RepositoryWebhook::QUEUE.max_attempts;
                    let state = if last {
                        HookState::Failed
                    } else {
                        HookState::Pending
                    };
                    let reason = e.to_string();
                    repositories::set_hook_state(
                        &ctx.services.pool,
                        job.org_id,
                        job.repository_id,
                        state,
                        Some((code, &reason)),
                    )
                    .await?;
                    return Err(JobError::coded(code, reason, permanent));
                }
            }
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
