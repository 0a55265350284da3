//! `slack`: a Slack workspace, by a pasted bot token or "Add to Slack" (OAuth v2, with token
//! rotation: `integrations::refresh_token`); tested with `auth.test`.

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value, json};

use super::{Attempt, BoxFuture, Provider, RefreshCx, RefreshFailure, Refreshed, TestCx};
use crate::{
    domain::IntegrationKind,
    integrations::{
        Failure, Tester,
        catalogue::{IntegrationType, object},
        testers::str_field,
    },
    slack::{SlackError, SlackGrant},
};

/// The credentials a Slack grant gives: its bot token and, with token rotation, its refresh token
/// (a grant without one keeps `previous_refresh`).
pub(crate) fn grant_credentials(
    grant: &SlackGrant,
    previous_refresh: Option<&str>,
) -> Map<String, Value> {
    let mut creds = Map::new();
    creds.insert("bot_token".into(), json!(grant.bot_token.expose_secret()));
    let refresh = grant
        .refresh_token
        .as_ref()
        .map(|r| r.expose_secret().to_owned())
        .or(previous_refresh.map(str::to_owned));
    if let Some(r) = refresh {
        creds.insert("refresh_token".into(), json!(r));
    }
    creds
}

/// When a grant's bot token expires (token rotation), if it does.
pub(crate) fn grant_expiry(grant: &SlackGrant) -> Option<DateTime<Utc>> {
    grant
        .expires_in_secs
        .map(|s| crate::remote_time::expires_at(Utc::now(), s))
}

pub struct Slack;

impl Provider for Slack {
    fn kind(&self) -> IntegrationKind {
        IntegrationKind::Slack
    }

    fn entry(&self) -> IntegrationType {
        IntegrationType {
            kind: self.kind(),
            title: "Slack",
            description: "A Slack workspace: a bot token pasted here, or connected with \"Add to Slack\" \
                          (OAuth v2, token rotation supported).",
            connection_test: "auth.test with the bot token",
            oauth: true,
            config_schema: object(
                json!({
                    "team_id": {"type": "string", "maxLength": 64},
                    "team_name": {"type": "string", "maxLength": 200},
                    "alert_channel": {"type": "string", "pattern": "^(#[a-z0-9._-]{1,80}|[CG][A-Z0-9]{2,20})$",
                        "description": "Where integration health alerts are posted (#name or a channel id)"}
                }),
                &[],
            ),
            credentials_schema: object(
                json!({
                    "bot_token": {"type": "string", "pattern": "^(xoxb-|xoxe\\.xoxb-)[A-Za-z0-9-]+$", "maxLength": 512, "writeOnly": true},
                    "refresh_token": {"type": "string", "pattern": "^xoxe-[A-Za-z0-9-]+$", "maxLength": 512, "writeOnly": true}
                }),
                &["bot_token"],
            ),
        }
    }

    fn refreshes_tokens(&self) -> bool {
        true
    }

    /// `oauth.v2.access` with `grant_type=refresh_token`; the grant's new refresh token replaces
    /// the used one.
    fn refresh<'a>(
        &'a self,
        cx: &'a RefreshCx<'a>,
        credentials: &'a Map<String, Value>,
    ) -> BoxFuture<'a, Result<Refreshed, RefreshFailure>> {
        Box::pin(async move {
            let Some(refresh) = str_field(credentials, "refresh_token") else {
                return Err(RefreshFailure::NotRefreshable);
            };
            match cx
                .slack
                .refresh_token(&SecretString::from(refresh.to_owned()))
                .await
            {
                Ok(grant) => Ok(Refreshed {
                    credentials: grant_credentials(&grant, Some(refresh)),
                    expires_at: grant_expiry(&grant),
                }),
                Err(SlackError::Auth(code)) => Err(RefreshFailure::Refused {
                    message: format!("Slack refused the refresh token: {code}"),
                    code,
                }),
                Err(e) => Err(RefreshFailure::Unavailable(format!(
                    "token refresh failed: {e}"
                ))),
            }
        })
    }

    fn test<'a>(&'a self, t: &'a Tester, cx: &'a TestCx<'a>) -> BoxFuture<'a, Attempt> {
        Box::pin(async move {
            let creds = cx.creds;
            let token = str_field(creds, "bot_token").unwrap_or_default();
            let req = t
                .http
                .post(format!("{}/auth.test", t.slack_api))
                .bearer_auth(token);
            let answer = Tester::json("Slack", t.send("Slack", req).await?).await?;
            if answer["ok"].as_bool() == Some(true) {
                return Ok(json!({
                    "team": answer["team"], "team_id": answer["team_id"],
                    "user": answer["user"], "bot_id": answer["bot_id"],
                }));
            }
            let code = answer["error"]
                .as_str()
                .unwrap_or("unknown_error")
                .to_owned();
            Err(match crate::slack::classify(&code) {
                _ if code == "token_expired" => Failure::Expired(format!("Slack: {code}")),
                crate::slack::SlackError::Auth(_) => Failure::Rejected(format!("Slack: {code}")),
                crate::slack::SlackError::Transient(_) => Failure::Transient {
                    message: format!("Slack: {code}"),
                    retry_after: None,
                },
                crate::slack::SlackError::Rejected(_) => Failure::Failed(format!("Slack: {code}")),
            })
        })
    }
}
