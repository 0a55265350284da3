//! `refresh_integration_token`: refreshes one integration's rotating token (Slack), once at a
//! time per integration; a refused refresh token marks it `reauth_required`.

use common::jobs::RefreshIntegrationToken;

use crate::{context::JobContext, error::JobError};

handler!(RefreshIntegrationToken => run);

pub async fn run(job: RefreshIntegrationToken, ctx: JobContext) -> Result<(), JobError> {
    let outcome = common::integrations::refresh_token(
        &ctx.services.slack,
        &ctx.services.pool,
        &ctx.services.keyring,
        job.integration_id,
        false,
        true,
    )
    .await?;
    tracing::info!(integration = %job.integration_id, ?outcome, "integration token refresh");
    Ok(())
}
