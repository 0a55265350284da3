//! Deciding what a completed run attempt means for its workflow's incident. One evaluation per
//! attempt (recorded on the attempt), serialised per dedupe key, all in one transaction with the
//! notifications and jobs it causes, so a redelivery or a retried job never adds anything twice.

use serde_json::json;
use sqlx::{PgConnection, PgPool};

use super::{
    effect::{self, Effect},
    notify::{Notice, fan_out, repo_channels},
};
use crate::{
    Error,
    domain::{
        Conclusion, Evaluation, EventKind, IncidentId, OrgId, RunStatus, Severity, Transition,
        WorkflowRunId,
    },
    jobs::{self, IncidentContext},
    repo::{
        incidents::{self, Moved, NewIncident},
        repositories::{self, Repository},
        workflow_runs::{self, WorkflowRun},
    },
};

/// Evaluates the organisation's run attempt `id` once it has completed; returns what happened
/// (an [`Evaluation`], `in_progress`, or `already …`).
pub async fn evaluate(
    pool: &PgPool,
    notify_window_secs: i64,
    org: OrgId,
    id: WorkflowRunId,
) -> Result<String, Error> {
    let mut tx = pool.begin().await?;
    let run = workflow_runs::lock(&mut tx, org, id)
        .await?
        .ok_or(Error::NotFound)?;
    if let Some(done) = &run.evaluation {
        return Ok(format!("already {done}"));
    }
    if !RunStatus::is_completed(&run.status) {
        return Ok("in_progress".into());
    }
    let key = format!("{}:{}:{}", run.repository_id, run.workflow_id, run.branch);
    incidents::lock_key(&mut tx, run.org_id, &key).await?;
    let outcome = decide(&mut tx, notify_window_secs, &run, &key).await?;
    workflow_runs::set_evaluation(&mut tx, run.org_id, run.id, outcome).await?;
    tx.commit().await?;
    Ok(outcome.to_string())
}

fn run_data(run: &WorkflowRun) -> serde_json::Value {
    json!({
        "workflow_run_id": run.id,
        "run_id": run.run_id,
        "run_number": run.run_number,
        "run_attempt": run.run_attempt,
        "conclusion": run.conclusion,
        "head_sha": run.head_sha,
        "commit_author": run.commit_author,
        "html_url": run.html_url,
    })
}

async fn decide(
    tx: &mut PgConnection,
    window_secs: i64,
    run: &WorkflowRun,
    key: &str,
) -> Result<Evaluation, Error> {
    let Some(conclusion) = Conclusion::of(run.conclusion.as_deref()) else {
        return Ok(Evaluation::NoChange);
    };
    let failing = conclusion.is_failure();
    let org = run.org_id;
    if workflow_runs::newer_result_exists(tx, org, run).await? {
        return Ok(Evaluation::Stale);
    }
    let repo = repositories::find(&mut *tx, org, run.repository_id)
        .await?
        .ok_or(Error::NotFound)?;
    let open = incidents::open_for_key(tx, org, key).await?;
    let effect_of = |incident, kind, body, data| Effect {
        incident,
        kind,
        body,
        data,
        audit: json!({"workflow_run_id": run.id, "run_id": run.run_id, "run_attempt": run.run_attempt}),
    };
    let (effect, title, evaluation) = match (failing, open) {
        (true, Some(incident)) => {
            if !incidents::add_occurrence(tx, org, incident.id, run.id).await? {
                return Ok(Evaluation::NoChange);
            }
            let mut data = run_data(run);
            data["occurrence_count"] = json!(incident.occurrence_count + 1);
            let grouped = effect_of(incident.id, EventKind::Occurrence, None, data);
            (grouped, incident.title, Evaluation::Grouped)
        }
        (true, None) if !repo.auto_incident => return Ok(Evaluation::AutoIncidentOff),
        (true, None) => {
            let title = format!(
                "{} failing on {} in {}",
                run.workflow_name, run.branch, repo.full_name
            );
            let id = incidents::insert(
                tx,
                &NewIncident {
                    org,
                    repository: repo.id,
                    dedupe_key: key,
                    workflow_id: run.workflow_id,
                    workflow_name: &run.workflow_name,
                    branch: &run.branch,
                    title: &title,
                    severity: severity(&repo, run),
                    head_sha: &run.head_sha,
                    suspect_author: run.commit_author.as_deref(),
                    suspect_message: run.commit_message.as_deref(),
                },
            )
            .await?;
            incidents::add_occurrence(tx, org, id, run.id).await?;
            let opened = effect_of(id, EventKind::Opened, None, run_data(run));
            (opened, title, Evaluation::Opened)
        }
        (false, Some(incident)) => {
            let why = format!(
                "{} run #{} (attempt {}) succeeded on {}",
                run.workflow_name, run.run_number, run.run_attempt, run.branch
            );
            let by = Moved {
                actor: None,
                resolution: Some(&why),
            };
            incidents::transition(tx, org, incident.id, Transition::RESOLVE, by).await?;
            let mut data = run_data(run);
            data["automatic"] = json!(true);
            let resolved = effect_of(incident.id, EventKind::Resolved, Some(why), data);
            (resolved, incident.title, Evaluation::Resolved)
        }
        (false, None) => return Ok(Evaluation::NoChange),
    };
    let incident = effect.incident;
    let (event, notify) = effect::record(tx, org, window_secs, effect).await?;
    if failing {
        fetch_context(tx, run, incident).await?;
    }
    if let Some(notification) = notify {
        let channels = repo_channels(&repo);
        let notice = Notice {
            incident,
            event,
            kind: notification,
            title: &title,
        };
        fan_out(tx, org, &channels, notice).await?;
    }
    Ok(evaluation)
}

/// Failures on the default branch are `high`; elsewhere `medium`.
fn severity(repo: &Repository, run: &WorkflowRun) -> Severity {
    if repo.default_branch.as_deref() == Some(run.branch.as_str()) {
        Severity::High
    } else {
        Severity::Medium
    }
}

async fn fetch_context(
    tx: &mut PgConnection,
    run: &WorkflowRun,
    incident: IncidentId,
) -> Result<(), Error> {
    jobs::push(
        tx,
        &IncidentContext {
            org_id: run.org_id,
            incident_id: incident,
            workflow_run_id: run.id,
        },
    )
    .await?;
    Ok(())
}
