//! The kind-specific parts of an integration's page: a Slack workspace's alert channel, picked
//! from the channels its bot sees (so a typo cannot drop alerts), and an Argo CD server's
//! applications as its syncs copied them.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use common::{
    domain::{IntegrationId, IntegrationKind, OrgId, Permission},
    integrations::{self as integ, Acting, ArgoSettings, IntegrationPatch},
    repo::{
        applications::Filter,
        integrations::{self, Integration},
    },
};
use serde::Deserialize;
use serde_json::Value;

use super::{
    home::OrgCtx,
    integration_detail::detail_page,
    page::{ConsoleError, render},
    session::{Console, Posted, Signed, urlencode},
};
use crate::{error::ApiError, extract::Client, state::AppState};

/// The applications the page lists (newest first).
const APPS_SHOWN: i64 = 100;

/// One Argo CD application, as the page shows it.
pub struct AppRow {
    pub name: String,
    pub namespace: String,
    pub project: String,
    pub health: String,
    pub sync: String,
    pub phase: String,
    pub message: String,
    pub finished: String,
    /// Its page in Argo CD's web interface.
    pub link: String,
}

/// A channel of the Slack workspace, as an option of the alert channel select.
pub struct ChannelOption {
    pub id: String,
    pub name: String,
    pub selected: bool,
}

/// The Slack alert channel section.
pub struct AlertChannel {
    /// The stored `alert_channel` (an id or `#name`), empty when none.
    pub current: String,
    /// The current channel's name when the workspace lists it.
    pub current_name: String,
    /// The workspace's channels when its bot could list them (else the channel is typed).
    pub channels: Option<Vec<ChannelOption>>,
    pub can_manage: bool,
    pub error: Option<String>,
    /// Health alerts are posted with the organisation's first usable Slack integration: the name
    /// of that other one when it is not this one.
    pub used_instead: Option<String>,
}

/// The Argo CD applications of `i` (`None` for other kinds), through the same function as
/// `GET …/integrations/{id}/applications`.
pub async fn applications(
    state: &AppState,
    org: OrgId,
    i: &Integration,
) -> Result<Option<Vec<AppRow>>, ConsoleError> {
    if i.kind != IntegrationKind::ArgoCd {
        return Ok(None);
    }
    let filter = Filter {
        health: None,
        sync: None,
        include_removed: false,
        before: None,
        limit: APPS_SHOWN,
    };
    let settings = ArgoSettings::of(&i.config);
    let rows = integ::applications_of(&state.services.pool, org, i.id, &filter).await?;
    Ok(Some(
        rows.into_iter()
            .map(|a| AppRow {
                link: settings.app_link(&a.app_namespace, &a.name),
                name: a.name,
                namespace: a.app_namespace,
                project: a.project.unwrap_or_default(),
                health: a.health_status.to_string(),
                sync: a.sync_status.to_string(),
                phase: a.operation_phase.unwrap_or_default(),
                message: a.operation_message.unwrap_or_default(),
                finished: a
                    .operation_finished_at
                    .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                    .unwrap_or_default(),
            })
            .collect(),
    ))
}

/// Whether the stored or chosen `value` names channel `id`/`name`.
fn names(value: &str, id: &str, name: &str) -> bool {
    value == id || value.strip_prefix('#') == Some(name)
}

/// The alert channel section of a Slack integration (`None` for other kinds); the workspace's
/// channels are listed only for those who may change it.
pub async fn alert_channel(
    state: &AppState,
    org: OrgId,
    i: &Integration,
    can_manage: bool,
) -> Result<Option<AlertChannel>, ConsoleError> {
    if i.kind != IntegrationKind::Slack {
        return Ok(None);
    }
    let current = i
        .config
        .get("alert_channel")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let listed = if can_manage {
        integ::slack_channels_of(&state.services, org, i.id).await?
    } else {
        None
    };
    let pool = &state.services.pool;
    let used_instead = match integrations::usable_of_kind(pool, org, IntegrationKind::Slack).await?
    {
        Some(used) if used.id != i.id => integrations::find(pool, org, used.id)
            .await?
            .map(|u| u.name),
        _ => None,
    };
    let current_name = listed
        .iter()
        .flatten()
        .find(|c| names(&current, &c.id, &c.name))
        .map(|c| c.name.clone())
        .unwrap_or_default();
    let channels = listed.map(|list| {
        list.into_iter()
            .map(|c| ChannelOption {
                selected: names(&current, &c.id, &c.name),
                id: c.id,
                name: c.name,
            })
            .collect()
    });
    Ok(Some(AlertChannel {
        current,
        current_name,
        channels,
        can_manage,
        error: None,
        used_instead,
    }))
}

#[derive(Deserialize)]
pub struct AlertIn {
    #[serde(default)]
    alert_channel: String,
}

/// `POST /orgs/{slug}/integrations/{id}/alert-channel`: a Slack integration's alert channel. With
/// the workspace's channels listed, only a listed one (or none) is taken; typed, it is checked by
/// the type's schema as the API checks it.
pub async fn save_alert_channel(
    State(state): State<AppState>,
    Client(meta): Client,
    Console(signed): Console,
    Path((slug, id)): Path<(String, String)>,
    Posted { form, .. }: Posted<AlertIn>,
) -> Result<Response, ConsoleError> {
    let (org, _) = OrgCtx::load(&state, &signed, &slug, "Integration").await?;
    org.require(Permission::IntegrationsManage)?;
    let iid = ConsoleError::page_id::<IntegrationId>(&id)?;
    let current = integrations::find(&state.services.pool, org.id, iid)
        .await?
        .filter(|i| i.kind == IntegrationKind::Slack)
        .ok_or_else(ConsoleError::not_found)?;
    let chosen = form.alert_channel.trim().to_owned();
    if !chosen.is_empty()
        && let Some(list) = integ::slack_channels_of(&state.services, org.id, iid).await?
        && !list.iter().any(|c| c.id == chosen)
    {
        let problem = "Pick a channel from the list: the workspace has no channel with that id.";
        return refused(&state, &signed, (&slug, &id), &form.alert_channel, problem).await;
    }
    let mut config = current.config.as_object().cloned().unwrap_or_default();
    if chosen.is_empty() {
        config.remove("alert_channel");
    } else {
        config.insert("alert_channel".into(), Value::String(chosen));
    }
    let by = Acting {
        meta: &meta,
        org: org.id,
        actor: signed.caller.user_id,
    };
    let patch = IntegrationPatch {
        name: None,
        config: Some(Value::Object(config)),
    };
    match integ::update(&state.services, &by, iid, patch).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/orgs/{}/integrations/{iid}?notice=alert_channel_saved",
            urlencode(&org.slug)
        ))
        .into_response()),
        Err(e @ common::Error::InvalidFields(_)) => {
            let problem = super::page::field_errors(&ApiError::from(e))
                .get("config.alert_channel")
                .cloned()
                .unwrap_or_else(|| "is not a channel id or #name".to_owned());
            let message = format!("Alert channel {problem}.");
            refused(&state, &signed, (&slug, &id), &form.alert_channel, &message).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The page again with `message` beside the alert channel and what was typed kept (askama
/// escapes it), as 422.
async fn refused(
    state: &AppState,
    signed: &Signed,
    (slug, id): (&str, &str),
    typed: &str,
    message: &str,
) -> Result<Response, ConsoleError> {
    let mut page = detail_page(state, signed, slug, id, None).await?;
    if let Some(a) = page.alert.as_mut() {
        a.error = Some(message.to_owned());
        a.current = typed.chars().take(200).collect();
    }
    Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
}
