//! `sync_repositories`: lists an installation's repositories from GitHub into `repositories`.

use common::jobs::SyncRepositories;

use crate::{context::JobContext, error::JobError};

handler!(SyncRepositories => run);

pub async fn run(job: SyncRepositories, ctx: JobContext) -> Result<(), JobError> {
    let report = ctx
        .services
        .github_db()
        .sync_installation(job.installation_id)
        .await?;
    tracing::info!(
        installation_id = %job.installation_id,
        pages = report.pages,
        repositories = report.repositories,
        removed = report.removed,
        "repositories synced"
    );
    Ok(())
}

handler!(common::jobs::SyncConnectionRepositories => run_connection);

/// `sync_connection_repositories`: lists a user's repositories (via their OAuth connection) into an
/// organisation.
pub async fn run_connection(
    job: common::jobs::SyncConnectionRepositories,
    ctx: JobContext,
) -> Result<(), JobError> {
    let report = ctx
        .services
        .github_db()
        .sync_connection(job.org_id, job.connection_id)
        .await?;
    tracing::info!(connection = %job.connection_id, pages = report.pages, repositories = report.repositories, removed = report.removed, "connection repositories synced");
    Ok(())
}
