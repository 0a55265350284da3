//! Deciding what a completed run attempt means for its workflow's incident. One evaluation per
//! attempt (recorded on the attempt), serialised per dedupe key, all in one transaction with the
//! notifications and jobs it causes, so a redelivery or a retried job never adds anything twice.

use serde_json::json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::notify::fan_out;
use crate::{
    Error,
    jobs::{self, IncidentContext},
    repo::{
        audit_logs::{self, NewEntry},
        incidents::{self, NewIncident},
        repositories::{self, Repository},
        workflow_runs::{self, WorkflowRun},
    },
};

/// Evaluates the run attempt `id` once it has completed; returns what happened (`opened`,
/// `grouped`, `resolved`, `stale`, `no_change`, `auto_incident_off`, or `already …`).
pub async fn evaluate(pool: &PgPool, notify_window_secs: i64, id: Uuid) -> Result<String, Error> {
    let mut tx = pool.begin().await?;
    let run = workflow_runs::lock(&mut tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    if let Some(done) = &run.evaluation {
        return Ok(format!("already {done}"));
    }
    if run.status != "completed" {
        return Ok("in_progress".into());
    }
    let key = format!("{}:{}:{}", run.repository_id, run.workflow_id, run.branch);
    incidents::lock_key(&mut tx, run.org_id, &key).await?;
    let outcome = decide(&mut tx, notify_window_secs, &run, &key).await?;
    workflow_runs::set_evaluation(&mut tx, run.org_id, run.id, outcome).await?;
    tx.commit().await?;
    Ok(outcome.to_owned())
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
) -> Result<&'static str, Error> {
    let failing = matches!(run.conclusion.as_deref(), Some("failure" | "timed_out"));
    if !failing && run.conclusion.as_deref() != Some("success") {
        return Ok("no_change");
    }
    if workflow_runs::newer_result_exists(tx, run).await? {
        return Ok("stale");
    }
    let org = run.org_id;
    let repo = repositories::find(&mut *tx, org, run.repository_id)
        .await?
        .ok_or(Error::NotFound)?;
    let open = incidents::open_for_key(tx, org, key).await?;
    match (failing, open) {
        (true, Some(incident)) => {
            if !incidents::add_occurrence(tx, org, incident.id, run.id).await? {
                return Ok("no_change");
            }
            let mut data = run_data(run);
            data["occurrence_count"] = json!(incident.occurrence_count + 1);
            let event =
                incidents::add_event(tx, org, incident.id, "occurrence", None, None, data).await?;
            record(tx, run, incident.id, "incident.occurrence").await?;
            fetch_context(tx, run, incident.id).await?;
            if incidents::take_notify_slot(tx, org, incident.id, window_secs).await? {
                fan_out(
                    tx,
                    &repo,
                    incident.id,
                    event,
                    "still_failing",
                    &incident.title,
                )
                .await?;
            }
            Ok("grouped")
        }
        (true, None) if !repo.auto_incident => Ok("auto_incident_off"),
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
            let event =
                incidents::add_event(tx, org, id, "opened", None, None, run_data(run)).await?;
            record(tx, run, id, "incident.open").await?;
            fetch_context(tx, run, id).await?;
            fan_out(tx, &repo, id, event, "opened", &title).await?;
            Ok("opened")
        }
        (false, Some(incident)) => {
            let why = format!(
                "{} run #{} (attempt {}) succeeded on {}",
                run.workflow_name, run.run_number, run.run_attempt, run.branch
            );
            incidents::transition(
                tx,
                org,
                incident.id,
                &["open", "acknowledged"],
                "resolved",
                None,
                Some(&why),
            )
            .await?;
            let mut data = run_data(run);
            data["automatic"] = json!(true);
            let event =
                incidents::add_event(tx, org, incident.id, "resolved", None, Some(&why), data)
                    .await?;
            record(tx, run, incident.id, "incident.auto_resolve").await?;
            fan_out(tx, &repo, incident.id, event, "resolved", &incident.title).await?;
            Ok("resolved")
        }
        (false, None) => Ok("no_change"),
    }
}

/// Failures on the default branch are `high`; elsewhere `medium`.
fn severity(repo: &Repository, run: &WorkflowRun) -> &'static str {
    if repo.default_branch.as_deref() == Some(run.branch.as_str()) {
        "high"
    } else {
        "medium"
    }
}

async fn record(
    tx: &mut PgConnection,
    run: &WorkflowRun,
    incident: Uuid,
    action: &str,
) -> Result<(), Error> {
    audit_logs::insert(
        &mut *tx,
        &NewEntry::success(action)
            .org(run.org_id)
            .resource("incident", incident)
            .meta(json!({"workflow_run_id": run.id, "run_id": run.run_id, "run_attempt": run.run_attempt})),
    )
    .await
}

async fn fetch_context(
    tx: &mut PgConnection,
    run: &WorkflowRun,
    incident: Uuid,
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
