//! `redeliver_webhooks`: runs the redelivery sweep over the configured window; nothing to do
//! without a GitHub App.

use common::jobs::RedeliverWebhooks;

use crate::{context::JobContext, error::JobError};

handler!(RedeliverWebhooks => run);

pub async fn run(_job: RedeliverWebhooks, ctx: JobContext) -> Result<(), JobError> {
    if ctx.services.github.app.is_none() {
        return Ok(());
    }
    let window = chrono::Duration::from_std(ctx.config.redelivery_window)
        .map_err(|e| JobError::permanent(format!("redelivery window: {e}")))?;
    let report = common::webhooks::sweep(
        &ctx.services.pool,
        &ctx.services.github,
        chrono::Utc::now() - window,
    )
    .await?;
    tracing::info!(
        events = report.events,
        failed = report.failed,
        redelivered = report.redelivered,
        "webhook redelivery sweep"
    );
    Ok(())
}
