//! Health alerts in Slack: an integration entering `error`, or back to `active` from it, posted to
//! the `alert_channel` of the organisation's Slack integration (when it has one), once per job.

use serde_json::Value;

use super::{
    SlackToken, bot_token_of, mark_refused,
    providers::RefreshCx,
    refresh::{OnRefusal, RefreshRequest, refresh_token},
};
use crate::{
    Error,
    domain::{IntegrationKind, OrgId},
    github::{RefreshOutcome, RefreshWhen},
    jobs::{JobId, NotifyIntegrationHealth},
    repo::integrations::{self, CheckAlert},
    services::Services,
    slack::{SlackError, escape},
};

/// The alert's text.
pub fn message(a: &CheckAlert) -> String {
    let name = escape(&a.name);
    if a.ok {
        format!(
            ":large_green_circle: The {} integration \"{name}\" is healthy again.",
            a.kind
        )
    } else {
        format!(
            ":red_circle: The {} integration \"{name}\" is failing: {}",
            a.kind,
            escape(a.error.as_deref().unwrap_or("unknown error"))
        )
    }
}

/// Posts the job's alert; nothing to do without a usable Slack integration with an
/// `alert_channel`.
pub async fn post_alert(
    services: &Services,
    job_id: &JobId,
    job: &NotifyIntegrationHealth,
) -> Result<&'static str, Error> {
    let (pool, keyring) = (&services.pool, &services.keyring);
    let org = job.org_id;
    let Some(alert) = integrations::check_alert(pool, org, job.check_id).await? else {
        return Ok("check deleted");
    };
    if alert.current_status != alert.status_after {
        // A later transition has its own alert; this one (retried late) would only mislead.
        return Ok("superseded");
    }
    let Some(target) = integrations::usable_of_kind(pool, org, IntegrationKind::Slack).await?
    else {
        return Ok("no Slack integration");
    };
    let Some(channel) = target.config.get("alert_channel").and_then(Value::as_str) else {
        return Ok("no alert channel");
    };
    let token = bot_token_of(pool, keyring, &target, "health_alert").await?;
    let text = message(&alert);
    match crate::slack::post_once(services, job_id, &token.token, channel, &text).await? {
        Ok(outcome) => Ok(outcome),
        Err(e) => Err(slack_post_error(services, org, &token, e).await),
    }
}

/// What a failed post with the organisation's Slack integration means for the posting job:
/// - unavailable → `Upstream` (the job retries);
/// - an expired rotating token → refreshed now, then `Upstream` (the retry uses the new one);
/// - refused credentials → the integration becomes `reauth_required`, and the job stops;
/// - anything else Slack rejects (`channel_not_found`, …) → the job stops.
pub async fn slack_post_error(
    services: &Services,
    org: OrgId,
    used: &SlackToken,
    e: SlackError,
) -> Error {
    let pool = &services.pool;
    let integration = used.integration;
    let refused = used.sealed.as_deref();
    let outcome: Result<Error, Error> = async {
        Ok(match e {
            SlackError::Transient(m) => Error::Upstream {
                provider: crate::domain::Upstream::Slack,
                message: m,
            },
            SlackError::Auth(code) if code == "token_expired" => {
                let cx = RefreshCx::of(services);
                let now_marking_refusal = RefreshRequest {
                    when: RefreshWhen::Now,
                    on_refusal: OnRefusal::MarkReauthRequired,
                };
                match refresh_token(&cx, org, integration, now_marking_refusal).await? {
                    RefreshOutcome::Refreshed | RefreshOutcome::AlreadyFresh => Error::Upstream {
                        provider: crate::domain::Upstream::Slack,
                        message: "the bot token had expired; refreshed, retrying".into(),
                    },
                    RefreshOutcome::NotRefreshable | RefreshOutcome::ReauthRequired => {
                        let mut conn = pool.acquire().await?;
                        let why = "Slack: token_expired, and it cannot be refreshed";
                        mark_refused(&mut conn, org, integration, refused, why).await?;
                        Error::rejected("slack_auth", why)
                    }
                }
            }
            SlackError::Auth(code) => {
                let why = format!("Slack refused the bot token: {code}");
                let mut conn = pool.acquire().await?;
                mark_refused(&mut conn, org, integration, refused, &why).await?;
                Error::rejected("slack_auth", why)
            }
            SlackError::Rejected(code) => Error::rejected("slack_rejected", code),
        })
    }
    .await;
    match outcome {
        Ok(e) | Err(e) => e,
    }
}
