//! `check_integration`: one scheduled health check (see `common::integrations::check`);
//! `check_due_integrations`: the scheduler tick's fan-out of due checks.

use common::jobs::{CheckDueIntegrations, CheckIntegration};

use crate::{context::JobContext, error::JobError};

handler!(CheckIntegration => run);

pub async fn run(job: CheckIntegration, ctx: JobContext) -> Result<(), JobError> {
    let outcome =
        common::integrations::run_check(&ctx.services, job.integration_id, job.due_at).await?;
    tracing::debug!(integration = %job.integration_id, ?outcome, "health check job");
    Ok(())
}

handler!(CheckDueIntegrations => run_due);

pub async fn run_due(_job: CheckDueIntegrations, ctx: JobContext) -> Result<(), JobError> {
    let due = common::integrations::check_due(&ctx.services.pool).await?;
    tracing::info!(due, "due integration checks enqueued");
    Ok(())
}
