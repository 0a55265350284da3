//! The parts of `workflow_run`, `workflow_job` and `check_suite` payloads (and of the REST jobs
//! list, which has the same job shape) that RepoPal keeps.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::{
    domain::Conclusion,
    repo::{workflow_jobs::JobRow, workflow_runs::RunIn},
};

#[derive(Deserialize)]
struct Login {
    login: Option<String>,
}

#[derive(Deserialize)]
struct Person {
    name: Option<String>,
    email: Option<String>,
}

#[derive(Deserialize)]
struct HeadCommit {
    author: Option<Person>,
    message: Option<String>,
}

#[derive(Deserialize)]
struct Named {
    name: Option<String>,
}

#[derive(Deserialize)]
struct Run {
    id: i64,
    run_attempt: Option<i32>,
    run_number: i64,
    workflow_id: i64,
    name: Option<String>,
    head_branch: Option<String>,
    head_sha: String,
    event: Option<String>,
    status: Option<String>,
    conclusion: Option<String>,
    actor: Option<Login>,
    head_commit: Option<HeadCommit>,
    html_url: Option<String>,
    check_suite_id: Option<i64>,
    run_started_at: Option<DateTime<Utc>>,
    created_at: Option<DateTime<Utc>>,
    updated_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct RunEvent {
    workflow_run: Run,
    workflow: Option<Named>,
}

/// A `workflow_run` delivery's run attempt.
pub fn workflow_run(json: &[u8]) -> Result<RunIn, serde_json::Error> {
    let e: RunEvent = serde_json::from_slice(json)?;
    let r = e.workflow_run;
    let name = r
        .name
        .filter(|n| !n.is_empty())
        .or_else(|| e.workflow.and_then(|w| w.name))
        .unwrap_or_else(|| format!("workflow {}", r.workflow_id));
    let author = r.head_commit.as_ref().and_then(|c| c.author.as_ref());
    Ok(RunIn {
        run_id: r.id,
        run_attempt: r.run_attempt.unwrap_or(1),
        run_number: r.run_number,
        workflow_id: r.workflow_id,
        workflow_name: name,
        branch: r.head_branch.unwrap_or_default(),
        head_sha: r.head_sha,
        event: r.event,
        status: r.status.unwrap_or_else(|| "queued".into()),
        conclusion: r.conclusion,
        actor: r.actor.and_then(|a| a.login),
        commit_author: author.and_then(|a| match (&a.name, &a.email) {
            (Some(n), Some(e)) => Some(format!("{n} <{e}>")),
            (Some(n), None) => Some(n.clone()),
            (None, e) => e.clone(),
        }),
        commit_message: r.head_commit.and_then(|c| c.message).map(|m| {
            m.lines()
                .next()
                .unwrap_or_default()
                .chars()
                .take(200)
                .collect()
        }),
        html_url: r.html_url,
        check_suite_id: r.check_suite_id,
        run_started_at: r.run_started_at,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

#[derive(Deserialize)]
struct Step {
    name: String,
    conclusion: Option<String>,
}

#[derive(Deserialize)]
pub struct Job {
    id: i64,
    run_id: i64,
    run_attempt: Option<i32>,
    name: String,
    status: Option<String>,
    conclusion: Option<String>,
    html_url: Option<String>,
    started_at: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    steps: Vec<Step>,
}

impl From<Job> for JobRow {
    fn from(j: Job) -> Self {
        JobRow {
            job_id: j.id,
            run_id: j.run_id,
            run_attempt: j.run_attempt.unwrap_or(1),
            name: j.name,
            status: j.status.unwrap_or_else(|| "queued".into()),
            conclusion: j.conclusion,
            html_url: j.html_url,
            started_at: j.started_at,
            completed_at: j.completed_at,
            failed_steps: sqlx::types::Json(
                j.steps
                    .into_iter()
                    .filter(|s| Conclusion::is_failing(s.conclusion.as_deref()))
                    .map(|s| s.name)
                    .collect(),
            ),
        }
    }
}

#[derive(Deserialize)]
struct JobEvent {
    workflow_job: Job,
}

/// A `workflow_job` delivery's job.
pub fn workflow_job(json: &[u8]) -> Result<JobRow, serde_json::Error> {
    Ok(serde_json::from_slice::<JobEvent>(json)?
        .workflow_job
        .into())
}

/// `GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs`.
#[derive(Deserialize)]
pub struct JobList {
    pub jobs: Vec<Job>,
}

#[derive(Deserialize)]
pub struct CheckSuite {
    pub id: i64,
    pub status: Option<String>,
    pub conclusion: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct CheckSuiteEvent {
    check_suite: CheckSuite,
}

/// A `check_suite` delivery's suite.
pub fn check_suite(json: &[u8]) -> Result<CheckSuite, serde_json::Error> {
    Ok(serde_json::from_slice::<CheckSuiteEvent>(json)?.check_suite)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corpus_payloads_parse() {
        let run = workflow_run(include_bytes!(
            "../../../tests/fixtures/github/webhooks/workflow_run/completed.payload.json"
        ))
        .unwrap();
        assert_eq!(
            (
                run.run_id,
                run.run_number,
                run.workflow_name.as_str(),
                run.branch.as_str()
            ),
            (289782451, 163, "test", "master")
        );
        assert_eq!(
            run.commit_author.as_deref(),
            Some("Matthias Fax <matfax@users.noreply.github.com>")
        );
        let job = workflow_job(include_bytes!(
            "../../../tests/fixtures/github/webhooks/workflow_job/completed.failure.with-organization.payload.json"
        ))
        .unwrap();
        assert_eq!(job.conclusion.as_deref(), Some("failure"));
        assert!(!job.failed_steps.0.is_empty(), "{:?}", job.failed_steps);
    }
}
