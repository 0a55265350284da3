//! Slack settings: the API, the "Add to Slack" OAuth app and incident notification grouping.

use secrecy::SecretString;
use url::Url;

use super::{ConfigError, Source, parse::*};

#[derive(Debug, Clone)]
pub struct SlackConfig {
    pub api_url: Url,
    /// At most one "still failing" message per incident in this many seconds.
    pub group_notify_window_secs: u64,
    /// The Slack app for "Add to Slack" (OAuth v2); both or neither.
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
    /// Slack's authorize page (`https://slack.com/oauth/v2/authorize`).
    pub authorize_url: Url,
    /// Bot scopes asked for.
    pub scopes: String,
}

/// The OAuth app's client id and secret, set together or not at all (checked before any address
/// is parsed).
pub(super) fn client(
    env: &dyn Source,
) -> Result<(Option<String>, Option<SecretString>), ConfigError> {
    let slack_client_id = env.get("SLACK_CLIENT_ID");
    let slack_client_secret = env.get("SLACK_CLIENT_SECRET").map(SecretString::from);
    if slack_client_id.is_some() != slack_client_secret.is_some() {
        return Err(ConfigError::Malformed {
            name: if slack_client_id.is_some() {
                "SLACK_CLIENT_SECRET"
            } else {
                "SLACK_CLIENT_ID"
            },
            reason: "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET must be set together".into(),
        });
    }
    Ok((slack_client_id, slack_client_secret))
}

pub(super) fn read(
    env: &dyn Source,
    (slack_client_id, slack_client_secret): (Option<String>, Option<SecretString>),
) -> Result<SlackConfig, ConfigError> {
    Ok(SlackConfig {
        api_url: or_default(
            env,
            "SLACK_API_URL",
            default_url("https://slack.com/api"),
            parse_url,
        )?,
        group_notify_window_secs: or_default(
            env,
            "INCIDENT_NOTIFY_WINDOW_SECS",
            900,
            parse_notify_window,
        )?,
        client_id: slack_client_id,
        client_secret: slack_client_secret,
        authorize_url: or_default(
            env,
            "SLACK_AUTHORIZE_URL",
            default_url("https://slack.com/oauth/v2/authorize"),
            parse_url,
        )?,
        scopes: env.get("SLACK_SCOPES").unwrap_or_else(|| {
            "chat:write,channels:read,channels:history,groups:read,groups:history".to_owned()
        }),
    })
}
