//! `job_effects`: the ledger that makes a job's effect happen once even though delivery is
//! at-least-once. A handler claims its job id in the same transaction as its effect.

use sqlx::PgConnection;

use crate::{Error, jobs::JobId};

/// Records that `job_id` has applied its effect. Returns `false` when it already had, in which case
/// the caller must skip the effect (and may commit or roll back; nothing was written).
pub async fn claim(tx: &mut PgConnection, job_id: &JobId) -> Result<bool, Error> {
    let inserted = sqlx::query!(
        "INSERT INTO job_effects (job_id) VALUES ($1) ON CONFLICT (job_id) DO NOTHING",
        job_id as &JobId,
    )
    .execute(tx)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}
