//! `incident_context`: stores the failing run's jobs, failed steps and log tails on the incident.

use common::jobs::IncidentContext;

use crate::{context::JobContext, error::JobError};

handler!(IncidentContext => run);

pub async fn run(job: IncidentContext, ctx: JobContext) -> Result<(), JobError> {
    let summary =
        common::incidents::gather_context(&ctx.services.github_db(), &ctx.job_id, &job).await?;
    tracing::info!(incident = %job.incident_id, summary, "incident context stored");
    Ok(())
}
