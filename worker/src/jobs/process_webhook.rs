//! `process_webhook`: routes one stored delivery (`common::webhooks::route`) and records it.

use common::jobs::ProcessWebhook;

use crate::{context::JobContext, error::JobError};

handler!(ProcessWebhook => run);

pub async fn run(job: ProcessWebhook, ctx: JobContext) -> Result<(), JobError> {
    let window = ctx.services.slack.group_notify_window.as_secs();
    let routed = common::webhooks::route(
        &ctx.services.pool,
        i64::try_from(window).unwrap_or(i64::MAX),
        job.owner,
        job.delivery_id,
    )
    .await?;
    if let Some(org) = routed.org {
        tracing::Span::current().record("org_id", tracing::field::display(org));
    }
    Ok(())
}
