//! Deployment incidents from an Argo CD sync: an application `Degraded` or `Missing` opens one, so
//! does one `OutOfSync` for longer than the integration's grace; a change of a broken state is an
//! occurrence (throttled "still failing" notifications); `Healthy` and `Synced` again resolves it.
//! Keyed by integration and application, decided in the sync's transaction (serialised per key),
//! so a repeated sync of the same state adds nothing. Only applications the server reported are
//! decided: data that did not come never opens or resolves anything.

use chrono::Utc;
use serde_json::{Value, json};
use sqlx::PgConnection;

use super::{
    effect::{self, Effect},
    notify::{Notice, deployment_channels, fan_out},
};
use crate::{
    Error,
    domain::{AppHealth, AppSync, EventKind, IncidentSource, Severity, Transition},
    integrations::providers::argocd::ArgoSettings,
    repo::{
        applications::Application,
        incidents::{self, Moved, NewDeploymentIncident},
        integrations::Sealed,
    },
};

/// What a sync's evaluation did to incidents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeploymentOutcome {
    pub opened: usize,
    pub grouped: usize,
    pub resolved: usize,
}

/// The incident key of an application: its integration and its id there.
pub fn key_of(app: &Application) -> String {
    format!("argocd:{}:{}", app.integration_id, app.id)
}

/// Why the application is an incident now, if it is.
fn broken(app: &Application, grace_secs: i64) -> Option<(Severity, String)> {
    if app.health_status.is_broken() {
        return Some((Severity::High, format!("health is {}", app.health_status)));
    }
    let since = app.out_of_sync_since?;
    let grace = chrono::Duration::seconds(grace_secs);
    (app.sync_status == AppSync::OutOfSync && Utc::now() - since >= grace).then(|| {
        (
            Severity::Medium,
            format!("OutOfSync for more than {grace_secs} s"),
        )
    })
}

/// The application's state as an incident records it: a change of it is a new occurrence.
fn state(app: &Application) -> Value {
    json!({
        "health_status": app.health_status,
        "sync_status": app.sync_status,
        "sync_revision": app.sync_revision,
        "operation_phase": app.operation_phase,
        "operation_finished_at": app.operation_finished_at,
    })
}

/// The incident's context: the conditions, the last operation's message and a link to the
/// application in Argo CD.
fn context(settings: &ArgoSettings, app: &Application, why: &str) -> Value {
    json!({
        "summary": format!("{} in Argo CD: {why}", app.name),
        "application": {"name": app.name, "namespace": app.app_namespace, "project": app.project,
                        "destination": {"server": app.dest_server, "namespace": app.dest_namespace,
                                        "name": app.dest_name},
                        "source": {"repo_url": app.repo_url, "path": app.path,
                                   "target_revision": app.target_revision}},
        "conditions": app.conditions,
        "operation": {"phase": app.operation_phase, "message": app.operation_message,
                      "finished_at": app.operation_finished_at},
        "link": settings.app_link(&app.app_namespace, &app.name),
        "state": state(app),
    })
}

fn event_data(settings: &ArgoSettings, app: &Application) -> Value {
    json!({
        "application_id": app.id,
        "application": app.name,
        "health_status": app.health_status,
        "sync_status": app.sync_status,
        "operation_message": app.operation_message,
        "link": settings.app_link(&app.app_namespace, &app.name),
    })
}

/// Decides every reported application of the integration (in the sync's transaction).
pub async fn evaluate_deployments(
    tx: &mut PgConnection,
    window_secs: i64,
    integration: &Sealed,
    settings: &ArgoSettings,
    apps: &[Application],
) -> Result<DeploymentOutcome, Error> {
    let mut outcome = DeploymentOutcome::default();
    let mut channels: Option<Vec<String>> = None;
    for app in apps {
        let org = app.org_id;
        let key = key_of(app);
        incidents::lock_key(tx, org, &key).await?;
        let open = incidents::open_for_key(tx, org, &key).await?;
        let healthy = app.health_status == AppHealth::Healthy && app.sync_status == AppSync::Synced;
        let decided = match (broken(app, settings.out_of_sync_grace), open) {
            (Some((severity, why)), None) => {
                let title = format!(
                    "{} is {} in Argo CD ({})",
                    app.name,
                    if app.health_status.is_broken() {
                        app.health_status.as_str()
                    } else {
                        app.sync_status.as_str()
                    },
                    settings.server
                );
                let ctx = context(settings, app, &why);
                let id = incidents::insert_deployment(
                    tx,
                    &NewDeploymentIncident {
                        org,
                        integration: integration.id,
                        application: app.id,
                        dedupe_key: &key,
                        title: &title,
                        severity,
                        context: &ctx,
                    },
                )
                .await?;
                outcome.opened += 1;
                Some((id, title, EventKind::Opened, Some(why)))
            }
            (Some((_, why)), Some(incident)) => {
                let before = incident.context.as_ref().map(|c| c["state"].clone());
                if before.as_ref() == Some(&state(app)) {
                    None
                } else {
                    incidents::bump_occurrence(tx, org, incident.id).await?;
                    incidents::set_context(tx, org, incident.id, &context(settings, app, &why))
                        .await?;
                    outcome.grouped += 1;
                    Some((
                        incident.id,
                        incident.title,
                        EventKind::Occurrence,
                        Some(why),
                    ))
                }
            }
            (None, Some(incident)) if healthy => {
                let why = format!("{} is Healthy and Synced in Argo CD", app.name);
                let by = Moved {
                    actor: None,
                    resolution: Some(&why),
                };
                incidents::transition(tx, org, incident.id, Transition::RESOLVE, by).await?;
                outcome.resolved += 1;
                Some((incident.id, incident.title, EventKind::Resolved, Some(why)))
            }
            _ => None,
        };
        let Some((id, title, kind, body)) = decided else {
            continue;
        };
        let mut data = event_data(settings, app);
        if kind == EventKind::Resolved {
            data["automatic"] = json!(true);
        }
        if kind == EventKind::Occurrence {
            let n = incidents::find(&mut *tx, org, id)
                .await?
                .map_or(0, |i| i.occurrence_count);
            data["occurrence_count"] = json!(n);
        }
        let audit = json!({"source": IncidentSource::Argocd, "integration_id": app.integration_id,
                           "application_id": app.id, "application": app.name});
        let effect = Effect {
            incident: id,
            kind,
            body,
            data,
            audit,
        };
        let (event, notify) = effect::record(tx, org, window_secs, effect).await?;
        if let Some(kind) = notify {
            if channels.is_none() {
                channels = Some(deployment_channels(tx, org, &integration.config).await?);
            }
            let to = channels.as_deref().unwrap_or_default();
            let notice = Notice {
                incident: id,
                event,
                kind,
                title: &title,
            };
            fan_out(tx, org, to, notice).await?;
        }
    }
    Ok(outcome)
}
