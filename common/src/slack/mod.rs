//! Slack Web API: `chat.postMessage` with a bot token, and how Slack's answers map to "retry
//! later", "the credentials are dead" and "this request can never work".

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::config::SlackConfig;

mod history;
mod oauth;
mod once;

pub use history::Channel;
pub use oauth::SlackGrant;
pub use once::post_once;

/// The `event_type` of the message metadata RepoPal attaches to what it posts; its
/// `event_payload.idempotency_key` names the intended message.
pub const METADATA_EVENT_TYPE: &str = "repopal_message";

/// Why a Slack call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SlackError {
    /// Network, 5xx, rate limits and Slack's own transient errors: try again later.
    #[error("Slack is unavailable: {0}")]
    Transient(String),
    /// The token is refused (`invalid_auth`, `token_revoked`, …): the integration needs new credentials.
    #[error("Slack refused the credentials: {0}")]
    Auth(String),
    /// Anything else Slack rejects (`channel_not_found`, `not_in_channel`, …): never retried.
    #[error("Slack rejected the request: {0}")]
    Rejected(String),
}

const AUTH_ERRORS: &[&str] = &[
    "invalid_auth",
    "not_authed",
    "token_revoked",
    "token_expired",
    "account_inactive",
    "no_permission",
];
const TRANSIENT_ERRORS: &[&str] = &[
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
];

/// Slack's control characters in text that comes from GitHub, people or other tools (branch
/// names, authors, notes, error messages), so nobody can inject `<!channel>` or links.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Classifies an `ok: false` error code.
pub fn classify(error: &str) -> SlackError {
    if AUTH_ERRORS.contains(&error) {
        SlackError::Auth(error.to_owned())
    } else if TRANSIENT_ERRORS.contains(&error) {
        SlackError::Transient(error.to_owned())
    } else {
        SlackError::Rejected(error.to_owned())
    }
}

#[derive(Deserialize)]
struct Answer {
    ok: bool,
    error: Option<String>,
    ts: Option<String>,
}

/// A Slack Web API client against the configurable `SLACK_API_URL`.
#[derive(Clone)]
pub struct Slack {
    http: reqwest::Client,
    api_url: String,
    pub group_notify_window: Duration,
    /// The Slack app's OAuth settings ("Add to Slack").
    pub config: SlackConfig,
}

impl Slack {
    pub fn new(cfg: &SlackConfig) -> Result<Self, crate::Error> {
        Ok(Self {
            http: crate::services::http_client(
                reqwest::Client::builder()
                    .user_agent("RepoPal")
                    .timeout(Duration::from_secs(15)),
                "the Slack HTTP client",
            )?,
            api_url: cfg.api_url.as_str().trim_end_matches('/').to_owned(),
            group_notify_window: Duration::from_secs(cfg.group_notify_window_secs),
            config: cfg.clone(),
        })
    }

    /// Posts `text` to `channel` (id or `#name`) with `idempotency_key` in the message metadata
    /// (found again by [`Slack::find_keyed`]); returns the message's `ts`.
    pub async fn post_message(
        &self,
        token: &SecretString,
        channel: &str,
        text: &str,
        idempotency_key: &str,
    ) -> Result<String, SlackError> {
        let res = self
            .http
            .post(format!("{}/chat.postMessage", self.api_url))
            .bearer_auth(token.expose_secret())
            .json(&serde_json::json!({
                "channel": channel,
                "text": text,
                "unfurl_links": false,
                "unfurl_media": false,
                "metadata": {
                    "event_type": METADATA_EVENT_TYPE,
                    "event_payload": { "idempotency_key": idempotency_key },
                },
            }))
            .send()
            .await
            .map_err(|e| SlackError::Transient(e.without_url().to_string()))?;
        let status = res.status();
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            let retry_after = res
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(|v| format!(", retry after {v}s"))
                .unwrap_or_default();
            return Err(SlackError::Transient(format!("HTTP {status}{retry_after}")));
        }
        let answer: Answer = res.json().await.map_err(|e| {
            SlackError::Transient(format!("unexpected answer (HTTP {status}): {e}"))
        })?;
        match (answer.ok, answer.error) {
            (true, _) => Ok(answer.ts.unwrap_or_default()),
            (false, Some(error)) => Err(classify(&error)),
            (false, None) => Err(SlackError::Rejected("ok: false without an error".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slack_errors_are_classified() {
        assert!(matches!(classify("token_revoked"), SlackError::Auth(_)));
        assert!(matches!(classify("ratelimited"), SlackError::Transient(_)));
        assert!(matches!(
            classify("channel_not_found"),
            SlackError::Rejected(_)
        ));
    }
}
