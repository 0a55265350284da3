//! `repositories`: what syncs found, per organisation, and whether RepoPal monitors each.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgConnection, PgExecutor, QueryBuilder};
use uuid::Uuid;

use crate::{Error, domain::OrgId};

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
    Installation(i64),
    Connection(Uuid),
}

impl RepoSource {
    fn ids(self) -> (Option<i64>, Option<Uuid>) {
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
    Ok(sqlx::query(
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
    )
    .bind(org)
    .bind(installation)
    .bind(connection)
    .bind(sync_id)
    .bind(repos.iter().map(|r| r.github_id).collect::<Vec<_>>())
    .bind(repos.iter().map(|r| r.full_name.clone()).collect::<Vec<_>>())
    .bind(repos.iter().map(|r| r.default_branch.clone()).collect::<Vec<_>>())
    .bind(repos.iter().map(|r| r.visibility.clone()).collect::<Vec<_>>())
    .bind(repos.iter().map(|r| r.archived).collect::<Vec<_>>())
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
    Ok(sqlx::query(
        "UPDATE repositories SET removed_at = now(), updated_at = now()
         WHERE org_id = $1 AND removed_at IS NULL
           AND (($2::bigint IS NOT NULL AND installation_id = $2 AND last_sync_id IS DISTINCT FROM $4)
             OR ($3::uuid IS NOT NULL AND connection_id = $3 AND installation_id IS NULL
                 AND last_connection_sync_id IS DISTINCT FROM $4))",
    )
    .bind(org)
    .bind(installation)
    .bind(connection)
    .bind(sync_id)
    .execute(db)
    .await?
    .rows_affected())
}

/// Marks every repository of an installation removed (the installation was deleted).
pub async fn remove_installation(
    db: impl PgExecutor<'_>,
    installation_id: i64,
) -> Result<u64, Error> {
    Ok(sqlx::query(
        "UPDATE repositories SET removed_at = now(), updated_at = now() WHERE installation_id = $1 AND removed_at IS NULL",
    )
    .bind(installation_id)
    .execute(db)
    .await?
    .rows_affected())
}

/// RepoPal's webhook on a repository: none (not monitored), being installed, installed, or
/// failed (with a stable code and a reason on the row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum HookState {
    None,
    Pending,
    Active,
    Failed,
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct Repository {
    pub id: Uuid,
    pub org_id: OrgId,
    pub github_id: i64,
    pub installation_id: Option<i64>,
    /// The user's OAuth connection that reaches the repository, if one does.
    pub connection_id: Option<Uuid>,
    pub full_name: String,
    pub default_branch: Option<String>,
    pub visibility: Option<String>,
    pub archived: bool,
    pub removed_at: Option<DateTime<Utc>>,
    pub monitoring_enabled: bool,
    pub auto_incident: bool,
    pub slack_channels: serde_json::Value,
    pub updated_at: DateTime<Utc>,
    pub hook_state: HookState,
    pub hook_error_code: Option<String>,
    pub hook_error: Option<String>,
    pub hook_state_at: Option<DateTime<Utc>>,
}

impl Repository {
    /// Monitored in fact: asked for, still listed by GitHub, and RepoPal's hook is installed.
    pub fn monitored(&self) -> bool {
        self.monitoring_enabled && self.removed_at.is_none() && self.hook_state == HookState::Active
    }
}

const COLUMNS: &str =
    "id, org_id, github_id, installation_id, connection_id, full_name, default_branch, visibility, archived,
                       removed_at, monitoring_enabled, auto_incident, slack_channels, updated_at,
                       hook_state, hook_error_code, hook_error, hook_state_at";

/// Filters for listing an organisation's repositories, by name.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Substring of the full name, case-insensitive.
    pub search: Option<String>,
    pub monitored: Option<bool>,
    pub include_removed: bool,
    /// Only names after this one (the cursor).
    pub after: Option<String>,
    pub limit: i64,
}

pub async fn list(
    db: impl PgExecutor<'_>,
    org: OrgId,
    f: &Filter,
) -> Result<Vec<Repository>, Error> {
    let mut q = QueryBuilder::new(format!(
        "SELECT {COLUMNS} FROM repositories WHERE org_id = "
    ));
    q.push_bind(org);
    if let Some(s) = &f.search {
        let pattern = format!(
            "%{}%",
            s.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        q.push(" AND full_name ILIKE ").push_bind(pattern);
    }
    if let Some(m) = f.monitored {
        q.push(" AND (monitoring_enabled AND hook_state = 'active') = ")
            .push_bind(m);
    }
    if !f.include_removed {
        q.push(" AND removed_at IS NULL");
    }
    if let Some(after) = &f.after {
        q.push(" AND full_name > ").push_bind(after.clone());
    }
    q.push(" ORDER BY full_name LIMIT ").push_bind(f.limit);
    Ok(q.build_query_as().fetch_all(db).await?)
}

/// The repository, locked until the end of the transaction (to record a change's old values).
pub async fn lock(
    tx: &mut PgConnection,
    org: OrgId,
    id: Uuid,
) -> Result<Option<Repository>, Error> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM repositories WHERE org_id = $1 AND id = $2 FOR UPDATE"
    )))
    .bind(org)
    .bind(id)
    .fetch_optional(tx)
    .await?)
}

