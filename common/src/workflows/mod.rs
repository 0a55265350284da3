//! GitHub Actions results: recording `workflow_run`, `workflow_job` and `check_suite` deliveries
//! for monitored repositories (and evaluating completed runs into incidents), and re-run requests.

pub mod payload;

use crate::domain::{AuditAction, AuditResource};
use serde_json::json;
use sqlx::PgPool;

use crate::{
    Error,
    domain::{DeliveryStatus, OrgId, RepositoryId, RunStatus, WorkflowRunId},
    github::RerunScope,
    identity::{Acting, audit},
    incidents,
    jobs::{self, JobId, RerunWorkflow},
    repo::{audit_logs::NewEntry, jobs as job_rows, repositories, workflow_jobs, workflow_runs},
};

/// The outcome of a delivery (`processed`, `ignored`, or `failed` when unreadable), with a detail
/// for the deliveries list.
pub struct Applied {
    pub status: DeliveryStatus,
    pub detail: String,
}

fn ignored(detail: impl Into<String>) -> Applied {
    Applied {
        status: DeliveryStatus::Ignored,
        detail: detail.into(),
    }
}

fn processed(detail: impl Into<String>) -> Applied {
    Applied {
        status: DeliveryStatus::Processed,
        detail: detail.into(),
    }
}

/// A stored `workflow_run`, `workflow_job` or `check_suite` delivery as routing read it.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    pub event: &'a str,
    pub action: &'a str,
    /// The organisation the delivery is credited to, if any.
    pub org: Option<OrgId>,
    /// GitHub's id of the repository it is about, if any.
    pub repository_github_id: Option<i64>,
    pub json: &'a [u8],
}

/// Applies a `workflow_run`, `workflow_job` or `check_suite` delivery credited to its org.
pub async fn apply_delivery(
    pool: &PgPool,
    notify_window_secs: i64,
    delivery: &Delivery<'_>,
) -> Result<Applied, Error> {
    let event = delivery.event;
    let (Some(org), Some(github_id)) = (delivery.org, delivery.repository_github_id) else {
        return Ok(ignored(format!("{event}: no organisation or repository")));
    };
    let Some(repo) = repositories::find_monitored(pool, org, github_id).await? else {
        return Ok(ignored(format!("{event}: repository not monitored")));
    };
    match apply(pool, notify_window_secs, delivery, org, repo.id).await {
        // A payload RepoPal cannot read is kept, marked failed with the reason (replayable).
        Err(Error::Invalid(reason)) => Ok(Applied {
            status: DeliveryStatus::Failed,
            detail: reason,
        }),
        other => other,
    }
}

async fn apply(
    pool: &PgPool,
    notify_window_secs: i64,
    delivery: &Delivery<'_>,
    org: OrgId,
    repo_id: RepositoryId,
) -> Result<Applied, Error> {
    let Delivery {
        event,
        action,
        json,
        ..
    } = *delivery;
    let bad = |e: serde_json::Error| Error::Invalid(format!("{event} payload: {e}"));
    match event {
        "workflow_run" => {
            let run = payload::workflow_run(json).map_err(bad)?;
            let id = workflow_runs::upsert(pool, org, repo_id, &run).await?;
            let outcome = incidents::evaluate(pool, notify_window_secs, org, id).await?;
            Ok(processed(format!(
                "run {} attempt {} {}: {outcome}",
                run.run_id, run.run_attempt, run.status
            )))
        }
        "workflow_job" => {
            let job = payload::workflow_job(json).map_err(bad)?;
            let detail = format!("job {} {}", job.job_id, job.status);
            workflow_jobs::upsert_jobs(pool, org, repo_id, &[job]).await?;
            Ok(processed(detail))
        }
        "check_suite" if RunStatus::is_completed(action) => {
            let suite = payload::check_suite(json).map_err(bad)?;
            let completion = workflow_runs::SuiteCompletion {
                check_suite_id: suite.id,
                conclusion: suite.conclusion.as_deref(),
                at: suite.updated_at.unwrap_or_else(chrono::Utc::now),
            };
            let changed =
                workflow_runs::complete_by_check_suite(pool, org, repo_id, &completion).await?;
            let mut outcomes = Vec::new();
            for id in &changed {
                outcomes.push(incidents::evaluate(pool, notify_window_secs, org, *id).await?);
            }
            Ok(processed(format!(
                "check suite {} {}: {} run(s) completed {outcomes:?}",
                suite.id,
                suite.status.as_deref().unwrap_or("?"),
                changed.len()
            )))
        }
        other => Ok(ignored(format!("no handler for {other}.{action}"))),
    }
}

/// Asks for a re-run of a run (all jobs, or only the failed ones): the job and its audit entry are
/// written together; returns the job id to follow.
pub async fn request_rerun(
    pool: &PgPool,
    by: &Acting<'_>,
    workflow_run: WorkflowRunId,
    scope: RerunScope,
) -> Result<JobId, Error> {
    let Acting { meta, org, actor } = *by;
    let failed_only = scope.failed_only();
    let mut tx = pool.begin().await?;
    let run = workflow_runs::find(&mut *tx, org, workflow_run)
        .await?
        .ok_or(Error::NotFound)?;
    if !RunStatus::is_completed(&run.status) {
        return Err(Error::conflict(
            "run_in_progress",
            "only a completed run can be re-run",
        ));
    }
    let job = jobs::push(
        &mut tx,
        &RerunWorkflow {
            org_id: org,
            workflow_run_id: workflow_run,
            failed_only,
        },
    )
    .await?;
    job_rows::record_for_org(&mut *tx, org, &job, "rerun_workflow").await?;
    audit(
        &mut *tx,
        meta,
        NewEntry::success(AuditAction::WorkflowRunRerun)
            .org(org)
            .actor(actor)
            .resource(AuditResource::WorkflowRun, workflow_run)
            .meta(json!({"run_id": run.run_id, "failed_only": failed_only})),
    )
    .await?;
    tx.commit().await?;
    Ok(job)
}
