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

/// A class of history that retention prunes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum History {
    /// Webhook deliveries' payloads (the rows stay). Deliveries still `received` (not yet
    /// processed) keep theirs: an accepted delivery is never lost to retention.
    DeliveryPayloads,
    /// Integration checks, by when they were made.
    Checks,
    /// Notifications, by when they were created.
    Notifications,
    /// Audit log entries, by when they were written.
    AuditEntries,
}

/// `sqlx::query!` that applies `$head` to the oldest `$2` rows of `$table` whose `$column` is before
/// `$1` (and that pass `$filter`), skipping rows another transaction holds. The batching rule is
/// written once, here.
macro_rules! oldest_batch {
    ($head:literal, $table:literal, $column:literal, $filter:literal, $before:expr, $batch:expr) => {
        sqlx::query!(
            $head
                + " WHERE id IN (SELECT id FROM "
                + $table
                + " WHERE "
                + $column
                + " < $1"
                + $filter
                + " ORDER BY "
                + $column
                + " LIMIT $2 FOR UPDATE SKIP LOCKED)",
            $before,
            $batch,
        )
    };
}

/// Prunes up to `batch` rows of the class from before `before`, oldest first; the rows pruned.
pub async fn prune_batch(
    db: impl PgExecutor<'_>,
    history: History,
    before: DateTime<Utc>,
    batch: i64,
) -> Result<u64, Error> {
    let query = match history {
        History::DeliveryPayloads => oldest_batch!(
            "UPDATE webhook_deliveries SET payload = ''::bytea, payload_pruned_at = now()",
            "webhook_deliveries",
            "received_at",
            " AND payload_pruned_at IS NULL AND status <> 'received'",
            before,
            batch
        ),
        History::Checks => oldest_batch!(
            "DELETE FROM integration_checks",
            "integration_checks",
            "checked_at",
            "",
            before,
            batch
        ),
        History::Notifications => oldest_batch!(
            "DELETE FROM notifications",
            "notifications",
            "created_at",
            "",
            before,
            batch
        ),
        History::AuditEntries => oldest_batch!(
            "DELETE FROM audit_logs",
            "audit_logs",
            "created_at",
            "",
            before,
            batch
        ),
    };
    Ok(query.execute(db).await?.rows_affected())
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
