//! `github_repository_hooks`: the hooks RepoPal installed, with their sealed secrets.

use sqlx::PgExecutor;

use crate::{Error, domain::OrgId};

pub async fn insert(
    db: impl PgExecutor<'_>,
    org: OrgId,
    hook_id: i64,
    repository_github_id: i64,
    sealed: &str,
) -> Result<(), Error> {
    sqlx::query!(
        "INSERT INTO github_repository_hooks (hook_id, org_id, repository_id, secret_sealed) VALUES ($1, $2, $3, $4)
         ON CONFLICT (hook_id) DO UPDATE SET secret_sealed = EXCLUDED.secret_sealed",
        hook_id,
        org as OrgId,
        repository_github_id,
        sealed,
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn for_repository(
    db: impl PgExecutor<'_>,
    org: OrgId,
    repository_github_id: i64,
) -> Result<Vec<i64>, Error> {
    Ok(sqlx::query_scalar!(
        "SELECT hook_id FROM github_repository_hooks WHERE org_id = $1 AND repository_id = $2 ORDER BY hook_id",
        org as OrgId,
        repository_github_id,
    )
    .fetch_all(db)
    .await?)
}

/// Forgets one of the organisation's hooks.
pub async fn delete(db: impl PgExecutor<'_>, org: OrgId, hook_id: i64) -> Result<(), Error> {
    sqlx::query!(
        "DELETE FROM github_repository_hooks WHERE org_id = $1 AND hook_id = $2",
        org as OrgId,
        hook_id,
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn delete_for_repository(
    db: impl PgExecutor<'_>,
    org: OrgId,
    repository_github_id: i64,
) -> Result<(), Error> {
    sqlx::query!(
        "DELETE FROM github_repository_hooks WHERE org_id = $1 AND repository_id = $2",
        org as OrgId,
        repository_github_id,
    )
    .execute(db)
    .await?;
    Ok(())
}
