//! A Slack message posted at most once per job, even when the job is interrupted after Slack
//! accepted it: a mark is committed before the first post, the message carries the job's key in
//! its metadata, and a retry that finds the mark looks for that key in the channel's history.

use secrecy::SecretString;
use serde_json::json;

use super::SlackError;
use crate::{
    Error,
    jobs::JobId,
    repo::{effect_attempts, job_effects},
    services::Services,
};

/// How far before the first attempt's start the history lookup reaches (clock skew between
/// Postgres and Slack).
const SKEW_SECS: i64 = 300;

/// Posts `text` to `channel` once for `job_id`. `Ok(Ok(outcome))` when it is posted (now or
/// earlier), `Ok(Err(e))` when Slack refused or failed (the caller maps it), `Err` for the
/// database.
pub async fn post_once(
    services: &Services,
    job_id: &JobId,
    token: &SecretString,
    channel: &str,
    text: &str,
) -> Result<Result<&'static str, SlackError>, Error> {
    let (pool, slack) = (&services.pool, &services.slack);
    let key = format!("slack:{}", job_id.0);
    let mut tx = pool.begin().await?;
    if !job_effects::claim(&mut tx, job_id).await? {
        return Ok(Ok("already posted"));
    }
    // Committed at once (on the pool, not in `tx`): it must survive a crash after the post.
    if let Some(earlier) =
        effect_attempts::begin(pool, &key, &json!({ "channel": channel })).await?
    {
        let oldest = earlier.started_at.timestamp() - SKEW_SECS;
        match slack.find_keyed(token, channel, &key, oldest).await {
            Ok(Some(ts)) => {
                tx.commit().await?;
                tracing::info!(
                    channel,
                    ts,
                    "an earlier attempt already posted this message"
                );
                return Ok(Ok("already posted (found in the channel's history)"));
            }
            Ok(None) => {}
            Err(e @ (SlackError::Transient(_) | SlackError::Auth(_))) => return Ok(Err(e)),
            Err(SlackError::Rejected(why)) => {
                // No history access (e.g. a missing `channels:history` scope): posting again is
                // better than never; the README lists this limit.
                tracing::warn!(channel, error = %why, "cannot look for an earlier post; posting again");
            }
        }
    }
    match slack.post_message(token, channel, text, &key).await {
        Ok(_) => {
            tx.commit().await?;
            Ok(Ok("posted"))
        }
        Err(e) => Ok(Err(e)),
    }
}
