//! `sync_integration`: one sync of an integration, scheduled or asked for (see
//! `common::integrations::sync`); `sync_due_integrations`: the scheduler tick's fan-out of due syncs.

use common::jobs::{SyncDueIntegrations, SyncIntegration};

use crate::{context::JobContext, error::JobError};

handler!(SyncIntegration => run);

pub async fn run(job: SyncIntegration, ctx: JobContext) -> Result<(), JobError> {
    let outcome =
        common::integrations::run_sync(&ctx.services, job.integration_id, job.due_at).await?;
    tracing::debug!(integration = %job.integration_id, ?outcome, "sync job");
    Ok(())
}

handler!(SyncDueIntegrations => run_due);

pub async fn run_due(_job: SyncDueIntegrations, ctx: JobContext) -> Result<(), JobError> {
    let due = common::integrations::sync_due(&ctx.services.pool).await?;
    tracing::info!(due, "due integration syncs enqueued");
    Ok(())
}
