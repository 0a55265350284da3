//! GitHub Actions calls made with the credential that reaches the repository (installation or
//! OAuth connection): a run's jobs, a job's log tail, and re-running a run.

use reqwest::Method;

use super::{Auth, GithubDb, GithubError, RepoAccess, RerunScope};
use crate::{Error, workflows::payload::JobList};

impl GithubDb<'_> {
    /// The jobs of one run attempt (`GET …/actions/runs/{run_id}/attempts/{attempt}/jobs`), following
    /// pagination up to `MAX_JOB_PAGES` pages of 100.
    pub async fn run_jobs(
        &self,
        access: RepoAccess,
        full_name: &str,
        run_id: i64,
        attempt: i32,
    ) -> Result<JobList, Error> {
        const MAX_JOB_PAGES: usize = 10;
        let mut all = JobList { jobs: Vec::new() };
        let mut next = Some(format!(
            "/repos/{full_name}/actions/runs/{run_id}/attempts/{attempt}/jobs?per_page=100"
        ));
        for _ in 0..MAX_JOB_PAGES {
            let Some(path) = next.take() else { break };
            let page = self
                .with_access(access, |token| {
                    let path = path.clone();
                    async move {
                        self.client
                            .get::<JobList>(&path, &Auth::Bearer(&token))
                            .await
                    }
                })
                .await?;
            all.jobs.extend(page.items.jobs);
            next = page.next;
        }
        Ok(all)
    }

    /// The last `max_bytes` of a job's log, or `None` when GitHub has none (expired or not kept).
    pub async fn job_log_tail(
        &self,
        access: RepoAccess,
        full_name: &str,
        job_id: i64,
        max_bytes: usize,
    ) -> Result<Option<String>, Error> {
        let path = format!("/repos/{full_name}/actions/jobs/{job_id}/logs");
        self.with_access(access, |token| {
            let path = path.clone();
            async move {
                match self
                    .client
                    .get_text_tail(&path, &Auth::Bearer(&token), max_bytes)
                    .await
                {
                    Ok(text) => Ok(Some(text)),
                    Err(super::GithubError::NotFound) => Ok(None),
                    Err(e) => Err(e),
                }
            }
        })
        .await
    }

    /// Re-runs a run: every job, or only the failed ones.
    pub async fn rerun(
        &self,
        access: RepoAccess,
        full_name: &str,
        run_id: i64,
        scope: RerunScope,
    ) -> Result<(), Error> {
        let what = match scope {
            RerunScope::FailedJobs => "rerun-failed-jobs",
            RerunScope::AllJobs => "rerun",
        };
        let path = format!("/repos/{full_name}/actions/runs/{run_id}/{what}");
        self.with_access(access, |token| {
            let path = path.clone();
            async move {
                match self
                    .client
                    .send::<serde_json::Value>(Method::POST, &path, &Auth::Bearer(&token), None)
                    .await
                {
                    Ok(_) => Ok(()),
                    // The POST is retried after a 5xx or network error; if the first one went
                    // through, GitHub answers that the workflow is already running.
                    Err(GithubError::Forbidden(m)) if m.contains("already running") => Ok(()),
                    Err(e) => Err(e),
                }
            }
        })
        .await
    }
}
