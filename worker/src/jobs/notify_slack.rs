//! `notify_slack`: posts one incident message to one Slack channel; retried with backoff on its own.

use common::jobs::NotifySlack;

use crate::{context::JobContext, error::JobError};

handler!(NotifySlack => run);

pub async fn run(job: NotifySlack, ctx: JobContext) -> Result<(), JobError> {
    let outcome = common::incidents::post_to_slack(&ctx.services, &ctx.job_id, &job).await?;
    tracing::info!(event = %job.event_id, outcome, "slack notification");
    Ok(())
}
