//! GitHub Actions calls made with the repository's installation token: a run's jobs, a job's log
//! tail, and re-running a run.

use reqwest::Method;

use super::{Auth, Github};
use crate::{Error, workflows::payload::JobList};

impl Github {
    /// The jobs of the run's latest attempt (`GET …/actions/runs/{run_id}/jobs`).
    pub async fn run_jobs(
        &self,
        installation_id: i64,
        full_name: &str,
        run_id: i64,
    ) -> Result<JobList, Error> {
        let path = format!("/repos/{full_name}/actions/runs/{run_id}/jobs?per_page=100");
        self.with_installation_token(installation_id, |token| {
            let path = path.clone();
            async move {
                self.client
                    .get::<JobList>(&path, &Auth::Bearer(&token))
                    .await
                    .map(|p| p.items)
            }
        })
        .await
    }

    /// The last `max_bytes` of a job's log, or `None` when GitHub has none (expired or not kept).
    pub async fn job_log_tail(
        &self,
        installation_id: i64,
        full_name: &str,
        job_id: i64,
        max_bytes: usize,
    ) -> Result<Option<String>, Error> {
        let path = format!("/repos/{full_name}/actions/jobs/{job_id}/logs");
        self.with_installation_token(installation_id, |token| {
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
        installation_id: i64,
        full_name: &str,
        run_id: i64,
        failed_only: bool,
    ) -> Result<(), Error> {
        let what = if failed_only {
            "rerun-failed-jobs"
        } else {
            "rerun"
        };
        let path = format!("/repos/{full_name}/actions/runs/{run_id}/{what}");
        self.with_installation_token(installation_id, |token| {
            let path = path.clone();
            async move {
                self.client
                    .send::<serde_json::Value>(Method::POST, &path, &Auth::Bearer(&token), None)
                    .await
                    .map(|_| ())
            }
        })
        .await
    }
}
