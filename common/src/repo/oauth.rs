//! `oauth_connections`: the links between RepoPal users and provider accounts (tokens sealed).
//! The one-time states of the flows that make them are in `oauth_states`.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection, PgExecutor};

use crate::{
    Error,
    domain::{ConnectionId, ConnectionProvider, ConnectionPurpose, ConnectionStatus, UserId},
};

#[derive(Debug, Clone, FromRow)]
pub struct Connection {
    pub id: ConnectionId,
    pub user_id: UserId,
    pub provider: ConnectionProvider,
    pub provider_user_id: String,
    pub login: String,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub status: ConnectionStatus,
    pub purpose: ConnectionPurpose,
    pub token_expires_at: Option<DateTime<Utc>>,
    pub last_refreshed_at: Option<DateTime<Utc>>,
    /// Linked while the account's email was unverified: never a sign-in method, and removed by a
    /// password reset or a reclaim.
    pub linked_unverified: bool,
}

/// `sqlx::query_as!` of a `Connection`: `$head` (ending in `SELECT` or `RETURNING`), every column of the row, then
/// `$tail`. The column list is written once, here.
macro_rules! connection_row {
    ($head:literal, $tail:literal, $($args:tt)*) => {
        sqlx::query_as!(
            $crate::repo::oauth::Connection,
            $head + r#" id AS "id: _", user_id AS "user_id: _", provider AS "provider: _", provider_user_id, login,
             scopes, created_at, status AS "status: _", purpose AS "purpose: _", token_expires_at,
             last_refreshed_at, linked_unverified "# + $tail,
            $($args)*
        )
    };
}

pub async fn find_by_provider_user(
    db: impl PgExecutor<'_>,
    provider: ConnectionProvider,
    provider_user_id: &str,
) -> Result<Option<Connection>, Error> {
    Ok(connection_row!(
        r#"SELECT"#,
        r#"FROM oauth_connections WHERE provider = $1 AND provider_user_id = $2"#,
        provider as ConnectionProvider,
        provider_user_id,
    )
    .fetch_optional(db)
    .await?)
}

pub async fn list_for_user(
    db: impl PgExecutor<'_>,
    user: UserId,
) -> Result<Vec<Connection>, Error> {
    Ok(connection_row!(
        r#"SELECT"#,
        r#"FROM oauth_connections WHERE user_id = $1 ORDER BY created_at"#,
        user as UserId,
    )
    .fetch_all(db)
    .await?)
}

pub async fn find_for_user(
    db: impl PgExecutor<'_>,
    user: UserId,
    id: ConnectionId,
) -> Result<Option<Connection>, Error> {
    Ok(connection_row!(
        r#"SELECT"#,
        r#"FROM oauth_connections WHERE user_id = $1 AND id = $2"#,
        user as UserId,
        id as ConnectionId,
    )
    .fetch_optional(db)
    .await?)
}

/// A new link of a user to a provider account (its access token sealed for `id`).
pub struct NewLink<'a> {
    pub id: ConnectionId,
    pub user: UserId,
    pub provider: ConnectionProvider,
    pub provider_user_id: &'a str,
    pub login: &'a str,
    pub scopes: &'a [String],
    pub access_token_sealed: &'a str,
}

/// Creates the link with a fresh id (the caller seals tokens for that id first).
pub async fn insert(tx: &mut PgConnection, link: &NewLink<'_>) -> Result<(), Error> {
    sqlx::query!(
        "INSERT INTO oauth_connections (id, user_id, provider, provider_user_id, login, scopes,
                                        access_token_sealed, linked_unverified)
         SELECT $1, $2, $3, $4, $5, $6, $7, u.email_verified_at IS NULL FROM users u WHERE u.id = $2",
        link.id as ConnectionId,
        link.user as UserId,
        link.provider as ConnectionProvider,
        link.provider_user_id,
        link.login,
        link.scopes,
        link.access_token_sealed,
    )
    .execute(tx)
    .await
    .map_err(super::conflicts::map)?;
    Ok(())
}

