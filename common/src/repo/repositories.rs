//! `repositories`: what syncs found, per organisation, and whether RepoPal monitors each.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgConnection, PgExecutor, QueryBuilder};

use crate::{
    Error,
    domain::{ConnectionId, InstallationId, OrgId, RepositoryId},
};

pub use super::repositories_sync::{
    RepoIn, RepoSource, mark_vanished, remove_installation, upsert_page,
};

crate::closed_set! {
    /// RepoPal's webhook on a repository: none (not monitored), being installed, installed, or
    /// failed (with a stable code and a reason on the row).
    pub enum HookState {
        None = "none",
        Pending = "pending",
        Active = "active",
        Failed = "failed",
    }
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct Repository {
    pub id: RepositoryId,
    pub org_id: OrgId,
    pub github_id: i64,
    pub installation_id: Option<InstallationId>,
    /// The user's OAuth connection that reaches the repository, if one does.
    pub connection_id: Option<ConnectionId>,
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

/// Dynamic SQL: only the filters given are applied.
pub async fn list(
    db: impl PgExecutor<'_>,
    org: OrgId,
    f: &Filter,
) -> Result<Vec<Repository>, Error> {
    let mut q = QueryBuilder::new(
        "SELECT id, org_id, github_id, installation_id, connection_id, full_name, default_branch,
                visibility, archived, removed_at, monitoring_enabled, auto_incident, slack_channels,
                updated_at, hook_state, hook_error_code, hook_error, hook_state_at
         FROM repositories WHERE org_id = ",
    );
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
    id: RepositoryId,
) -> Result<Option<Repository>, Error> {
    let locked = sqlx::query_scalar!(
        "SELECT 1 AS one FROM repositories WHERE org_id = $1 AND id = $2 FOR UPDATE",
        org as OrgId,
        id as RepositoryId,
    )
    .fetch_optional(&mut *tx)
    .await?;
    match locked {
        Some(_) => find(tx, org, id).await,
        None => Ok(None),
    }
}

/// Which of an organisation's repositories to read.
#[derive(Debug, Clone, Copy)]
enum Select {
    Id(RepositoryId),
    /// Monitored, not removed, with this GitHub id.
    MonitoredGithubId(i64),
    /// Monitored, not removed, reached through this installation.
    MonitoredOfInstallation(InstallationId),
}

async fn select(
    db: impl PgExecutor<'_>,
    org: OrgId,
    which: Select,
) -> Result<Vec<Repository>, Error> {
    let (id, github_id, installation) = match which {
        Select::Id(id) => (Some(id), None, None),
        Select::MonitoredGithubId(g) => (None, Some(g), None),
        Select::MonitoredOfInstallation(i) => (None, None, Some(i)),
    };
    Ok(sqlx::query_as!(
        Repository,
        r#"SELECT id AS "id: _", org_id AS "org_id: _", github_id, installation_id AS "installation_id: _",
                connection_id AS "connection_id: _", full_name, default_branch, visibility, archived, removed_at,
                monitoring_enabled, auto_incident, slack_channels, updated_at,
                hook_state AS "hook_state: _", hook_error_code, hook_error, hook_state_at
         FROM repositories
         WHERE org_id = $1 AND (id = $2 OR $2 IS NULL)
           AND (($3::bigint IS NULL AND $4::bigint IS NULL)
             OR (monitoring_enabled AND removed_at IS NULL
                 AND (github_id = $3 OR $3 IS NULL) AND (installation_id = $4 OR $4 IS NULL)))
         ORDER BY full_name"#,
        org as OrgId,
        id as Option<RepositoryId>,
        github_id,
        installation as Option<InstallationId>,
    )
    .fetch_all(db)
    .await?)
}

pub async fn find(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: RepositoryId,
) -> Result<Option<Repository>, Error> {
    Ok(select(db, org, Select::Id(id)).await?.into_iter().next())
}

/// The organisation's repository with this GitHub id, when RepoPal monitors it.
pub async fn find_monitored(
    db: impl PgExecutor<'_>,
    org: OrgId,
    github_id: i64,
) -> Result<Option<Repository>, Error> {
    Ok(select(db, org, Select::MonitoredGithubId(github_id))
        .await?
        .into_iter()
        .next())
}

/// The organisation's monitored repositories reached through `installation`, by name.
pub async fn monitored_of_installation(
    db: impl PgExecutor<'_>,
    org: OrgId,
    installation: InstallationId,
) -> Result<Vec<Repository>, Error> {
    select(db, org, Select::MonitoredOfInstallation(installation)).await
}

/// Monitoring on or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Monitoring {
    On,
    Off,
}

/// Turns monitoring on (its hook pending) or off (no hook); false when the organisation has no
/// such repository.
pub async fn set_monitoring(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: RepositoryId,
    monitoring: Monitoring,
) -> Result<bool, Error> {
    Ok(sqlx::query!(
        "UPDATE repositories SET monitoring_enabled = $3,
                hook_state = CASE WHEN $3 THEN 'pending' ELSE 'none' END,
                hook_error_code = NULL, hook_error = NULL, hook_state_at = now(), updated_at = now()
         WHERE org_id = $1 AND id = $2",
        org as OrgId,
        id as RepositoryId,
        monitoring == Monitoring::On,
    )
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}

/// Updates settings (only those given); `None` when there is no such repository.
pub async fn update_settings(
    db: &mut PgConnection,
    org: OrgId,
    id: RepositoryId,
    auto_incident: Option<bool>,
    slack_channels: Option<&serde_json::Value>,
) -> Result<Option<Repository>, Error> {
    let updated = sqlx::query!(
        "UPDATE repositories SET auto_incident = coalesce($3, auto_incident),
                slack_channels = coalesce($4, slack_channels), updated_at = now()
         WHERE org_id = $1 AND id = $2",
        org as OrgId,
        id as RepositoryId,
        auto_incident,
        slack_channels,
    )
    .execute(&mut *db)
    .await?
    .rows_affected();
    if updated == 0 {
        return Ok(None);
    }
    find(db, org, id).await
}

/// Records the hook's state (and, when failed, its stable code and reason). Only a repository
/// still asked to be monitored changes: a late result of a connect does not undo a disconnect.
pub async fn set_hook_state(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: RepositoryId,
    state: HookState,
    failure: Option<(&str, &str)>,
) -> Result<(), Error> {
    sqlx::query!(
        "UPDATE repositories SET hook_state = $3, hook_error_code = $4, hook_error = $5,
                hook_state_at = now(), updated_at = now()
         WHERE org_id = $1 AND id = $2 AND monitoring_enabled",
        org as OrgId,
        id as RepositoryId,
        state as HookState,
        failure.map(|f| f.0),
        failure.map(|f| f.1.chars().take(500).collect::<String>()),
    )
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
) -> Result<Vec<(OrgId, RepositoryId)>, Error> {
    let rows = sqlx::query!(
        r#"SELECT org_id AS "org_id: OrgId", id AS "id: RepositoryId" FROM repositories
         WHERE monitoring_enabled AND removed_at IS NULL AND installation_id IS NULL
           AND connection_id IS NOT NULL AND hook_state = 'active'
           AND coalesce(hook_state_at, '-infinity') < now() - make_interval(secs => $1)
         ORDER BY hook_state_at NULLS FIRST LIMIT $2"#,
        older_than_secs,
        limit,
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.org_id, r.id)).collect())
}

/// Notes that the repository's hook was just found alive.
pub async fn touch_hook(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: RepositoryId,
) -> Result<(), Error> {
    sqlx::query!(
        "UPDATE repositories SET hook_state_at = now() WHERE org_id = $1 AND id = $2 AND hook_state = 'active'",
        org as OrgId,
        id as RepositoryId,
    )
    .execute(db)
    .await?;
    Ok(())
}
