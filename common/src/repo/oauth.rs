//! `oauth_states` and `oauth_connections`: single-use login states bound to a browser, and the
//! links between RepoPal users and provider accounts (tokens sealed).

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection, PgExecutor};
use uuid::Uuid;

use crate::{Error, domain::UserId};

pub async fn insert_state(
    db: impl PgExecutor<'_>,
    state_hash: &str,
    browser_hash: &str,
    provider: &str,
    expires_at: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query("INSERT INTO oauth_states (state_hash, browser_hash, provider, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(state_hash)
        .bind(browser_hash)
        .bind(provider)
        .bind(expires_at)
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

/// Uses the state once, provided it belongs to this browser and provider and has not expired.
pub async fn consume_state(
    db: impl PgExecutor<'_>,
    state_hash: &str,
    browser_hash: &str,
    provider: &str,
) -> Result<StateCheck, Error> {
    let row: Option<(bool, Option<bool>)> = sqlx::query_as(
        "WITH s AS (SELECT * FROM oauth_states WHERE state_hash = $1 FOR UPDATE),
              used AS (
                  UPDATE oauth_states o SET used_at = now() FROM s
                  WHERE o.state_hash = s.state_hash AND s.used_at IS NULL AND s.expires_at > now()
                    AND s.browser_hash = $2 AND s.provider = $3
                  RETURNING o.state_hash
              )
         SELECT EXISTS (SELECT 1 FROM used), (SELECT s.used_at IS NOT NULL FROM s)
         FROM (SELECT 1) one",
    )
    .bind(state_hash)
    .bind(browser_hash)
    .bind(provider)
    .fetch_optional(db)
    .await?;
    Ok(match row {
        Some((true, _)) => StateCheck::Consumed,
        Some((false, Some(true))) => StateCheck::Reused,
        _ => StateCheck::Invalid,
    })
}

#[derive(Debug, Clone, FromRow)]
pub struct Connection {
    pub id: Uuid,
    pub user_id: UserId,
    pub provider: String,
    pub provider_user_id: String,
    pub login: String,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, user_id, provider, provider_user_id, login, scopes, created_at";

pub async fn find_by_provider_user(
    db: impl PgExecutor<'_>,
    provider: &str,
    provider_user_id: &str,
) -> Result<Option<Connection>, Error> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM oauth_connections WHERE provider = $1 AND provider_user_id = $2"
    )))
    .bind(provider)
    .bind(provider_user_id)
    .fetch_optional(db)
    .await?)
}

pub async fn list_for_user(
    db: impl PgExecutor<'_>,
    user: UserId,
) -> Result<Vec<Connection>, Error> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM oauth_connections WHERE user_id = $1 ORDER BY created_at"
    )))
    .bind(user)
    .fetch_all(db)
    .await?)
}

/// Creates the link with a fresh id (the caller seals tokens for that id first).
#[allow(clippy::too_many_arguments)]
pub async fn insert(
    tx: &mut PgConnection,
    id: Uuid,
    user: UserId,
    provider: &str,
    provider_user_id: &str,
    login: &str,
    scopes: &[String],
    access_token_sealed: &str,
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO oauth_connections (id, user_id, provider, provider_user_id, login, scopes, access_token_sealed)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(user)
    .bind(provider)
    .bind(provider_user_id)
    .bind(login)
    .bind(scopes)
    .bind(access_token_sealed)
    .execute(tx)
    .await
    .map_err(|e| match Error::from(e) {
        e if e.is_unique_violation() => Error::conflict("already_linked", "This GitHub account is linked to another user."),
        e => e,
    })?;
    Ok(())
}

/// Refreshes an existing link's login, scopes and sealed token.
pub async fn update_tokens(
    db: impl PgExecutor<'_>,
    id: Uuid,
    login: &str,
    scopes: &[String],
    access_token_sealed: &str,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE oauth_connections SET login = $2, scopes = $3, access_token_sealed = $4, updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(login)
    .bind(scopes)
    .bind(access_token_sealed)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn delete_for_user(
    db: impl PgExecutor<'_>,
    user: UserId,
    provider: &str,
) -> Result<u64, Error> {
    Ok(
        sqlx::query("DELETE FROM oauth_connections WHERE user_id = $1 AND provider = $2")
            .bind(user)
            .bind(provider)
            .execute(db)
            .await?
            .rows_affected(),
    )
}
