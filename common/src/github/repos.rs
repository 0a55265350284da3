//! Repository monitoring switches: connect (monitor + install the hook), disconnect (stop + remove
//! the hook), settings, and the hook ping. Each writes its change and its job in one transaction.

use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    Error,
    domain::{OrgId, UserId},
    identity::{ClientMeta, audit},
    jobs::{self, HookAction, JobId, RepositoryWebhook},
    repo::{audit_logs::NewEntry, jobs as job_rows, repositories},
};

/// Switches monitoring and enqueues the matching hook job (or, for `Ping`, only the job).
pub async fn hook_job(
    pool: &PgPool,
    meta: &ClientMeta,
    org: OrgId,
    actor: UserId,
    repository: Uuid,
    action: HookAction,
) -> Result<JobId, Error> {
    let mut tx = pool.begin().await?;
    let found = match action {
        HookAction::Install => {
            repositories::set_monitoring(&mut *tx, org, repository, true).await?
        }
        HookAction::Remove => {
            repositories::set_monitoring(&mut *tx, org, repository, false).await?
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
            "repository.connect"
        } else {
            "repository.disconnect"
        };
        audit(
            &mut *tx,
            meta,
            NewEntry::success(name)
                .org(org)
                .actor(actor)
                .resource("repository", repository),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(job)
}

/// Enqueues a sync of the caller's connection's repositories into `org` (the connection must be
/// the caller's own).
pub async fn connection_sync_job(
    pool: &PgPool,
    org: OrgId,
    actor: UserId,
    connection: Uuid,
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