/// Refreshes an existing link's login, scopes and sealed token.
pub async fn update_tokens(
    db: impl PgExecutor<'_>,
    id: ConnectionId,
    login: &str,
    scopes: &[String],
    access_token_sealed: &str,
) -> Result<(), Error> {
    sqlx::query!(
        "UPDATE oauth_connections SET login = $2, scopes = $3, access_token_sealed = $4, updated_at = now()
         WHERE id = $1",
        id as ConnectionId,
        login,
        scopes,
        access_token_sealed,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Removes the user's links made while their email was unverified; returns how many.
pub async fn delete_linked_unverified(db: impl PgExecutor<'_>, user: UserId) -> Result<u64, Error> {
    Ok(sqlx::query!(
        "DELETE FROM oauth_connections WHERE user_id = $1 AND linked_unverified",
        user as UserId,
    )
    .execute(db)
    .await?
    .rows_affected())
}

/// Marks a link as proven by the account's own (verified) email.
pub async fn mark_linked_verified(db: impl PgExecutor<'_>, id: ConnectionId) -> Result<(), Error> {
    sqlx::query!(
        "UPDATE oauth_connections SET linked_unverified = false WHERE id = $1",
        id as ConnectionId,
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn delete_for_user(
    db: impl PgExecutor<'_>,
    user: UserId,
    provider: ConnectionProvider,
) -> Result<u64, Error> {
    Ok(sqlx::query!(
        "DELETE FROM oauth_connections WHERE user_id = $1 AND provider = $2",
        user as UserId,
        provider as ConnectionProvider,
    )
    .execute(db)
    .await?
    .rows_affected())
}

pub async fn delete(
    db: impl PgExecutor<'_>,
    user: UserId,
    id: ConnectionId,
) -> Result<bool, Error> {
    Ok(sqlx::query!(
        "DELETE FROM oauth_connections WHERE user_id = $1 AND id = $2",
        user as UserId,
        id as ConnectionId,
    )
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}

/// A GitHub connection made for repository access, its tokens sealed for `id`.
pub struct NewRepoAccess<'a> {
    pub id: ConnectionId,
    pub user: UserId,
    pub provider_user_id: &'a str,
    pub login: &'a str,
    pub scopes: &'a [String],
    /// The sealed access token and, for expiring tokens, the sealed refresh token.
    pub sealed: (String, Option<String>),
    pub token_expires_at: Option<DateTime<Utc>>,
}

/// Stores a connection made for repository access (or upgrades the user's login link).
pub async fn upsert_repo_access(
    db: impl PgExecutor<'_>,
    new: NewRepoAccess<'_>,
) -> Result<ConnectionId, Error> {
    let (access, refresh) = &new.sealed;
    let id = sqlx::query_scalar!(
        r#"INSERT INTO oauth_connections (id, user_id, provider, provider_user_id, login, scopes,
                                        access_token_sealed, refresh_token_sealed, token_expires_at, purpose,
                                        linked_unverified)
         SELECT $1, $2, $9, $3, $4, $5, $6, $7, $8, $10, u.email_verified_at IS NULL
         FROM users u WHERE u.id = $2
         ON CONFLICT (provider, provider_user_id) DO NOTHING
         RETURNING id AS "id: ConnectionId""#,
        new.id as ConnectionId,
        new.user as UserId,
        new.provider_user_id,
        new.login,
        new.scopes,
        access,
        refresh.as_deref(),
        new.token_expires_at,
        ConnectionProvider::Github as ConnectionProvider,
        ConnectionPurpose::RepoAccess as ConnectionPurpose,
    )
    .fetch_optional(db)
    .await?;
    id.ok_or_else(|| {
        Error::conflict(
            "already_linked",
            "This GitHub account is already connected.",
        )
    })
}

/// The sealed tokens of a connection (after taking its refresh lock).
#[derive(Clone, FromRow)]
pub struct SealedTokens {
    pub access_token_sealed: String,
    pub refresh_token_sealed: Option<String>,
    pub token_expires_at: Option<DateTime<Utc>>,
    pub last_refreshed_at: Option<DateTime<Utc>>,
    pub status: ConnectionStatus,
}

/// Takes the connection's refresh lock until the transaction ends: one refresh per connection at
/// a time across all workers.
pub async fn lock_for_refresh(tx: &mut PgConnection, id: ConnectionId) -> Result<(), Error> {
    sqlx::query_scalar!(
        r#"SELECT 1 AS "locked!" FROM (SELECT pg_advisory_xact_lock(hashtext('repopal:refresh:' || $1::text))) l"#,
        id as ConnectionId,
    )
    .fetch_one(tx)
    .await?;
    Ok(())
}

pub async fn sealed_tokens(
    db: impl PgExecutor<'_>,
    id: ConnectionId,
) -> Result<Option<SealedTokens>, Error> {
    Ok(sqlx::query_as!(
        SealedTokens,
        r#"SELECT access_token_sealed, refresh_token_sealed, token_expires_at, last_refreshed_at,
             status AS "status: _"
         FROM oauth_connections WHERE id = $1"#,
        id as ConnectionId,
    )
    .fetch_optional(db)
    .await?)
}

/// Replaces a connection's tokens after a refresh or a new authorisation.
pub async fn store_tokens(
    db: impl PgExecutor<'_>,
    id: ConnectionId,
    access_sealed: &str,
    refresh_sealed: Option<&str>,
    token_expires_at: Option<DateTime<Utc>>,
) -> Result<(), Error> {
    sqlx::query!(
        "UPDATE oauth_connections SET access_token_sealed = $2, refresh_token_sealed = $3, token_expires_at = $4,
                status = $5, last_error = NULL, last_refreshed_at = now(), updated_at = now()
         WHERE id = $1",
        id as ConnectionId,
        access_sealed,
        refresh_sealed,
        token_expires_at,
        ConnectionStatus::Active as ConnectionStatus,
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn mark_reauth_required(
    db: impl PgExecutor<'_>,
    id: ConnectionId,
    error: &str,
) -> Result<(), Error> {
    sqlx::query!(
        "UPDATE oauth_connections SET status = $3, last_error = $2, updated_at = now() WHERE id = $1",
        id as ConnectionId,
        error,
        ConnectionStatus::ReauthRequired as ConnectionStatus,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A connection due for a token refresh, across users.
#[derive(Debug, Clone, Copy)]
pub struct DueRefresh {
    pub id: ConnectionId,
    pub token_expires_at: DateTime<Utc>,
}

/// Active connections with a refresh token whose access token expires before `within_secs`.
pub async fn due_for_refresh(
    db: impl PgExecutor<'_>,
    within_secs: f64,
) -> Result<Vec<DueRefresh>, Error> {
    Ok(sqlx::query_as!(
        DueRefresh,
        r#"SELECT id AS "id: _", token_expires_at AS "token_expires_at!" FROM oauth_connections
         WHERE status = $2 AND refresh_token_sealed IS NOT NULL
           AND token_expires_at < now() + make_interval(secs => $1)
         ORDER BY token_expires_at LIMIT 1000"#,
        within_secs,
        ConnectionStatus::Active as ConnectionStatus,
    )
    .fetch_all(db)
    .await?)
}
