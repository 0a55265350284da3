//! `rerun_workflow`: asks GitHub to re-run a workflow run with the credential that reaches the
//! repository, once per job even across a crash (`GithubDb::rerun_once`).

use common::{
    github::{RerunRequest, RerunScope},
    jobs::RerunWorkflow,
    repo::{repositories, workflow_runs},
};

use crate::{context::JobContext, error::JobError};

handler!(RerunWorkflow => run);

pub async fn run(job: RerunWorkflow, ctx: JobContext) -> Result<(), JobError> {
    let run = workflow_runs::find(&ctx.services.pool, job.org_id, job.workflow_run_id)
        .await?
        .ok_or_else(|| JobError::permanent("the workflow run no longer exists"))?;
    let repo = repositories::find(&ctx.services.pool, job.org_id, run.repository_id)
        .await?
        .ok_or_else(|| JobError::permanent("the repository no longer exists"))?;
    let access = common::github::RepoAccess::of(&repo).ok_or_else(|| {
        JobError::permanent(
            "no_github_access: neither the GitHub App nor a GitHub connection reaches this repository",
        )
    })?;
    let outcome = ctx
        .services
        .github_db()
        .rerun_once(
            &ctx.job_id,
            &RerunRequest {
                access,
                full_name: &repo.full_name,
                run_id: run.run_id,
                scope: RerunScope::from_failed_only(job.failed_only),
            },
        )
        .await?;
    tracing::info!(
        run = run.run_id,
        failed_only = job.failed_only,
        outcome,
        "workflow re-run"
    );
    Ok(())
}
