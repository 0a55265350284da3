//! `probe_runs`: counters written by the diagnostic `probe` job.

use sqlx::{PgConnection, PgPool};

use crate::Error;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeRun {
    pub key: String,
    pub starts: i32,
    pub completions: i32,
}

/// Counts one start of the probe `key` (committed at once, so a crash later still shows it).
pub async fn record_start(pool: &PgPool, key: &str) -> Result<(), Error> {
    sqlx::query!(
        "INSERT INTO probe_runs (key, starts) VALUES ($1, 1)
         ON CONFLICT (key) DO UPDATE SET starts = probe_runs.starts + 1, updated_at = now()",
        key,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Counts the completion of probe `key`; call inside the transaction that claimed the job.
pub async fn record_completion(tx: &mut PgConnection, key: &str) -> Result<(), Error> {
    sqlx::query!(
        "INSERT INTO probe_runs (key, completions) VALUES ($1, 1)
         ON CONFLICT (key) DO UPDATE SET completions = probe_runs.completions + 1, updated_at = now()",
        key,
    )
    .execute(tx)
    .await?;
    Ok(())
}

pub async fn find(pool: &PgPool, key: &str) -> Result<Option<ProbeRun>, Error> {
    Ok(sqlx::query_as!(
        ProbeRun,
        "SELECT key, starts, completions FROM probe_runs WHERE key = $1",
        key,
    )
    .fetch_optional(pool)
    .await?)
}
