//! `probe_runs`: counters written by the diagnostic `probe` job.

use sqlx::{PgExecutor, PgPool};

use crate::Error;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeRun {
    pub key: String,
    pub starts: i32,
    pub completions: i32,
}

/// What a probe counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// One start (recorded at once on the pool, so a crash later still shows it).
    Start,
    /// Its completion (recorded inside the transaction that claimed the job).
    Completion,
}

/// Counts one `what` of the probe `key`.
pub async fn count(db: impl PgExecutor<'_>, key: &str, what: Count) -> Result<(), Error> {
    let (starts, completions) = match what {
        Count::Start => (1, 0),
        Count::Completion => (0, 1),
    };
    sqlx::query!(
        "INSERT INTO probe_runs (key, starts, completions) VALUES ($1, $2, $3)
         ON CONFLICT (key) DO UPDATE SET starts = probe_runs.starts + EXCLUDED.starts,
             completions = probe_runs.completions + EXCLUDED.completions, updated_at = now()",
        key,
        starts,
        completions,
    )
    .execute(db)
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
