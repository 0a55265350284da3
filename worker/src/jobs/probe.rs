//! `probe`: diagnostic job; counts starts, completes exactly once, misbehaves on request.

use std::time::Duration;

use common::{
    jobs::{Probe, ProbeBehaviour},
    repo::{self, probe::Count},
};

use crate::{context::JobContext, error::JobError};

handler!(Probe => run);

pub async fn run(job: Probe, ctx: JobContext) -> Result<(), JobError> {
    repo::probe::count(&ctx.services.pool, &job.key, Count::Start).await?;
    tokio::time::sleep(Duration::from_millis(job.sleep_ms)).await;
    match job.behaviour {
        ProbeBehaviour::Succeed => {}
        ProbeBehaviour::Fail => return Err(JobError::retryable("probe asked to fail")),
        ProbeBehaviour::FailPermanently => {
            return Err(JobError::permanent("probe asked to fail permanently"));
        }
        ProbeBehaviour::Panic => panic!("probe asked to panic"),
        ProbeBehaviour::Hang => std::future::pending::<()>().await,
    }
    let mut tx = ctx.services.pool.begin().await?;
    if repo::job_effects::claim(&mut tx, &ctx.job_id).await? {
        repo::probe::count(&mut *tx, &job.key, Count::Completion).await?;
    }
    tx.commit().await?;
    Ok(())
}
