//! Pruning of old history, one bounded batch per call, oldest first, so no statement holds locks
//! for long and concurrent writers are never blocked behind a large delete.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::Error;

/// The moment before which history of a class is pruned.
pub fn cutoff(keep: Duration) -> DateTime<Utc> {
    Utc::now() - chrono::Duration::from_std(keep).unwrap_or(chrono::Duration::MAX)
}

/// Empties the payloads of up to `batch` deliveries received before `before`, keeping their rows.
/// Deliveries still `received` (not yet processed) keep their payloads: an accepted delivery is
/// never lost to retention.
pub async fn drop_delivery_payloads(
    db: impl PgExecutor<'_>,
    before: DateTime<Utc>,
    batch: i64,
) -> Result<u64, Error> {
    Ok(sqlx::query!(
        "UPDATE webhook_deliveries SET payload = ''::bytea, payload_pruned_at = now()
         WHERE id IN (
             SELECT id FROM webhook_deliveries
             WHERE payload_pruned_at IS NULL AND received_at < $1 AND status <> 'received'
             ORDER BY received_at
             LIMIT $2
             FOR UPDATE SKIP LOCKED)",
        before,
        batch,
    )
    .execute(db)
    .await?
    .rows_affected())
}

/// Deletes up to `batch` integration checks made before `before`.
pub async fn delete_checks(
    db: impl PgExecutor<'_>,
    before: DateTime<Utc>,
    batch: i64,
) -> Result<u64, Error> {
    Ok(sqlx::query!(
        "DELETE FROM integration_checks
         WHERE id IN (
             SELECT id FROM integration_checks WHERE checked_at < $1
             ORDER BY checked_at
             LIMIT $2
             FOR UPDATE SKIP LOCKED)",
        before,
        batch,
    )
    .execute(db)
    .await?
    .rows_affected())
}

/// Deletes up to `batch` notifications created before `before`.
pub async fn delete_notifications(
    db: impl PgExecutor<'_>,
    before: DateTime<Utc>,
    batch: i64,
) -> Result<u64, Error> {
    Ok(sqlx::query!(
        "DELETE FROM notifications
         WHERE id IN (
             SELECT id FROM notifications WHERE created_at < $1
             ORDER BY created_at
             LIMIT $2
             FOR UPDATE SKIP LOCKED)",
        before,
        batch,
    )
    .execute(db)
    .await?
    .rows_affected())
}

/// Deletes up to `batch` audit log entries written before `before`.
pub async fn delete_audit_entries(
    db: impl PgExecutor<'_>,
    before: DateTime<Utc>,
    batch: i64,
) -> Result<u64, Error> {
    Ok(sqlx::query!(
        "DELETE FROM audit_logs
         WHERE id IN (
             SELECT id FROM audit_logs WHERE created_at < $1
             ORDER BY created_at
             LIMIT $2
             FOR UPDATE SKIP LOCKED)",
        before,
        batch,
    )
    .execute(db)
    .await?
    .rows_affected())
}

/// Whether the delivery's payload was dropped by retention (`None`: no such delivery in the org).
pub async fn delivery_payload_pruned(
    db: impl PgExecutor<'_>,
    org_id: crate::domain::OrgId,
    delivery: crate::domain::DeliveryId,
) -> Result<Option<bool>, Error> {
    Ok(sqlx::query_scalar!(
        r#"SELECT payload_pruned_at IS NOT NULL AS "pruned!"
           FROM webhook_deliveries WHERE id = $1 AND org_id = $2"#,
        delivery as crate::domain::DeliveryId,
        org_id as crate::domain::OrgId,
    )
    .fetch_optional(db)
    .await?)
}
