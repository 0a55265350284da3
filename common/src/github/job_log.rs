//! A workflow job's full log for triage: the job must belong to the organisation's run (stored,
//! or listed by GitHub), the log is fetched with the credential that reaches the repository
//! (GitHub's redirect to its log host is followed without the token) and streamed, cut at a cap.

use crate::domain::{Conclusion, WorkflowRunId};
use bytes::Bytes;
use futures::stream::{self, BoxStream, StreamExt};

use super::{GithubDb, GithubError, client::Auth};
use crate::{
    Error,
    domain::OrgId,
    repo::{
        workflow_jobs::{self, JobRow},
        workflow_runs,
    },
};

/// A log being streamed.
pub struct LogStream {
    pub job_id: i64,
    pub job_name: String,
    /// The log's bytes, at most the cap, then a line saying it was cut.
    pub body: BoxStream<'static, Result<Bytes, std::io::Error>>,
}

fn failed(j: &JobRow) -> bool {
    Conclusion::is_failing(j.conclusion.as_deref())
}

impl GithubDb<'_> {
    /// The log of `job` (a GitHub job id of this run; by default the run's first failed job),
    /// at most `max_bytes` of it.
    pub async fn job_log(
        &self,
        org: OrgId,
        workflow_run: WorkflowRunId,
        job: Option<i64>,
        max_bytes: u64,
    ) -> Result<LogStream, Error> {
        let run = workflow_runs::find(self.pool, org, workflow_run)
            .await?
            .ok_or(Error::NotFound)?;
        let (repo, access) = self.reachable(org, run.repository_id).await?;
        let mut jobs = workflow_jobs::jobs_of(self.pool, org, run.run_id, run.run_attempt).await?;
        if jobs.is_empty() || job.is_some_and(|id| !jobs.iter().any(|j| j.job_id == id)) {
            let list = self
                .run_jobs(access, &repo.full_name, run.run_id, run.run_attempt)
                .await?;
            jobs = list.jobs.into_iter().map(Into::into).collect();
        }
        let chosen = match job {
            Some(id) => jobs
                .iter()
                .find(|j| j.job_id == id)
                .ok_or(Error::NotFound)?,
            None => jobs.iter().find(|j| failed(j)).ok_or_else(|| {
                Error::rejected(
                    "no_failed_job",
                    "No job of this run failed; name one with ?job=.",
                )
            })?,
        };
        let path = format!(
            "/repos/{}/actions/jobs/{}/logs",
            repo.full_name, chosen.job_id
        );
        let response = self
            .with_access(access, |token| {
                let path = path.clone();
                async move {
                    match self.client.get_download(&path, &Auth::Bearer(&token)).await {
                        Ok(r) => Ok(Some(r)),
                        Err(GithubError::NotFound) => Ok(None),
                        Err(e) => Err(e),
                    }
                }
            })
            .await?
            .ok_or(Error::NotFound)?;
        Ok(LogStream {
            job_id: chosen.job_id,
            job_name: chosen.name.clone(),
            body: capped(response, max_bytes),
        })
    }
}

/// The response's body chunk by chunk, cut after `max` bytes with a closing note.
fn capped(
    response: reqwest::Response,
    max: u64,
) -> BoxStream<'static, Result<Bytes, std::io::Error>> {
    stream::unfold(Some((response, 0u64)), move |state| async move {
        let (mut response, sent) = state?;
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = max.saturating_sub(sent);
                if (chunk.len() as u64) <= room {
                    let sent = sent + chunk.len() as u64;
                    Some((Ok(chunk), Some((response, sent))))
                } else {
                    let mut cut = chunk.slice(..usize::try_from(room).unwrap_or(0)).to_vec();
                    cut.extend_from_slice(
                        format!("\n[RepoPal: log cut at {max} bytes]\n").as_bytes(),
                    );
                    Some((Ok(Bytes::from(cut)), None))
                }
            }
            Ok(None) => None,
            Err(e) => Some((Err(std::io::Error::other(e.without_url())), None)),
        }
    })
    .boxed()
}
