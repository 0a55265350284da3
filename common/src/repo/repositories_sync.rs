//! `repositories`, written by syncs: one page of what a source lists, what it no longer lists, and
//! what a deleted installation took away.

use sqlx::PgExecutor;
use uuid::Uuid;

use crate::{
    Error,
    domain::{InstallationId, OrgId},
};

/// One repository as GitHub lists it.
#[derive(Debug, Clone)]
pub struct RepoIn {
    pub github_id: i64,
    pub full_name: String,
    pub default_branch: Option<String>,
    pub visibility: Option<String>,
    pub archived: bool,
}

/// Where a sync got its repositories: an App installation, or a user's OAuth connection. Each
/// source stamps its own column, so one source's sync never makes the other's rows look stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepoSource {
    Installation(InstallationId),
    Connection(Uuid),
}

impl RepoSource {
    fn ids(self) -> (Option<InstallationId>, Option<Uuid>) {
        match self {
            Self::Installation(id) => (Some(id), None),
            Self::Connection(id) => (None, Some(id)),
        }
    }
}

/// Upserts one page of a sync from `source`, stamping each row with the sync's id.
pub async fn upsert_page(
    db: impl PgExecutor<'_>,
    org: OrgId,
    source: RepoSource,
    sync_id: Uuid,
    repos: &[RepoIn],
) -> Result<u64, Error> {
    let (installation, connection) = source.ids();
    Ok(sqlx::query!(
        "INSERT INTO repositories (org_id, github_id, installation_id, connection_id, full_name, default_branch,
                                   visibility, archived, last_sync_id, last_connection_sync_id)
         SELECT $1, r.github_id, $2, $3, r.full_name, r.default_branch, r.visibility, r.archived,
                CASE WHEN $2::bigint IS NOT NULL THEN $4::uuid END, CASE WHEN $3::uuid IS NOT NULL THEN $4::uuid END
         FROM unnest($5::bigint[], $6::text[], $7::text[], $8::text[], $9::bool[])
              AS r(github_id, full_name, default_branch, visibility, archived)
         ON CONFLICT (org_id, github_id) DO UPDATE SET
             installation_id = coalesce(EXCLUDED.installation_id, repositories.installation_id),
             connection_id = coalesce(repositories.connection_id, EXCLUDED.connection_id),
             full_name = EXCLUDED.full_name, default_branch = EXCLUDED.default_branch,
             visibility = EXCLUDED.visibility, archived = EXCLUDED.archived,
             last_sync_id = coalesce(EXCLUDED.last_sync_id, repositories.last_sync_id),
             last_connection_sync_id = coalesce(EXCLUDED.last_connection_sync_id, repositories.last_connection_sync_id),
             removed_at = NULL, updated_at = now()",
        org as OrgId,
        installation as Option<InstallationId>,
        connection,
        sync_id,
        &repos.iter().map(|r| r.github_id).collect::<Vec<_>>(),
        &repos.iter().map(|r| r.full_name.clone()).collect::<Vec<_>>(),
        &repos.iter().map(|r| r.default_branch.clone()).collect::<Vec<_>>() as &[Option<String>],
        &repos.iter().map(|r| r.visibility.clone()).collect::<Vec<_>>() as &[Option<String>],
        &repos.iter().map(|r| r.archived).collect::<Vec<_>>(),
    )
    .execute(db)
    .await?
    .rows_affected())
}

/// After a complete sync from `source`: its repositories the sync did not see are gone. Repositories
/// a connection shares with an installation are left to the installation's sync.
pub async fn mark_vanished(
    db: impl PgExecutor<'_>,
    org: OrgId,
    source: RepoSource,
    sync_id: Uuid,
) -> Result<u64, Error> {
    let (installation, connection) = source.ids();
    Ok(sqlx::query!(
        "UPDATE repositories SET removed_at = now(), updated_at = now()
         WHERE org_id = $1 AND removed_at IS NULL
           AND (($2::bigint IS NOT NULL AND installation_id = $2 AND last_sync_id IS DISTINCT FROM $4)
             OR ($3::uuid IS NOT NULL AND connection_id = $3 AND installation_id IS NULL
                 AND last_connection_sync_id IS DISTINCT FROM $4))",
        org as OrgId,
        installation as Option<InstallationId>,
        connection,
        sync_id,
    )
    .execute(db)
    .await?
    .rows_affected())
}

/// Marks every repository the organisation reached through an installation removed (the
/// installation was deleted).
pub async fn remove_installation(
    db: impl PgExecutor<'_>,
    org: OrgId,
    installation: InstallationId,
) -> Result<u64, Error> {
    Ok(sqlx::query!(
        "UPDATE repositories SET removed_at = now(), updated_at = now()
         WHERE org_id = $1 AND installation_id = $2 AND removed_at IS NULL",
        org as OrgId,
        installation as InstallationId,
    )
    .execute(db)
    .await?
    .rows_affected())
}
