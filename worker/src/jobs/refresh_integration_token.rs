//! `refresh_integration_token`: refreshes one integration's rotating token (Slack), once at a
//! time per integration; a refused refresh token marks it `reauth_required`.

use common::{
    github::RefreshWhen,
    integrations::{OnRefusal, RefreshRequest, providers::RefreshCx},
    jobs::RefreshIntegrationToken,
};

use crate::{context::JobContext, error::JobError};

handler!(RefreshIntegrationToken => run);

pub async fn run(job: RefreshIntegrationToken, ctx: JobContext) -> Result<(), JobError> {
    // The job carries the integration id only: its organisation scopes the refresh.
    let org = common::repo::integrations::org_of(&ctx.services.pool, job.integration_id)
        .await?
        .ok_or(common::Error::NotFound)?;
    let when_due_marking_refusal = RefreshRequest {
        when: RefreshWhen::Due,
        on_refusal: OnRefusal::MarkReauthRequired,
    };
    let outcome = common::integrations::refresh_token(
        &RefreshCx::of(&ctx.services),
        org,
        job.integration_id,
        when_due_marking_refusal,
    )
    .await?;
    tracing::info!(integration = %job.integration_id, ?outcome, "integration token refresh");
    Ok(())
}
