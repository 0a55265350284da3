//! `effect_attempts`: marks committed before an outbound effect without an idempotency key of its
//! own, so a retry after a crash knows to look at the provider before acting again.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgExecutor;

use crate::Error;

/// An earlier attempt at the same effect.
#[derive(Debug, Clone)]
pub struct Earlier {
    pub started_at: DateTime<Utc>,
    pub detail: Value,
}

/// Records (and commits, on a pool) that the effect `key` is being attempted, with what the
/// attempt saw first (`detail`). Returns the earlier attempt when there was one: the provider may
/// already have applied it.
pub async fn begin(
    db: impl PgExecutor<'_>,
    key: &str,
    detail: &Value,
) -> Result<Option<Earlier>, Error> {
    // The SELECT runs on the statement's snapshot: it sees a row that existed before, never the
    // one this statement inserts.
    Ok(sqlx::query_as!(
        Earlier,
        r#"WITH inserted AS (
             INSERT INTO effect_attempts (key, detail) VALUES ($1, $2)
             ON CONFLICT (key) DO NOTHING RETURNING key
         )
         SELECT started_at AS "started_at!", detail AS "detail!" FROM effect_attempts
         WHERE key = $1 AND NOT EXISTS (SELECT 1 FROM inserted)"#,
        key,
        detail,
    )
    .fetch_optional(db)
    .await?)
}

/// Forgets marks older than `secs` (their jobs are long finished); returns how many.
pub async fn prune(db: impl PgExecutor<'_>, secs: f64) -> Result<u64, Error> {
    Ok(sqlx::query!(
        "DELETE FROM effect_attempts WHERE started_at < now() - make_interval(secs => $1)",
        secs,
    )
    .execute(db)
    .await?
    .rows_affected())
}

/// Records (replacing any earlier one) that the effect `key` is being attempted with `detail`.
pub async fn replace(db: impl PgExecutor<'_>, key: &str, detail: &Value) -> Result<(), Error> {
    sqlx::query!(
        "INSERT INTO effect_attempts (key, detail) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET detail = EXCLUDED.detail, started_at = now()",
        key,
        detail,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The attempt marked for `key`, if any.
pub async fn find(db: impl PgExecutor<'_>, key: &str) -> Result<Option<Earlier>, Error> {
    Ok(sqlx::query_as!(
        Earlier,
        "SELECT started_at, detail FROM effect_attempts WHERE key = $1",
        key,
    )
    .fetch_optional(db)
    .await?)
}

/// Forgets the mark of `key` once its effect is recorded elsewhere.
pub async fn finish(db: impl PgExecutor<'_>, key: &str) -> Result<(), Error> {
    sqlx::query!("DELETE FROM effect_attempts WHERE key = $1", key)
        .execute(db)
        .await?;
    Ok(())
}
