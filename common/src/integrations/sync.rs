//! Syncing integrations (Argo CD: copying its applications). Each integration's `next_sync_at` is
//! its one scheduled due time, run once across all workers (the job is keyed by the due time and
//! the row is locked while the result is applied, after checking the due time is still current);
//! a sync someone asks for runs whatever the schedule. A server that cannot be read changes no
//! application and no incident: the failure goes to the integration's health (its next check is
//! brought forward, and the existing backoff takes it from there) and to the sync outcome.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::PgPool;

use super::{
    decrypt,
    providers::{
        self,
        argocd::{self, ArgoSettings},
    },
    schedule_check, whole_second,
};
use crate::{
    Error,
    domain::{ApplicationId, HealthStatus, IntegrationId, IntegrationKind},
    incidents::{self, DeploymentOutcome},
    jobs::{self, Enqueue, SyncIntegration},
    repo::{applications, integrations},
    services::Services,
};

/// The longest the server may take to list its applications.
pub const SYNC_BUDGET: std::time::Duration = std::time::Duration::from_secs(60);

/// What a sync job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncRun {
    /// Nothing to do: deleted, disabled, not synced in this state, or this due time is past.
    Skipped(&'static str),
    /// The server could not be read; nothing but the outcome and the health changed.
    Failed(String),
    Synced {
        applications: usize,
        removed: usize,
        incidents: DeploymentOutcome,
    },
}

/// The kinds synced on their own schedule.
pub fn synced_kinds() -> Vec<IntegrationKind> {
    providers::all()
        .filter(|p| p.syncs_on_interval())
        .map(|p| p.kind())
        .collect()
}

/// Enqueues the sync due at `due` (once: the job is keyed by the due time). False when a job for
/// that due time exists already.
pub async fn schedule_sync(
    conn: &mut sqlx::PgConnection,
    id: IntegrationId,
    due: DateTime<Utc>,
) -> Result<bool, Error> {
    let job = jobs::push_with(
        conn,
        &SyncIntegration {
            integration_id: id,
            due_at: Some(due),
        },
        Enqueue {
            run_at: Some(due),
            idempotency_key: Some(format!("sync:{id}:{}", due.timestamp())),
        },
    )
    .await?;
    // The organisation sees its scheduled syncs among its jobs.
    if let Some(job) = &job {
        crate::repo::org_jobs::record_for_integration(&mut *conn, id, job, "sync_integration")
            .await?;
    }
    Ok(job.is_some())
}

/// How long a due time may stay due after its job was enqueued. A job that ends without moving it
/// on (skipped while the integration was disabled, or dead after its attempts) holds its key for
/// good, so past this the due time is moved to now and a new job keyed by it is enqueued.
pub const STALE_DUE: chrono::Duration = chrono::Duration::minutes(15);

/// The scheduler's fan-out: gives new integrations their first due time, then enqueues the sync of
/// every integration that is due (once per due time), rescuing due times that went stale. Returns
/// how many were due.
pub async fn sync_due(pool: &PgPool) -> Result<usize, Error> {
    let kinds = synced_kinds();
    integrations::schedule_first_syncs(pool, &kinds).await?;
    let due = integrations::due_for_sync(pool, &kinds).await?;
    let mut conn = pool.acquire().await?;
    for d in &due {
        let now = Utc::now();
        if !schedule_sync(&mut conn, d.id, d.at).await? && d.at < now - STALE_DUE {
            // Compare-and-set: of several schedulers, one moves the due time and enqueues.
            let at = whole_second(now);
            if integrations::move_due_sync(&mut *conn, d.id, d.at, at).await? {
                schedule_sync(&mut conn, d.id, at).await?;
            }
        }
    }
    Ok(due.len())
}

