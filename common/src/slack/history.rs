//! Finding a message RepoPal posted earlier: `conversations.history` (with its metadata) of the
//! channel, resolved from `#name` to its id with `conversations.list` when needed; and the
//! channels the bot can see, for the console's channel pickers.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;

use super::{METADATA_EVENT_TYPE, Slack, SlackError, classify};

/// Pages read at most per lookup (200 entries each).
const MAX_PAGES: usize = 10;

#[derive(Deserialize)]
struct Page {
    ok: bool,
    error: Option<String>,
    #[serde(default)]
    messages: Vec<Value>,
    #[serde(default)]
    channels: Vec<Value>,
    response_metadata: Option<Cursor>,
}

/// A Slack channel the bot can see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    pub id: String,
    /// Without the `#`.
    pub name: String,
}

#[derive(Deserialize)]
struct Cursor {
    next_cursor: Option<String>,
}

impl Page {
    fn next(&self) -> Option<String> {
        self.response_metadata
            .as_ref()
            .and_then(|m| m.next_cursor.clone())
            .filter(|c| !c.is_empty())
    }
}

/// The idempotency key in a message's metadata, if RepoPal attached one.
fn key_of(message: &Value) -> Option<&str> {
    let metadata = message.get("metadata")?;
    if metadata.get("event_type")?.as_str()? != METADATA_EVENT_TYPE {
        return None;
    }
    metadata
        .get("event_payload")?
        .get("idempotency_key")?
        .as_str()
}

impl Slack {
    async fn call(
        &self,
        token: &SecretString,
        method: &str,
        query: &[(&str, &str)],
    ) -> Result<Page, SlackError> {
        let res = self
            .http
            .get(format!("{}/{method}", self.api_url))
            .bearer_auth(token.expose_secret())
            .query(query)
            .send()
            .await
            .map_err(|e| SlackError::Transient(e.without_url().to_string()))?;
        let status = res.status();
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            return Err(SlackError::Transient(format!("{method}: HTTP {status}")));
        }
        let page: Page = res.json().await.map_err(|e| {
            SlackError::Transient(format!("{method}: unexpected answer (HTTP {status}): {e}"))
        })?;
        match (page.ok, page.error.as_deref()) {
            (true, _) => Ok(page),
            (false, Some(error)) => Err(classify(error)),
            (false, None) => Err(SlackError::Rejected(format!("{method}: ok: false"))),
        }
    }

    /// The id of `channel`: itself when it is an id, else looked up by name (`#name`) among the
    /// channels the bot can see.
    async fn channel_id(&self, token: &SecretString, channel: &str) -> Result<String, SlackError> {
        let Some(name) = channel.strip_prefix('#') else {
            return Ok(channel.to_owned());
        };
        self.channels(token)
            .await?
            .into_iter()
            .find(|c| c.name == name)
            .map(|c| c.id)
            .ok_or_else(|| SlackError::Rejected("channel_not_found".into()))
    }

    /// The channels the bot can post to (public and private, not archived, the bot a member), by
    /// name; at most `MAX_PAGES` pages of 200.
    pub async fn channels(&self, token: &SecretString) -> Result<Vec<Channel>, SlackError> {
        let mut all = Vec::new();
        let mut cursor = String::new();
        for _ in 0..MAX_PAGES {
            let page = self
                .call(
                    token,
                    "conversations.list",
                    &[
                        ("types", "public_channel,private_channel"),
                        ("exclude_archived", "true"),
                        ("limit", "200"),
                        ("cursor", &cursor),
                    ],
                )
                .await?;
            // With `channels:read` Slack lists every public channel, joined or not; the bot can
            // only post where it is a member (no `chat:write.public`), so only those are offered.
            let joined = |c: &&Value| c.get("is_member").and_then(Value::as_bool) == Some(true);
            all.extend(page.channels.iter().filter(joined).filter_map(|c| {
                Some(Channel {
                    id: c.get("id")?.as_str()?.to_owned(),
                    name: c.get("name")?.as_str()?.to_owned(),
                })
            }));
            match page.next() {
                Some(next) => cursor = next,
                None => break,
            }
        }
        all.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(all)
    }

    /// The `ts` of the message in `channel` whose metadata carries `idempotency_key`, looking at
    /// messages posted since `oldest` (unix seconds).
    pub async fn find_keyed(
        &self,
        token: &SecretString,
        channel: &str,
        idempotency_key: &str,
        oldest: i64,
    ) -> Result<Option<String>, SlackError> {
        let id = self.channel_id(token, channel).await?;
        let oldest = format!("{oldest}.000000");
        let mut cursor = String::new();
        for _ in 0..MAX_PAGES {
            let page = self
                .call(
                    token,
                    "conversations.history",
                    &[
                        ("channel", &id),
                        ("oldest", &oldest),
                        ("include_all_metadata", "true"),
                        ("limit", "200"),
                        ("cursor", &cursor),
                    ],
                )
                .await?;
            let found = page
                .messages
                .iter()
                .find(|m| key_of(m) == Some(idempotency_key))
                .and_then(|m| m.get("ts").and_then(Value::as_str));
            if let Some(ts) = found {
                return Ok(Some(ts.to_owned()));
            }
            match page.next() {
                Some(next) => cursor = next,
                None => return Ok(None),
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_repopal_metadata_carries_a_key() {
        let ours = json!({"metadata": {"event_type": METADATA_EVENT_TYPE, "event_payload": {"idempotency_key": "k"}}});
        let other = json!({"metadata": {"event_type": "deploy", "event_payload": {"idempotency_key": "k"}}});
        assert_eq!(key_of(&ours), Some("k"));
        assert_eq!(key_of(&other), None);
        assert_eq!(key_of(&json!({"text": "k"})), None);
    }
}
