//! Repository monitoring switches: connect (monitor + install the hook), disconnect (stop + remove
//! the hook), settings (audited with old and new values), and the hook ping. Each writes its change
//! and its job in one transaction.

use crate::domain::{AuditAction, AuditResource};
use serde_json::json;
use sqlx::PgPool;

use crate::{
    Error,
    domain::{OrgId, RepositoryId, UserId},
    identity::{Acting, audit},
    jobs::{self, HookAction, JobId, RepositoryWebhook},
    repo::{
        audit_logs::NewEntry,
        jobs as job_rows,
        repositories::{self, Monitoring},
    },
};

/// Switches monitoring and enqueues the matching hook job (or, for `Ping`, only the job).
pub async fn hook_job(
    pool: &PgPool,
    by: &Acting<'_>,
    repository: RepositoryId,
    action: HookAction,
) -> Result<JobId, Error> {
    let mut tx = pool.begin().await?;
    let job = hook_job_in(&mut tx, by, repository, action).await?;
    tx.commit().await?;
    Ok(job)
}

/// [`hook_job`] for a selection, all or nothing (one transaction): 404 when any repository is
/// not the organisation's. At most [`BATCH_MAX`] at once.
pub async fn hook_jobs(
    pool: &PgPool,
    by: &Acting<'_>,
    selection: &[RepositoryId],
    action: HookAction,
) -> Result<Vec<JobId>, Error> {
    if selection.is_empty() || selection.len() > BATCH_MAX {
        return Err(Error::Invalid(format!(
            "select between 1 and {BATCH_MAX} repositories"
        )));
    }
    let mut tx = pool.begin().await?;
    let mut jobs = Vec::with_capacity(selection.len());
    for repository in selection {
        jobs.push(hook_job_in(&mut tx, by, *repository, action).await?);
    }
    tx.commit().await?;
    Ok(jobs)
}

/// The most repositories one batch connect or disconnect takes (one page of the list).
pub const BATCH_MAX: usize = 100;

async fn hook_job_in(
    tx: &mut sqlx::PgConnection,
    by: &Acting<'_>,
    repository: RepositoryId,
    action: HookAction,
) -> Result<JobId, Error> {
    let Acting { meta, org, actor } = *by;
    let found = match action {
        HookAction::Install => {
            repositories::set_monitoring(&mut *tx, org, repository, Monitoring::On).await?
        }
        HookAction::Remove => {
            repositories::set_monitoring(&mut *tx, org, repository, Monitoring::Off).await?
        }
        HookAction::Ping => repositories::find(&mut *tx, org, repository)
            .await?
            .is_some(),
    };
    if !found {
        return Err(Error::NotFound);
    }
    let job = jobs::push(
        &mut *tx,
        &RepositoryWebhook {
            org_id: org,
            repository_id: repository,
            action,
        },
    )
    .await?;
    job_rows::record_for_org(&mut *tx, org, &job, "repository_webhook").await?;
    if action != HookAction::Ping {
        let name = if action == HookAction::Install {
            AuditAction::RepositoryConnect
        } else {
            AuditAction::RepositoryDisconnect
        };
        audit(
            &mut *tx,
            meta,
            NewEntry::success(name)
                .org(org)
                .actor(actor)
                .resource(AuditResource::Repository, repository),
        )
        .await?;
    }
    Ok(job)
}

/// One page of the organisation's repositories by name.
pub struct RepoPage {
    pub items: Vec<repositories::Repository>,
    /// The last name on this page when more follow (give it back as `filter.after`).
    pub next_cursor: Option<String>,
}

/// A page of `filter.limit` repositories (the caller checks the limit) and the cursor of the next.
pub async fn page(
    pool: &PgPool,
    org: OrgId,
    mut filter: repositories::Filter,
) -> Result<RepoPage, Error> {
    let limit = usize::try_from(filter.limit.max(1)).unwrap_or(1);
    filter.limit = filter.limit.max(1) + 1;
    let mut items = repositories::list(pool, org, &filter).await?;
    let more = items.len() > limit;
    items.truncate(limit);
    let next_cursor = more
        .then(|| items.last().map(|r| r.full_name.clone()))
        .flatten();
    Ok(RepoPage { items, next_cursor })
}

/// Checks a repository's Slack channel list: at most 20 channel ids or `#names` of letters,
/// digits, `-` and `_`. The problem, as a field error text, when it is not valid.
pub fn check_channels(channels: &[String]) -> Result<(), &'static str> {
    let valid = |c: &str| {
        (1..=80).contains(&c.len())
            && c.chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "#-_".contains(ch))
    };
    if channels.len() <= 20 && channels.iter().all(|c| valid(c)) {
        Ok(())
    } else {
        Err("at most 20 channel ids or #names of letters, digits, - and _")
    }
}

/// Changes a repository's settings (`None` leaves a field as it is) and audits
/// `repository.settings_update` with each changed field's old and new value.
pub async fn update_settings(
    pool: &PgPool,
    by: &Acting<'_>,
    repository: RepositoryId,
    auto_incident: Option<bool>,
    slack_channels: Option<&serde_json::Value>,
) -> Result<repositories::Repository, Error> {
    let Acting { meta, org, actor } = *by;
    let mut tx = pool.begin().await?;
    let before = repositories::lock(&mut tx, org, repository)
        .await?
        .ok_or(Error::NotFound)?;
    let after =
        repositories::update_settings(&mut tx, org, repository, auto_incident, slack_channels)
            .await?
            .ok_or(Error::NotFound)?;
    let mut changes = serde_json::Map::new();
    if before.auto_incident != after.auto_incident {
        changes.insert(
            "auto_incident".into(),
            json!({ "from": before.auto_incident, "to": after.auto_incident }),
        );
    }
    if before.slack_channels != after.slack_channels {
        changes.insert(
            "slack_channels".into(),
            json!({ "from": before.slack_channels, "to": after.slack_channels }),
        );
    }
    audit(
        &mut *tx,
        meta,
        NewEntry::success(AuditAction::RepositorySettingsUpdate)
            .org(org)
            .actor(actor)
            .resource(AuditResource::Repository, repository)
            .meta(json!({ "full_name": after.full_name, "changes": changes })),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Enqueues a sync of the caller's connection's repositories into `org` (the connection must be
/// the caller's own).
pub async fn connection_sync_job(
    pool: &PgPool,
    org: OrgId,
    actor: UserId,
    connection: crate::domain::ConnectionId,
) -> Result<JobId, Error> {
    let mut tx = pool.begin().await?;
    crate::repo::oauth::find_for_user(&mut *tx, actor, connection)
        .await?
        .ok_or(Error::NotFound)?;
    let job = jobs::push(
        &mut tx,
        &jobs::SyncConnectionRepositories {
            org_id: org,
            connection_id: connection,
        },
    )
    .await?;
    job_rows::record_for_org(&mut *tx, org, &job, "sync_connection_repositories").await?;
    tx.commit().await?;
    Ok(job)
}