/// Syncs integration `id`: for its due time `due_at`, or (`None`) because someone asked.
pub async fn run_sync(
    services: &Services,
    id: IntegrationId,
    due_at: Option<DateTime<Utc>>,
) -> Result<SyncRun, Error> {
    let (pool, keyring) = (&services.pool, &services.keyring);
    let Some(org) = integrations::org_of(pool, id).await? else {
        return Ok(SyncRun::Skipped("deleted"));
    };
    let Some(row) = integrations::sealed(pool, org, id).await? else {
        return Ok(SyncRun::Skipped("deleted"));
    };
    if !row.enabled || !row.status.is_checked() {
        return Ok(SyncRun::Skipped("not synced in this state"));
    }
    if row.kind != IntegrationKind::ArgoCd {
        return Ok(SyncRun::Skipped("nothing to sync"));
    }
    if due_at.is_some() && integrations::next_sync(pool, org, id).await? != due_at {
        return Ok(SyncRun::Skipped("not due"));
    }
    let settings = ArgoSettings::of(&row.config);
    let config = row.config.as_object().cloned().unwrap_or_default();
    let creds = decrypt(pool, keyring, &row, "sync").await?;
    let listed = match tokio::time::timeout(
        SYNC_BUDGET,
        argocd::list_applications(&services.tester, &config, &creds),
    )
    .await
    {
        Ok(Ok(list)) => Ok(argocd::parse_applications(&list)),
        Ok(Err(failure)) => Err(failure.message().to_owned()),
        Err(_) => Err(format!(
            "Argo CD did not list its applications within {} s",
            SYNC_BUDGET.as_secs()
        )),
    };

    let mut tx = pool.begin().await?;
    let Some(locked) = integrations::lock(&mut tx, org, id).await? else {
        return Ok(SyncRun::Skipped("deleted"));
    };
    if due_at.is_some() && integrations::next_sync(&mut *tx, org, id).await? != due_at {
        return Ok(SyncRun::Skipped("rescheduled meanwhile"));
    }
    let now = Utc::now();
    let next =
        due_at.map(|_| whole_second(now + chrono::Duration::seconds(settings.sync_interval)));
    let run = match listed {
        Err(error) => {
            integrations::apply_sync(
                &mut *tx,
                org,
                id,
                &json!({"ok": false, "error": error, "at": now}),
                next,
            )
            .await?;
            // The health check records the failure with the existing backoff; one already
            // backing off keeps its time.
            if locked.status == HealthStatus::Active
                && locked.next_check_at.is_some_and(|at| at > now)
            {
                let at = whole_second(now);
                integrations::set_next_check(&mut *tx, org, id, at).await?;
                schedule_check(&mut tx, id, at).await?;
            }
            SyncRun::Failed(error)
        }
        Ok(seen) => {
            let mut kept: Vec<ApplicationId> = Vec::with_capacity(seen.len());
            let mut stored = Vec::with_capacity(seen.len());
            for app in &seen {
                let row = applications::upsert(&mut tx, org, id, app).await?;
                kept.push(row.id);
                stored.push(row);
            }
            let removed = applications::mark_removed(&mut tx, org, id, &kept).await?;
            let outcome = incidents::evaluate_deployments(
                &mut tx,
                i64::try_from(services.config.slack.group_notify_window_secs).unwrap_or(i64::MAX),
                &locked,
                &settings,
                &stored,
            )
            .await?;
            integrations::apply_sync(
                &mut *tx,
                org,
                id,
                &json!({"ok": true, "at": now, "applications": stored.len(), "removed": removed.len(),
                        "opened": outcome.opened, "resolved": outcome.resolved}),
                next,
            )
            .await?;
            SyncRun::Synced {
                applications: stored.len(),
                removed: removed.len(),
                incidents: outcome,
            }
        }
    };
    if let Some(at) = next {
        schedule_sync(&mut tx, id, at).await?;
    }
    tx.commit().await?;
    tracing::info!(integration = %id, ?run, "integration synced");
    Ok(run)
}

/// The organisation's integration's applications (not found: another organisation's, or none).
pub async fn applications_of(
    pool: &PgPool,
    org: crate::domain::OrgId,
    id: IntegrationId,
    filter: &applications::Filter,
) -> Result<Vec<applications::Application>, Error> {
    integrations::find(pool, org, id)
        .await?
        .ok_or(Error::NotFound)?;
    applications::list(pool, org, id, filter).await
}
