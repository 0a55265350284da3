//! Slack OAuth v2 ("Add to Slack"): the authorize link, exchanging the code at `oauth.v2.access`
//! for a bot token, and refreshing rotating tokens (`grant_type=refresh_token`).

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::{Slack, SlackError, classify};

/// What Slack granted: the bot token and, with token rotation on, its refresh token and lifetime.
#[derive(Debug)]
pub struct SlackGrant {
    pub bot_token: SecretString,
    pub refresh_token: Option<SecretString>,
    pub expires_in_secs: Option<i64>,
    pub team_id: Option<String>,
    pub team_name: Option<String>,
    pub bot_user_id: Option<String>,
    pub scope: Option<String>,
}

#[derive(Deserialize)]
struct Team {
    id: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize)]
struct AccessAnswer {
    ok: bool,
    error: Option<String>,
    access_token: Option<String>,
    token_type: Option<String>,
    refresh_token: Option<String>,
    expires_in: Option<i64>,
    team: Option<Team>,
    bot_user_id: Option<String>,
    scope: Option<String>,
}

impl Slack {
    fn client(&self) -> Result<(&str, &SecretString), SlackError> {
        match (&self.config.client_id, &self.config.client_secret) {
            (Some(id), Some(secret)) => Ok((id, secret)),
            _ => Err(SlackError::Rejected(
                "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are not set".into(),
            )),
        }
    }

    /// Whether "Add to Slack" is configured.
    pub fn oauth_enabled(&self) -> bool {
        self.client().is_ok()
    }

    /// Slack's authorize page for this `state`, returning to `redirect_uri`.
    pub fn authorize_url(&self, state: &str, redirect_uri: &str) -> Result<String, SlackError> {
        let (client_id, _) = self.client()?;
        let mut url = self.config.authorize_url.clone();
        url.query_pairs_mut()
            .append_pair("client_id", client_id)
            .append_pair("scope", &self.config.scopes)
            .append_pair("state", state)
            .append_pair("redirect_uri", redirect_uri);
        Ok(url.to_string())
    }

    /// Exchanges an authorization code for the workspace's bot token.
    pub async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
    ) -> Result<SlackGrant, SlackError> {
        self.access(&[("code", code), ("redirect_uri", redirect_uri)])
            .await
    }

    /// Trades a (single-use) refresh token for a new bot token and refresh token.
    pub async fn refresh_token(&self, refresh: &SecretString) -> Result<SlackGrant, SlackError> {
        self.access(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.expose_secret()),
        ])
        .await
    }

    async fn access(&self, form: &[(&str, &str)]) -> Result<SlackGrant, SlackError> {
        let (client_id, secret) = self.client()?;
        let res = self
            .http
            .post(format!("{}/oauth.v2.access", self.api_url))
            .basic_auth(client_id, Some(secret.expose_secret()))
            .form(form)
            .send()
            .await
            .map_err(|e| SlackError::Transient(e.without_url().to_string()))?;
        let status = res.status();
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            return Err(SlackError::Transient(format!("HTTP {status}")));
        }
        let answer: AccessAnswer = res.json().await.map_err(|_| {
            SlackError::Transient(format!(
                "unexpected answer from oauth.v2.access (HTTP {status})"
            ))
        })?;
        if !answer.ok {
            let code = answer.error.unwrap_or_else(|| "unknown_error".into());
            return Err(match code.as_str() {
                // The grant itself is dead: the workspace must be connected again.
                "invalid_refresh_token"
                | "invalid_grant"
                | "invalid_code"
                | "code_already_used"
                | "bad_redirect_uri" => SlackError::Auth(code),
                _ => classify(&code),
            });
        }
        let bot_token = answer
            .access_token
            .filter(|_| answer.token_type.as_deref().is_none_or(|t| t == "bot"))
            .ok_or_else(|| SlackError::Rejected("oauth.v2.access returned no bot token".into()))?;
        Ok(SlackGrant {
            bot_token: SecretString::from(bot_token),
            refresh_token: answer.refresh_token.map(SecretString::from),
            expires_in_secs: answer.expires_in,
            team_id: answer.team.as_ref().and_then(|t| t.id.clone()),
            team_name: answer.team.and_then(|t| t.name),
            bot_user_id: answer.bot_user_id,
            scope: answer.scope,
        })
    }
}
