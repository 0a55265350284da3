//! Scheduled health checks. Each integration's `next_check_at` is its one due time; the check for
//! it runs once across all workers (the job is keyed by the due time, the row is locked while the
//! result is applied, and the history has one row per due time), then enqueues the next check
//! with a later run time. Recovery actions: an expired rotating token is refreshed and the test
//! repeated; a refused credential stops the checks (`reauth_required`); the GitHub App tester
//! re-mints refused installation tokens and reinstalls vanished hooks.

use crate::domain::{AuditAction, AuditResource};
use chrono::Utc;
use serde_json::json;
use sqlx::PgPool;

use super::{
    Failure, TestReport, decrypt,
    health::{self, HealthState},
    providers::RefreshCx,
    refresh::{OnRefusal, RefreshRequest, refresh_token},
    schedule_check, whole_second,
};
use crate::{
    Error,
    domain::{HealthStatus, IntegrationId, NotificationKind, OrgId, RecoveryAction},
    github::{RefreshOutcome, RefreshWhen},
    jobs::{self, NotifyIntegrationHealth},
    repo::{
        audit_logs::{self, NewEntry},
        integrations::{self, CheckApplied, NewCheck},
        notifications::{self, About},
    },
    services::Services,
};

/// The longest a whole check may take (the `check_integration` job's timeout is 120 s).
pub const CHECK_BUDGET: std::time::Duration = std::time::Duration::from_secs(90);

/// What a check job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckRun {
    /// Nothing to do: deleted, disabled, not checked in this state, or this due time is past
    /// (already checked, or rescheduled).
    Skipped(&'static str),
    Checked {
        ok: bool,
        status_before: HealthStatus,
        status_after: HealthStatus,
    },
}

fn not_checked(status: HealthStatus) -> bool {
    !status.is_checked()
}

/// Checks integration `id` for its due time `due_at`.
pub async fn run_check(
    services: &Services,
    id: IntegrationId,
    due_at: chrono::DateTime<Utc>,
) -> Result<CheckRun, Error> {
    let (tester, pool, keyring) = (&services.tester, &services.pool, &services.keyring);
    // The job carries the integration id only: its organisation scopes every call below.
    let Some(org) = integrations::org_of(pool, id).await? else {
        return Ok(CheckRun::Skipped("deleted"));
    };
    let Some(row) = integrations::sealed(pool, org, id).await? else {
        return Ok(CheckRun::Skipped("deleted"));
    };
    if !row.enabled || not_checked(row.status) {
        return Ok(CheckRun::Skipped("not checked in this state"));
    }
    if row.next_check_at != Some(due_at) {
        return Ok(CheckRun::Skipped("not due"));
    }
    let creds = decrypt(pool, keyring, &row, "health_check").await?;
    // One deadline for the whole check (a test, a token refresh, a second test), well inside the
    // job's timeout: running out is an ordinary, recorded failure.
    let started = std::time::Instant::now();
    let work = async {
        let report = tester.test(row.org_id, row.kind, &row.config, &creds).await;
        if matches!(report.failure, Some(Failure::Expired(_))) {
            recover_expired(services, org, id, report).await
        } else {
            Ok(report)
        }
    };
    let report = match tokio::time::timeout(CHECK_BUDGET, work).await {
        Ok(report) => report?,
        Err(_) => TestReport::gave_up(CHECK_BUDGET, started.elapsed()),
    };

    let mut tx = pool.begin().await?;
    let Some(locked) = integrations::lock(&mut tx, org, id).await? else {
        return Ok(CheckRun::Skipped("deleted"));
    };
    if locked.next_check_at != Some(due_at) || !locked.enabled || not_checked(locked.status) {
        return Ok(CheckRun::Skipped("rescheduled meanwhile"));
    }
    let now = Utc::now();
    let before = locked.status;
    let next = health::next(
        &tester.policy,
        &HealthState {
            status: locked.status,
            consecutive_failures: locked.consecutive_failures,
            failing_since: locked.failing_since,
        },
        &report.verdict(),
        now,
        rand::random::<f64>(),
    );
    let next_check_at = next.next_check_at.map(whole_second);
    let error = report.error();
    let check_id = integrations::insert_check(
        &mut *tx,
        &NewCheck {
            integration: id,
            org: row.org_id,
            due_at: Some(due_at),
            ok: report.ok,
            latency_ms: report.latency_ms,
            attempts: report.attempts,
            error: error.as_deref(),
            details: &report.details,
            action: report.action,
            status_before: before,
            status_after: next.status,
        },
    )
    .await?;
    let Some(check_id) = check_id else {
        // This due time was checked before, yet it is due again (set back by a clock behind the
        // database's): move on to a new due time rather than skip it for ever.
        let mut at = whole_second(now.max(due_at) + chrono::Duration::seconds(1));
        for _ in 0..60 {
            if schedule_check(&mut tx, id, at).await? {
                break;
            }
            at += chrono::Duration::seconds(1);
        }
        integrations::set_next_check(&mut *tx, org, id, at).await?;
        tx.commit().await?;
        return Ok(CheckRun::Skipped("already checked; rescheduled"));
    };
    integrations::apply_check(
        &mut *tx,
        org,
        id,
        &CheckApplied {
            ok: report.ok,
            status: next.status,
            consecutive_failures: next.consecutive_failures,
            failing_since: next.failing_since,
            last_error: next.last_error.as_deref(),
            latency_ms: report.latency_ms,
            next_check_at,
            api_calls: report.attempts,
            api_errors: report.errors,
        },
    )
    .await?;
    if next.status != before {
        audit_logs::insert(
            &mut *tx,
            &NewEntry::success(AuditAction::IntegrationHealthTransition)
                .org(row.org_id)
                .resource(AuditResource::Integration, id)
                .meta(json!({"from": before, "to": next.status, "error": error,
                             "consecutive_failures": next.consecutive_failures})),
        )
        .await?;
    }
    if next.notifies(before) {
        let (kind, title) = if next.status == HealthStatus::Error {
            (
                NotificationKind::IntegrationError,
                format!(
                    "{} integration failing: {}",
                    row.kind,
                    error.as_deref().unwrap_or("unknown error")
                ),
            )
        } else {
            (
                NotificationKind::IntegrationRecovered,
                format!("{} integration recovered", row.kind),
            )
        };
        notifications::notify_admins(&mut tx, row.org_id, About::Integration(id.0), kind, &title)
            .await?;
        // And to the Slack alert channel, by its own job (retried on its own, after this commits).
        jobs::push(
            &mut tx,
            &NotifyIntegrationHealth {
                org_id: row.org_id,
                check_id,
            },
        )
        .await?;
    }
    if let Some(at) = next_check_at {
        schedule_check(&mut tx, id, at).await?;
    }
    tx.commit().await?;
    tracing::info!(integration = %id, kind = %row.kind, ok = report.ok, from = %before, to = %next.status,
        latency_ms = report.latency_ms, attempts = report.attempts, "integration checked");
    Ok(CheckRun::Checked {
        ok: report.ok,
        status_before: before,
        status_after: next.status,
    })
}

