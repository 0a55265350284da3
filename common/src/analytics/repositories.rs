//! A health score per repository, ranked worst first, with the parts that make it up.
//!
//! score = 100 × (0.5 × (1 − failure rate) + 0.2 × 1 / (1 + open incidents)
//!                + 0.2 × max(0, 1 − MTTR hours / 24) + 0.1 × monitored)
//!
//! - the failure rate is over the window's completed runs (0 with no runs);
//! - open incidents are counted now, whatever the window;
//! - MTTR is the median time to resolve of incidents resolved in the window (the part is 1 when
//!   none were resolved, and 0 from 24 hours up);
//! - monitored is 1 when the repository's hook is installed and monitoring is on.

use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Window, rate, whole};
use crate::{Error, repo::analytics::RepositoryParts};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RepositoryHealth {
    /// 1 for the worst score.
    pub rank: usize,
    pub repository_id: Uuid,
    pub repository: String,
    /// 0 (worst) to 100 (best), one decimal.
    pub score: f64,
    pub runs: i64,
    pub failures: i64,
    pub failure_rate: f64,
    pub open_incidents: i64,
    pub mttr_p50_secs: Option<i64>,
    pub monitored: bool,
}

/// The score of one repository's parts (see the module documentation).
pub fn health_score(p: &RepositoryParts) -> f64 {
    let failure = 1.0 - rate(p.failures, p.runs);
    let open = 1.0 / (1.0 + p.open_incidents.max(0) as f64);
    let mttr = p
        .mttr_p50_secs
        .filter(|s| s.is_finite())
        .map_or(1.0, |secs| (1.0 - secs / (24.0 * 3600.0)).clamp(0.0, 1.0));
    let monitored = if p.monitored { 1.0 } else { 0.0 };
    let score = 100.0 * (0.5 * failure + 0.2 * open + 0.2 * mttr + 0.1 * monitored);
    (score * 10.0).round() / 10.0
}

pub async fn repositories(
    pool: &PgPool,
    window: &Window,
    limit: usize,
) -> Result<Vec<RepositoryHealth>, Error> {
    let parts = crate::repo::analytics::repository_parts(pool, &window.scope).await?;
    let mut ranked: Vec<RepositoryHealth> = parts
        .iter()
        .map(|p| RepositoryHealth {
            rank: 0,
            repository_id: p.repository_id,
            repository: p.repository.clone(),
            score: health_score(p),
            runs: p.runs,
            failures: p.failures,
            failure_rate: rate(p.failures, p.runs),
            open_incidents: p.open_incidents,
            mttr_p50_secs: whole(p.mttr_p50_secs),
            monitored: p.monitored,
        })
        .collect();
    ranked.sort_by(|a, b| {
        a.score
            .total_cmp(&b.score)
            .then_with(|| a.repository.cmp(&b.repository))
    });
    ranked.truncate(limit);
    for (i, r) in ranked.iter_mut().enumerate() {
        r.rank = i + 1;
    }
    Ok(ranked)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(
        runs: i64,
        failures: i64,
        open: i64,
        mttr: Option<f64>,
        monitored: bool,
    ) -> RepositoryParts {
        RepositoryParts {
            repository_id: Uuid::nil(),
            repository: "o/r".into(),
            monitored,
            runs,
            failures,
            open_incidents: open,
            mttr_p50_secs: mttr,
        }
    }

    #[test]
    fn the_score_follows_the_documented_formula() {
        assert_eq!(health_score(&parts(0, 0, 0, None, true)), 100.0);
        assert_eq!(health_score(&parts(10, 10, 0, None, true)), 50.0);
        // 0.5 × 0.5 + 0.2 × 1/2 + 0.2 × (1 − 6/24) + 0 = 0.25 + 0.1 + 0.15 = 0.5
        assert_eq!(
            health_score(&parts(4, 2, 1, Some(6.0 * 3600.0), false)),
            50.0
        );
        assert_eq!(
            health_score(&parts(1, 1, 1_000_000, Some(1e12), false)),
            0.0
        );
    }
}
