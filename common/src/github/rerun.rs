//! A workflow re-run requested at most once per job, even when the job is interrupted after
//! GitHub accepted it: GitHub's re-run has no idempotency key, so the run's attempt number is
//! read and marked (committed) before the request, and a retry that finds the mark asks GitHub
//! whether the run has moved past that attempt.

use serde::Deserialize;
use serde_json::json;

use super::{Auth, GithubDb, RepoAccess};
use crate::{
    Error,
    jobs::JobId,
    repo::{effect_attempts, job_effects},
};

/// Which jobs of a run a re-run covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RerunScope {
    AllJobs,
    FailedJobs,
}

impl RerunScope {
    /// The scope a `failed_only` flag (request bodies, job payloads, audit entries) stands for.
    pub fn from_failed_only(failed_only: bool) -> Self {
        if failed_only {
            Self::FailedJobs
        } else {
            Self::AllJobs
        }
    }

    /// The `failed_only` flag this scope is written as.
    pub fn failed_only(self) -> bool {
        self == Self::FailedJobs
    }
}

/// A re-run of one run of a repository, with the credential that reaches it.
#[derive(Debug, Clone, Copy)]
pub struct RerunRequest<'a> {
    pub access: RepoAccess,
    pub full_name: &'a str,
    pub run_id: i64,
    pub scope: RerunScope,
}

#[derive(Deserialize)]
struct RunAttempt {
    run_attempt: i64,
}

impl GithubDb<'_> {
    /// The run's current attempt number (`GET …/actions/runs/{run_id}`).
    pub async fn run_attempt(
        &self,
        access: RepoAccess,
        full_name: &str,
        run_id: i64,
    ) -> Result<i64, Error> {
        let path = format!("/repos/{full_name}/actions/runs/{run_id}");
        self.with_access(access, |token| {
            let path = path.clone();
            async move {
                self.client
                    .get::<RunAttempt>(&path, &Auth::Bearer(&token))
                    .await
                    .map(|p| p.items.run_attempt)
            }
        })
        .await
    }

    /// Re-runs the run once for `job_id`; returns what happened.
    pub async fn rerun_once(
        &self,
        job_id: &JobId,
        request: &RerunRequest<'_>,
    ) -> Result<&'static str, Error> {
        let RerunRequest {
            access,
            full_name,
            run_id,
            scope,
        } = *request;
        let mut tx = self.pool.begin().await?;
        if !job_effects::claim(&mut tx, job_id).await? {
            return Ok("already requested");
        }
        let attempt = self.run_attempt(access, full_name, run_id).await?;
        let key = format!("rerun:{}", job_id.0);
        let earlier =
            effect_attempts::begin(self.pool, &key, &json!({ "run_attempt": attempt })).await?;
        let seen_first = earlier
            .as_ref()
            .and_then(|e| e.detail.get("run_attempt"))
            .and_then(serde_json::Value::as_i64);
        if seen_first.is_some_and(|first| attempt > first) {
            tx.commit().await?;
            tracing::info!(
                run = run_id,
                attempt,
                "an earlier attempt of this job already re-ran the workflow"
            );
            return Ok("already re-run by an earlier attempt");
        }
        self.rerun(access, full_name, run_id, scope).await?;
        tx.commit().await?;
        Ok("re-run requested")
    }
}
