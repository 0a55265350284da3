//! `oauth_states`: single-use states of the OAuth and install flows, bound to a browser and to
//! their flow.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::{
    Error,
    domain::{StateFlow, UserId},
};

/// A state to record: its hash, the hash of the browser's nonce, its flow, its expiry and the
/// signed-in user who started it (if any).
pub struct NewState<'a> {
    pub state_hash: &'a str,
    pub browser_hash: &'a str,
    pub flow: StateFlow,
    pub expires_at: DateTime<Utc>,
    pub user: Option<UserId>,
}

pub async fn insert_state(db: impl PgExecutor<'_>, new: &NewState<'_>) -> Result<(), Error> {
    let NewState {
        state_hash,
        browser_hash,
        flow,
        expires_at,
        user,
    } = *new;
    sqlx::query!(
        "INSERT INTO oauth_states (state_hash, browser_hash, provider, expires_at, user_id)
         VALUES ($1, $2, $3, $4, $5)",
        state_hash,
        browser_hash,
        flow as StateFlow,
        expires_at,
        user as Option<UserId>,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// What a presented state turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateCheck {
    /// Valid: now used up.
    Consumed,
    /// Unknown, expired, for another browser or provider.
    Invalid,
    /// Already used once.
    Reused,
}

/// Uses the state once, provided it belongs to this browser and flow and has not expired.
pub async fn consume_state(
    db: impl PgExecutor<'_>,
    state_hash: &str,
    browser_hash: &str,
    flow: StateFlow,
) -> Result<(StateCheck, Option<UserId>), Error> {
    let row = sqlx::query!(
        r#"WITH s AS (SELECT * FROM oauth_states WHERE state_hash = $1 FOR UPDATE),
              used AS (
                  UPDATE oauth_states o SET used_at = now() FROM s
                  WHERE o.state_hash = s.state_hash AND s.used_at IS NULL AND s.expires_at > now()
                    AND s.browser_hash = $2 AND s.provider = $3
                  RETURNING o.state_hash
              )
         SELECT EXISTS (SELECT 1 FROM used) AS "consumed!",
                (SELECT s.used_at IS NOT NULL FROM s) AS "was_used?",
                (SELECT s.user_id FROM s) AS "user_id?: UserId"
         FROM (SELECT 1) one"#,
        state_hash,
        browser_hash,
        flow as StateFlow,
    )
    .fetch_optional(db)
    .await?;
    Ok(match row {
        Some(r) if r.consumed => (StateCheck::Consumed, r.user_id),
        Some(r) if r.was_used == Some(true) => (StateCheck::Reused, None),
        _ => (StateCheck::Invalid, None),
    })
}

/// Marks a one-time value (e.g. an install state) as used; false when it already was.
pub async fn use_once(
    db: impl PgExecutor<'_>,
    state_hash: &str,
    flow: StateFlow,
) -> Result<bool, Error> {
    Ok(sqlx::query!(
        "INSERT INTO oauth_states (state_hash, browser_hash, provider, expires_at, used_at)
         VALUES ($1, '', $2, now() + interval '1 day', now())
         ON CONFLICT (state_hash) DO NOTHING",
        state_hash,
        flow as StateFlow,
    )
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}
