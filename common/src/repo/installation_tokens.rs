//! `github_installation_tokens`: the cached, sealed installation access token of each installation.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::Error;

pub async fn find(
    db: impl PgExecutor<'_>,
    installation_id: i64,
) -> Result<Option<(String, DateTime<Utc>)>, Error> {
    Ok(sqlx::query_as("SELECT token_sealed, expires_at FROM github_installation_tokens WHERE installation_id = $1")
        .bind(installation_id)
        .fetch_optional(db)
        .await?)
}

pub async fn store(
    db: impl PgExecutor<'_>,
    installation_id: i64,
    sealed: &str,
    expires_at: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO github_installation_tokens (installation_id, token_sealed, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (installation_id) DO UPDATE SET token_sealed = EXCLUDED.token_sealed,
             expires_at = EXCLUDED.expires_at, updated_at = now()",
    )
    .bind(installation_id)
    .bind(sealed)
    .bind(expires_at)
    .execute(db)
    .await?;
    Ok(())
}
