//! Who hears about an incident event: every org admin in the app, and the source's Slack channels
//! (one `notify_slack` job each) when the organisation has a usable Slack integration: a CI
//! incident's repository channels, a deployment incident's `slack_channel` (or the Slack
//! integration's `alert_channel`).

use serde_json::Value;
use sqlx::PgConnection;

use crate::{
    Error,
    domain::{
        EventKind, IncidentEventId, IncidentId, IncidentSource, IntegrationKind, NotificationKind,
        OrgId,
    },
    jobs::{self, NotifySlack},
    repo::{
        incident_events::Event, incidents::Incident, integrations, notifications, repositories,
        repositories::Repository,
    },
};

/// A repository's Slack channels.
pub(super) fn repo_channels(repo: &Repository) -> Vec<String> {
    repo.slack_channels
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c.as_str())
        .map(str::to_owned)
        .collect()
}

/// The Slack channels of a deployment incident: its integration's `slack_channel`, or else the
/// Slack integration's `alert_channel`.
pub(super) async fn deployment_channels(
    tx: &mut PgConnection,
    org: OrgId,
    config: &Value,
) -> Result<Vec<String>, Error> {
    if let Some(c) = config.get("slack_channel").and_then(Value::as_str) {
        return Ok(vec![c.to_owned()]);
    }
    let slack = integrations::usable_of_kind(&mut *tx, org, IntegrationKind::Slack).await?;
    Ok(slack
        .and_then(|s| {
            s.config
                .get("alert_channel")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .into_iter()
        .collect())
}

/// The Slack channels of an incident, by its source.
pub(super) async fn channels_of(
    tx: &mut PgConnection,
    incident: &Incident,
) -> Result<Vec<String>, Error> {
    let org = incident.org_id;
    match incident.source {
        IncidentSource::GithubActions => Ok(match incident.repository_id {
            Some(id) => repositories::find(&mut *tx, org, id)
                .await?
                .map(|r| repo_channels(&r))
                .unwrap_or_default(),
            None => Vec::new(),
        }),
        IncidentSource::Argocd => {
            let Some(id) = incident.integration_id else {
                return Ok(Vec::new());
            };
            let config = integrations::find(&mut *tx, org, id)
                .await?
                .map(|i| i.config)
                .unwrap_or_default();
            deployment_channels(tx, org, &config).await
        }
    }
}

/// A timeline event of an incident that people are told about.
pub(super) struct Notice<'a> {
    pub incident: IncidentId,
    pub event: IncidentEventId,
    pub kind: NotificationKind,
    pub title: &'a str,
}

/// Queues the notifications of the notice's event (in the caller's transaction): the admins in
/// the app, and `channels` in Slack.
pub(super) async fn fan_out(
    tx: &mut PgConnection,
    org: OrgId,
    channels: &[String],
    notice: Notice<'_>,
) -> Result<(), Error> {
    let Notice {
        incident,
        event,
        kind,
        title,
    } = notice;
    notifications::notify_admins(
        tx,
        org,
        notifications::About::Incident(incident),
        kind,
        title,
    )
    .await?;
    if integrations::usable_of_kind(&mut *tx, org, crate::domain::IntegrationKind::Slack)
        .await?
        .is_none()
    {
        return Ok(());
    }
    let channels: Vec<NotifySlack> = channels
        .iter()
        .map(|channel| NotifySlack {
            org_id: org,
            event_id: event,
            channel: channel.clone(),
        })
        .collect();
    if !channels.is_empty() {
        jobs::push_many(tx, &channels).await?;
    }
    Ok(())
}

use crate::slack::escape;

fn field<'a>(event: &'a Event, name: &str) -> Option<&'a serde_json::Value> {
    event.data.get(name).filter(|v| !v.is_null())
}

/// The Slack text for a timeline event of `incident`.
pub fn message(incident: &Incident, event: &Event) -> String {
    let title = escape(&incident.title);
    let run = match (field(event, "run_number"), field(event, "html_url")) {
        (Some(n), Some(url)) => format!(" Run #{n}: {}", escape(url.as_str().unwrap_or_default())),
        (Some(n), None) => format!(" Run #{n}."),
        _ => String::new(),
    };
    match event.kind {
        EventKind::Opened if incident.source == IncidentSource::Argocd => {
            let link = field(event, "link")
                .and_then(|l| l.as_str())
                .map(|l| format!(" {}", escape(l)))
                .unwrap_or_default();
            format!(
                ":red_circle: Incident opened: {title} ({}).{link}",
                incident.severity
            )
        }
        EventKind::Opened => {
            let sha: String = incident
                .head_sha
                .as_deref()
                .unwrap_or_default()
                .chars()
                .take(7)
                .collect();
            let who = incident
                .suspect_author
                .as_deref()
                .map(|a| format!(" by {}", escape(a)))
                .unwrap_or_default();
            format!(
                ":red_circle: Incident opened: {title} ({}). Suspect commit {}{who}.{run}",
                incident.severity,
                escape(&sha)
            )
        }
        EventKind::Occurrence => format!(
            ":repeat: Still failing ({} occurrences): {title}.{run}",
            field(event, "occurrence_count")
                .and_then(|v| v.as_i64())
                .unwrap_or(0)
        ),
        EventKind::Resolved => format!(
            ":large_green_circle: Resolved: {title}. {}",
            escape(event.body.as_deref().unwrap_or("Resolved."))
        ),
        other => format!("{title}: {other}"),
    }
}

/// Posts the `notify_slack` job's message: once per job, even across a crash after Slack accepted
/// it (`slack::post_once`). No usable Slack integration means nothing to do. Slack's transient errors
/// are `Upstream` (retried); refused credentials mark the integration `reauth_required`.
pub async fn post_to_slack(
    services: &crate::services::Services,
    job_id: &crate::jobs::JobId,
    job: &NotifySlack,
) -> Result<&'static str, Error> {
    let (pool, keyring) = (&services.pool, &services.keyring);
    use crate::repo::{incident_events, incidents};
    let org = job.org_id;
    let event = incident_events::find_event(pool, org, job.event_id)
        .await?
        .ok_or(Error::NotFound)?;
    let incident = incidents::find(pool, org, event.incident_id)
        .await?
        .ok_or(Error::NotFound)?;
    let Some(token) =
        crate::integrations::slack_bot_token(pool, keyring, org, "notify_slack").await?
    else {
        return Ok("no Slack integration");
    };
    let text = message(&incident, &event);
    match crate::slack::post_once(services, job_id, &token.token, &job.channel, &text).await? {
        Ok(outcome) => Ok(outcome),
        Err(e) => Err(crate::integrations::slack_post_error(services, org, &token, e).await),
    }
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn slack_control_characters_are_escaped() {
        assert_eq!(
            escape("<!channel> & <https://x|y>"),
            "&lt;!channel&gt; &amp; &lt;https://x|y&gt;"
        );
    }
}