/// An expired token: refresh it and test again; without a way to refresh, the credentials need
/// replacing (rejected).
async fn recover_expired(
    services: &Services,
    org: OrgId,
    id: IntegrationId,
    first: TestReport,
) -> Result<TestReport, Error> {
    let (tester, pool, keyring) = (&services.tester, &services.pool, &services.keyring);
    let message = first.error().unwrap_or_default();
    let rejected = |mut r: TestReport, why: String| {
        r.failure = Some(Failure::Rejected(why));
        r
    };
    let now_leaving_health = RefreshRequest {
        when: RefreshWhen::Now,
        on_refusal: OnRefusal::LeaveHealth,
    };
    match refresh_token(&RefreshCx::of(services), org, id, now_leaving_health).await {
        Ok(RefreshOutcome::Refreshed | RefreshOutcome::AlreadyFresh) => {
            let Some(row) = integrations::sealed(pool, org, id).await? else {
                return Ok(first);
            };
            let creds = decrypt(pool, keyring, &row, "health_check").await?;
            let mut again = tester.test(row.org_id, row.kind, &row.config, &creds).await;
            again.attempts += first.attempts;
            again.errors += first.errors;
            again.latency_ms = again.latency_ms.saturating_add(first.latency_ms);
            again.action = Some(RecoveryAction::TokenRefreshed);
            Ok(again)
        }
        Ok(RefreshOutcome::NotRefreshable) => Ok(rejected(
            first,
            format!("{message}; no refresh token to renew it"),
        )),
        Ok(RefreshOutcome::ReauthRequired) => Ok(rejected(
            first,
            format!("{message}; the refresh token was refused"),
        )),
        Err(e) => {
            // Slack unreachable for the refresh: an ordinary failure, tried again next check.
            let mut r = first;
            r.failure = Some(Failure::Transient {
                message: format!("{message}; refreshing failed: {e}"),
                retry_after: None,
            });
            Ok(r)
        }
    }
}

/// The scheduler's fan-out: enqueues the check of every integration that is due (a check already
/// enqueued for the same due time is not enqueued again). Returns how many were due.
pub async fn check_due(pool: &PgPool) -> Result<usize, Error> {
    let due = integrations::due_for_check(pool).await?;
    let mut conn = pool.acquire().await?;
    for d in &due {
        schedule_check(&mut conn, d.id, d.at).await?;
    }
    Ok(due.len())
}
