//! `refresh_oauth_token`: refreshes one connection's GitHub token (single-flight, see
//! `common::github::token_refresh`); `refresh_due_tokens`: fans out refreshes for connections that
//! expire soon (users' GitHub tokens and integrations' rotating tokens), each enqueued once per
//! expiry.

use common::{
    github::{REFRESH_MARGIN, RefreshOutcome, RefreshWhen},
    jobs::{self, Enqueue, RefreshDueTokens, RefreshIntegrationToken, RefreshOAuthToken},
    repo::{integrations, oauth},
};

use crate::{context::JobContext, error::JobError};

handler!(RefreshOAuthToken => run);

pub async fn run(job: RefreshOAuthToken, ctx: JobContext) -> Result<(), JobError> {
    let outcome = ctx
        .services
        .github_db()
        .refresh_connection(
            job.connection_id,
            if job.force {
                RefreshWhen::Now
            } else {
                RefreshWhen::Due
            },
        )
        .await?;
    if outcome == RefreshOutcome::ReauthRequired {
        tracing::warn!(connection = %job.connection_id, "GitHub refused the refresh token; the user must reconnect");
    } else {
        tracing::info!(connection = %job.connection_id, ?outcome, "token refresh");
    }
    Ok(())
}

handler!(RefreshDueTokens => run_due);

pub async fn run_due(_job: RefreshDueTokens, ctx: JobContext) -> Result<(), JobError> {
    let due =
        oauth::due_for_refresh(&ctx.services.pool, REFRESH_MARGIN.num_seconds() as f64).await?;
    let mut conn = ctx.services.pool.acquire().await?;
    for d in &due {
        let (id, expires_at) = (d.id, d.token_expires_at);
        let key = format!("refresh:{id}:{}", expires_at.timestamp());
        let opts = Enqueue {
            idempotency_key: Some(key),
            ..Enqueue::default()
        };
        jobs::push_with(
            &mut conn,
            &RefreshOAuthToken {
                connection_id: id,
                force: false,
            },
            opts,
        )
        .await?;
    }
    // Integrations with rotating tokens (Slack), the same way.
    let integrations_due = integrations::due_for_token_refresh(
        &ctx.services.pool,
        REFRESH_MARGIN.num_seconds() as f64,
    )
    .await?;
    for d in &integrations_due {
        let (id, expires_at) = (d.id, d.at);
        let opts = Enqueue {
            idempotency_key: Some(format!(
                "refresh-integration:{id}:{}",
                expires_at.timestamp()
            )),
            ..Enqueue::default()
        };
        let job = jobs::push_with(
            &mut conn,
            &RefreshIntegrationToken { integration_id: id },
            opts,
        )
        .await?;
        // The organisation sees its integrations' token refreshes among its jobs.
        if let Some(job) = job {
            common::repo::org_jobs::record_for_integration(
                &mut *conn,
                id,
                &job,
                "refresh_integration_token",
            )
            .await?;
        }
    }
    tracing::info!(
        due = due.len(),
        integrations_due = integrations_due.len(),
        "token refreshes enqueued"
    );
    Ok(())
}
