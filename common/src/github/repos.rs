//! Repository monitoring switches: connect (monitor + install the hook), disconnect (stop + remove
//! the hook), settings (audited with old and new values), and the hook ping. Each writes its change
//! and its job in one transaction.

use crate::domain::{AuditAction, AuditResource};
use serde_json::json;
use sqlx::PgPool;

use crate::{
    Error,
    domain::{OrgId, RepositoryId, UserId},
    identity::{ClientMeta, audit},
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
    meta: &ClientMeta,
    org: OrgId,
    actor: UserId,
    repository: RepositoryId,
    action: HookAction,
) -> Result<JobId, Error> {
    let mut tx = pool.begin().await?;
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
        &mut tx,
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
    tx.commit().await?;
    Ok(job)
}

/// Changes a repository's settings (`None` leaves a field as it is) and audits
/// `repository.settings_update` with each changed field's old and new value.
pub async fn update_settings(
    pool: &PgPool,
    meta: &ClientMeta,
    org: OrgId,
    actor: UserId,
    repository: RepositoryId,
    auto_incident: Option<bool>,
    slack_channels: Option<&serde_json::Value>,
) -> Result<repositories::Repository, Error> {
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
