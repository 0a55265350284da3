//! `github_repository_hooks`: the hooks RepoPal installed, with their sealed secrets; and
//! `github_pending_hook_secrets`: secrets of hooks being created, known before GitHub's 201.

use sqlx::PgExecutor;
use uuid::Uuid;

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

/// Drops the organisation's pending secrets for a repository (left by a create call that never
/// returned): called under the repository's hook lock, before a new create.
pub async fn clear_pending(
    db: impl PgExecutor<'_>,
    org: OrgId,
    repository_github_id: i64,
) -> Result<(), Error> {
    sqlx::query!(
        "DELETE FROM github_pending_hook_secrets WHERE org_id = $1 AND repository_id = $2",
        org as OrgId,
        repository_github_id,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Stores the secret of a hook about to be created on the repository with this GitHub id.
pub async fn insert_pending(
    db: impl PgExecutor<'_>,
    id: Uuid,
    org: OrgId,
    repository_github_id: i64,
    sealed: &str,
) -> Result<(), Error> {
    sqlx::query!(
        "INSERT INTO github_pending_hook_secrets (id, org_id, repository_id, secret_sealed) VALUES ($1, $2, $3, $4)",
        id,
        org as OrgId,
        repository_github_id,
        sealed,
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn delete_pending(db: impl PgExecutor<'_>, org: OrgId, id: Uuid) -> Result<(), Error> {
    sqlx::query!(
        "DELETE FROM github_pending_hook_secrets WHERE org_id = $1 AND id = $2",
        org as OrgId,
        id,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Whose pending hook secrets a read may see.
#[derive(Debug, Clone, Copy)]
pub enum PendingOf {
    /// Every organisation's: only for checking a delivery's signature, which names no organisation.
    AnyOrg,
    /// One organisation's: what a retried hook creation may adopt (another organisation's pending
    /// secret never is).
    Org(OrgId),
}

/// The newest pending secrets (id, sealed) for the repository with this GitHub id, of `of`.
pub async fn pending_for_repository(
    db: impl PgExecutor<'_>,
    of: PendingOf,
    repository_github_id: i64,
) -> Result<Vec<(Uuid, String)>, Error> {
    let org = match of {
        PendingOf::AnyOrg => None,
        PendingOf::Org(org) => Some(org),
    };
    Ok(sqlx::query!(
        "SELECT id, secret_sealed FROM github_pending_hook_secrets
         WHERE repository_id = $2 AND ($1::uuid IS NULL OR org_id = $1)
         ORDER BY created_at DESC LIMIT 4",
        org as Option<OrgId>,
        repository_github_id,
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|r| (r.id, r.secret_sealed))
    .collect())
}