pub async fn find(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: Uuid,
) -> Result<Option<Repository>, Error> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM repositories WHERE org_id = $1 AND id = $2"
    )))
    .bind(org)
    .bind(id)
    .fetch_optional(db)
    .await?)
}

/// The organisation's repository with this GitHub id, when RepoPal monitors it.
pub async fn find_monitored(
    db: impl PgExecutor<'_>,
    org: OrgId,
    github_id: i64,
) -> Result<Option<Repository>, Error> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM repositories
         WHERE org_id = $1 AND github_id = $2 AND monitoring_enabled AND removed_at IS NULL"
    )))
    .bind(org)
    .bind(github_id)
    .fetch_optional(db)
    .await?)
}

/// The organisation's monitored repositories reached through `installation`, by name.
pub async fn monitored_of_installation(
    db: impl PgExecutor<'_>,
    org: OrgId,
    installation: i64,
) -> Result<Vec<Repository>, Error> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM repositories
         WHERE org_id = $1 AND installation_id = $2 AND monitoring_enabled AND removed_at IS NULL
         ORDER BY full_name"
    )))
    .bind(org)
    .bind(installation)
    .fetch_all(db)
    .await?)
}

/// Turns monitoring on (its hook pending) or off (no hook); false when the organisation has no
/// such repository.
pub async fn set_monitoring(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: Uuid,
    on: bool,
) -> Result<bool, Error> {
    Ok(sqlx::query(
        "UPDATE repositories SET monitoring_enabled = $3,
                hook_state = CASE WHEN $3 THEN 'pending' ELSE 'none' END,
                hook_error_code = NULL, hook_error = NULL, hook_state_at = now(), updated_at = now()
         WHERE org_id = $1 AND id = $2",
    )
        .bind(org)
        .bind(id)
        .bind(on)
        .execute(db)
        .await?
        .rows_affected()
        == 1)
}

/// Updates settings (only those given); `None` when there is no such repository.
pub async fn update_settings(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: Uuid,
    auto_incident: Option<bool>,
    slack_channels: Option<&serde_json::Value>,
) -> Result<Option<Repository>, Error> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE repositories SET auto_incident = coalesce($3, auto_incident),
                slack_channels = coalesce($4, slack_channels), updated_at = now()
         WHERE org_id = $1 AND id = $2 RETURNING {COLUMNS}"
    )))
    .bind(org)
    .bind(id)
    .bind(auto_incident)
    .bind(slack_channels)
    .fetch_optional(db)
    .await?)
}

/// Records the hook's state (and, when failed, its stable code and reason). Only a repository
/// still asked to be monitored changes: a late result of a connect does not undo a disconnect.
pub async fn set_hook_state(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: Uuid,
    state: HookState,
    failure: Option<(&str, &str)>,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE repositories SET hook_state = $3, hook_error_code = $4, hook_error = $5,
                hook_state_at = now(), updated_at = now()
         WHERE org_id = $1 AND id = $2 AND monitoring_enabled",
    )
    .bind(org)
    .bind(id)
    .bind(state)
    .bind(failure.map(|f| f.0))
    .bind(failure.map(|f| f.1.chars().take(500).collect::<String>()))
    .execute(db)
    .await?;
    Ok(())
}

/// Monitored repositories reached only through a connection whose hook was not checked for
/// `older_than_secs`, least recently checked first (every organisation: the periodic check).
pub async fn due_connection_hooks(
    db: impl PgExecutor<'_>,
    older_than_secs: f64,
    limit: i64,
) -> Result<Vec<(OrgId, Uuid)>, Error> {
    Ok(sqlx::query_as(
        "SELECT org_id, id FROM repositories
         WHERE monitoring_enabled AND removed_at IS NULL AND installation_id IS NULL
           AND connection_id IS NOT NULL AND hook_state = 'active'
           AND coalesce(hook_state_at, '-infinity') < now() - make_interval(secs => $1)
         ORDER BY hook_state_at NULLS FIRST LIMIT $2",
    )
    .bind(older_than_secs)
    .bind(limit)
    .fetch_all(db)
    .await?)
}

/// Notes that the repository's hook was just found alive.
pub async fn touch_hook(db: impl PgExecutor<'_>, org: OrgId, id: Uuid) -> Result<(), Error> {
    sqlx::query(
        "UPDATE repositories SET hook_state_at = now() WHERE org_id = $1 AND id = $2 AND hook_state = 'active'",
    )
    .bind(org)
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}
