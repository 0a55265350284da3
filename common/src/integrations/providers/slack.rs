//! `slack`: a Slack workspace, by a pasted bot token or "Add to Slack" (OAuth v2, with token
//! rotation: `integrations::refresh_token`); tested with `auth.test`.

use serde_json::json;

use super::{Attempt, BoxFuture, Provider, TestCx};
use crate::integrations::{
    Failure, Tester,
    catalogue::{IntegrationType, object},
    testers::str_field,
};

pub struct Slack;

impl Provider for Slack {
    fn kind(&self) -> &'static str {
        "slack"
    }

    fn entry(&self) -> IntegrationType {
        IntegrationType {
            kind: self.kind(),
            title: "Slack",
            category: "Chat",
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
