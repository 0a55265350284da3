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

use std::collections::HashMap;

use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Window, rate, samples::percentile_cont, whole};
use crate::{
    Error,
    repo::{
        analytics::{self, RepositoryParts},
        analytics_incidents::{self, Moment},
        analytics_rollups,
    },
};

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
    let parts = repository_parts(pool, window).await?;
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

/// Each repository's parts: runs from the run rollup (whole days) and the runs of the partial
/// days, open incidents now, and the median time to resolve of the incidents resolved in the
/// window (every workflow and branch). Repositories that are not removed, and are monitored or had
/// runs or open incidents.
async fn repository_parts(pool: &PgPool, window: &Window) -> Result<Vec<RepositoryParts>, Error> {
    let s = &window.scope;
    let whole = window.whole_days();
    if let Some((lo, hi)) = whole {
        analytics_rollups::refresh(pool, s.org, lo, hi).await?;
    }
    let run_days = whole
        .filter(|_| s.branch.is_none())
        .unwrap_or((s.from, s.from));
    let runs: HashMap<_, _> = analytics_rollups::runs_per_repository(pool, s, run_days)
        .await?
        .into_iter()
        .map(|(id, runs, failures)| (id, (runs, failures)))
        .collect();
    let open: HashMap<_, _> = analytics_incidents::open_per_repository(pool, s.org)
        .await?
        .into_iter()
        .collect();
    // MTTR does not follow the workflow, branch or repository filters: the resolved incidents of
    // the whole days' rows and of the partial days.
    let mut resolve: HashMap<_, Vec<f64>> = HashMap::new();
    let mut add = |repo: Option<Uuid>, secs: Option<f64>| {
        if let (Some(repo), Some(secs)) = (repo, secs) {
            resolve.entry(repo).or_default().push(secs);
        }
    };
    let all = analytics::Scope {
        repository: None,
        workflow: None,
        branch: None,
        ..s.clone()
    };
    let ends = match whole {
        None => vec![(s.from, s.to)],
        Some((lo, hi)) => {
            for (repos, secs) in analytics_incidents::resolved_in_days(pool, s.org, lo, hi).await? {
                for (repo, secs) in repos.into_iter().zip(secs) {
                    add(repo, Some(secs));
                }
            }
            vec![(s.from, lo), (hi, s.to)]
        }
    };
    for (from, to) in ends.into_iter().filter(|(from, to)| from < to) {
        for r in
            analytics_incidents::samples(pool, &all, Moment::Resolved, (from, to), None).await?
        {
            add(r.repository_id, r.resolve_secs);
        }
    }
    Ok(analytics::repositories(pool, s.org)
        .await?
        .into_iter()
        .filter(|r| !r.removed && s.repository.is_none_or(|want| want == r.id))
        .filter(|r| r.monitored || runs.contains_key(&r.id) || open.contains_key(&r.id))
        .map(|r| {
            let (runs, failures) = runs.get(&r.id).copied().unwrap_or((0, 0));
            RepositoryParts {
                repository_id: r.id,
                monitored: r.monitored,
                runs,
                failures,
                open_incidents: open.get(&r.id).copied().unwrap_or(0),
                mttr_p50_secs: resolve.get_mut(&r.id).and_then(|v| percentile_cont(v, 0.5)),
                repository: r.full_name,
            }
        })
        .collect())
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
