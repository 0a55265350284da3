//! `github_installation_tokens`: the cached, sealed installation access token of each installation.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::{Error, domain::InstallationId};

/// The sealed token and when it expires.
pub async fn find(
    db: impl PgExecutor<'_>,
    installation: InstallationId,
) -> Result<Option<(String, DateTime<Utc>)>, Error> {
    Ok(sqlx::query!(
        "SELECT token_sealed, expires_at FROM github_installation_tokens WHERE installation_id = $1",
        installation as InstallationId,
    )
    .fetch_optional(db)
    .await?
    .map(|r| (r.token_sealed, r.expires_at)))
}

pub async fn store(
    db: impl PgExecutor<'_>,
    installation: InstallationId,
    sealed: &str,
    expires_at: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query!(
        "INSERT INTO github_installation_tokens (installation_id, token_sealed, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (installation_id) DO UPDATE SET token_sealed = EXCLUDED.token_sealed,
             expires_at = EXCLUDED.expires_at, updated_at = now()",
        installation as InstallationId,
        sealed,
        expires_at,
    )
    .execute(db)
    .await?;
    Ok(())
}
