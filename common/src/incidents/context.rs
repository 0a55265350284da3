//! An incident's context: the failing run's jobs and failed steps from GitHub, with links and the
//! tail of each failed job's log, stored on the incident (newest run wins) and noted on the timeline.

use serde_json::{Value, json};

use crate::{
    Error,
    domain::{Conclusion, EventKind},
    github::GithubDb,
    jobs::{IncidentContext, JobId},
    repo::{
        incident_events::{self, NewEvent},
        incidents, job_effects, repositories,
        workflow_jobs::{self, JobRow},
        workflow_runs,
    },
};

/// Failed jobs whose logs are fetched.
const MAX_LOGS: usize = 3;
/// Bytes downloaded from the end of a log, and lines kept.
const LOG_TAIL_BYTES: usize = 16 * 1024;
const LOG_TAIL_LINES: usize = 30;

fn tail_lines(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n")
}

/// Fetches and stores the context for `job`; `job_id` makes the timeline entry happen once.
pub async fn gather(
    github: &GithubDb<'_>,
    job_id: &JobId,
    job: &IncidentContext,
) -> Result<String, Error> {
    let pool = github.pool;
    let org = job.org_id;
    let run = workflow_runs::find(pool, org, job.workflow_run_id)
        .await?
        .ok_or(Error::NotFound)?;
    let repo = repositories::find(pool, org, run.repository_id)
        .await?
        .ok_or(Error::NotFound)?;
    let context = match crate::github::RepoAccess::of(&repo) {
        None => json!({
            "summary": "Neither the GitHub App nor a GitHub connection reaches this repository, so its jobs could not be fetched.",
            "run_number": run.run_number,
            "run_attempt": run.run_attempt,
            "run_url": run.html_url,
        }),
        Some(access) => {
            let list = github
                .run_jobs(access, &repo.full_name, run.run_id, run.run_attempt)
                .await?;
            let jobs: Vec<JobRow> = list.jobs.into_iter().map(Into::into).collect();
            workflow_jobs::upsert_jobs(pool, org, repo.id, &jobs).await?;
            let failed: Vec<&JobRow> = jobs
                .iter()
                .filter(|j| Conclusion::is_failing(j.conclusion.as_deref()))
                .collect();
            let mut out = Vec::new();
            for (i, j) in failed.iter().enumerate() {
                let log_tail = if i < MAX_LOGS {
                    github
                        .job_log_tail(access, &repo.full_name, j.job_id, LOG_TAIL_BYTES)
                        .await
                        .unwrap_or_else(|e| {
                            tracing::warn!(error = %e, job = j.job_id, "job log unavailable");
                            None
                        })
                        .map(|t| tail_lines(&t))
                } else {
                    None
                };
                out.push(json!({
                    "name": j.name,
                    "conclusion": j.conclusion,
                    "html_url": j.html_url,
                    "failed_steps": j.failed_steps.0,
                    "log_tail": log_tail,
                }));
            }
            let names: Vec<String> = failed
                .iter()
                .map(|j| match j.failed_steps.0.first() {
                    Some(step) => format!("{} (step \"{step}\")", j.name),
                    None => j.name.clone(),
                })
                .collect();
            json!({
                "summary": format!("{} of {} jobs failed: {}", failed.len(), jobs.len(), names.join(", ")),
                "run_number": run.run_number,
                "run_attempt": run.run_attempt,
                "run_url": run.html_url,
                "failed_jobs": out,
            })
        }
    };
    let summary = context["summary"].as_str().unwrap_or_default().to_owned();
    let mut tx = pool.begin().await?;
    if !job_effects::claim(&mut tx, job_id).await? {
        return Ok(summary);
    }
    let incident = incidents::find(&mut *tx, org, job.incident_id)
        .await?
        .ok_or(Error::NotFound)?;
    let stored = |field: &str| {
        incident
            .context
            .as_ref()
            .and_then(|c| c.get(field))
            .and_then(Value::as_i64)
    };
    let newer_stored = match (stored("run_number"), stored("run_attempt")) {
        (Some(n), a) => (n, a.unwrap_or(1)) > (run.run_number, i64::from(run.run_attempt)),
        (None, _) => false,
    };
    if !newer_stored {
        incidents::set_context(&mut tx, org, job.incident_id, &context).await?;
    }
    incident_events::add_event(
        &mut tx,
        org,
        job.incident_id,
        NewEvent {
            kind: EventKind::Context,
            actor: None,
            body: Some(&summary),
            data: json!({"workflow_run_id": run.id, "run_number": run.run_number}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(summary)
}
