//! Integration syncs on the row: the schedule (`next_sync_at`), the fan-out query, and the last
//! sync's time and outcome.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use super::Due;
use crate::{
    Error,
    domain::{IntegrationId, IntegrationKind, OrgId},
};

/// Gives every enabled integration of `kinds` that has no sync scheduled yet its first due time
/// (now, to the second). Concurrent callers agree: a row another caller set is left alone.
pub async fn schedule_first_syncs(
    db: impl PgExecutor<'_>,
    kinds: &[IntegrationKind],
) -> Result<u64, Error> {
    Ok(sqlx::query!(
        "UPDATE integrations SET next_sync_at = date_trunc('second', now())
         WHERE next_sync_at IS NULL AND enabled AND kind = ANY($1)",
        kinds as &[IntegrationKind],
    )
    .execute(db)
    .await?
    .rows_affected())
}

/// Integrations of `kinds` whose next sync is due. Across organisations on purpose: the
/// scheduler's fan-out (each sync then loads its organisation).
pub async fn due_for_sync(
    db: impl PgExecutor<'_>,
    kinds: &[IntegrationKind],
) -> Result<Vec<Due>, Error> {
    Ok(sqlx::query_as!(
        Due,
        r#"SELECT id AS "id: _", next_sync_at AS "at!" FROM integrations
         WHERE enabled AND status NOT IN ('disabled', 'reauth_required') AND next_sync_at <= now()
           AND kind = ANY($1)
         ORDER BY next_sync_at LIMIT 5000"#,
        kinds as &[IntegrationKind],
    )
    .fetch_all(db)
    .await?)
}

/// Moves a stale due time `from` to `to`, only if it is still `from` (true when this call moved it).
/// By id alone on purpose, like [`due_for_sync`]: the scheduler's fan-out.
pub async fn move_due_sync(
    db: impl PgExecutor<'_>,
    id: IntegrationId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<bool, Error> {
    Ok(sqlx::query!(
        "UPDATE integrations SET next_sync_at = $3 WHERE id = $1 AND next_sync_at = $2",
        id as IntegrationId,
        from,
        to,
    )
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}

/// Records a sync: its time and outcome, and (when given) the next due time.
pub async fn apply_sync(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: IntegrationId,
    outcome: &serde_json::Value,
    next_sync_at: Option<DateTime<Utc>>,
) -> Result<(), Error> {
    sqlx::query!(
        "UPDATE integrations SET last_sync_at = now(), last_sync = $3,
             next_sync_at = coalesce($4, next_sync_at)
         WHERE org_id = $1 AND id = $2",
        org as OrgId,
        id as IntegrationId,
        outcome,
        next_sync_at,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The integration's next scheduled sync (read under the caller's row lock).
pub async fn next_sync(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: IntegrationId,
) -> Result<Option<DateTime<Utc>>, Error> {
    Ok(sqlx::query_scalar!(
        "SELECT next_sync_at FROM integrations WHERE org_id = $1 AND id = $2",
        org as OrgId,
        id as IntegrationId,
    )
    .fetch_optional(db)
    .await?
    .flatten())
}
