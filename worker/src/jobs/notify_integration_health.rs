//! `notify_integration_health`: posts one health alert to the Slack alert channel; retried with
//! backoff on its own.

use common::jobs::NotifyIntegrationHealth;

use crate::{context::JobContext, error::JobError};

handler!(NotifyIntegrationHealth => run);

pub async fn run(job: NotifyIntegrationHealth, ctx: JobContext) -> Result<(), JobError> {
    let outcome = common::integrations::post_alert(&ctx.services, &ctx.job_id, &job).await?;
    tracing::info!(check = %job.check_id, outcome, "integration health alert");
    Ok(())
}
