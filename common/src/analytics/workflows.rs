//! Runs per bucket: how many, how many failed, the failure rate and median/p90 duration, overall
//! and per workflow.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;

use super::{Window, rate, whole};
use crate::{
    Error,
    domain::Bucket,
    repo::{
        analytics::{self, RunBucket, Scope},
        analytics_rollups,
    },
};

/// One point of a run series. Buckets without runs are present with zero runs.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RunBucketOut {
    /// The bucket's start (UTC midnight; Monday for weeks).
    #[schema(example = "2026-11-02T00:00:00Z")]
    pub bucket_start: DateTime<Utc>,
    /// Completed runs.
    pub runs: i64,
    /// Runs that concluded `failure` or `timed_out`.
    pub failures: i64,
    /// `failures / runs`, 0 when there were no runs.
    pub failure_rate: f64,
    pub duration_p50_ms: Option<i64>,
    pub duration_p90_ms: Option<i64>,
}

/// One workflow's series.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkflowSeries {
    pub workflow: String,
    pub runs: i64,
    pub failures: i64,
    pub failure_rate: f64,
    pub series: Vec<RunBucketOut>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkflowStats {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub bucket: Bucket,
    pub runs: i64,
    pub failures: i64,
    pub failure_rate: f64,
    pub overall: Vec<RunBucketOut>,
    /// Per workflow (by name), most runs first.
    pub workflows: Vec<WorkflowSeries>,
}

/// The run buckets of the window: whole buckets from the rollups (brought up to date first), the
/// partial ends and any branch-filtered read from the runs themselves.
async fn run_buckets(pool: &PgPool, window: &Window) -> Result<Vec<RunBucket>, Error> {
    let s = &window.scope;
    let whole = window.whole_buckets().filter(|_| s.branch.is_none());
    let Some((lo, hi)) = whole else {
        return analytics::run_series(pool, s).await;
    };
    analytics_rollups::refresh(pool, s.org, lo, hi).await?;
    let mut rows = Vec::new();
    if s.from < lo {
        let head = Scope {
            to: lo,
            ..s.clone()
        };
        rows.extend(analytics::run_series(pool, &head).await?);
    }
    rows.extend(analytics_rollups::run_rollups(pool, s, lo, hi).await?);
    if hi < s.to {
        let tail = Scope {
            from: hi,
            ..s.clone()
        };
        rows.extend(analytics::run_series(pool, &tail).await?);
    }
    Ok(rows)
}

pub async fn workflows(pool: &PgPool, window: &Window) -> Result<WorkflowStats, Error> {
    let rows = run_buckets(pool, window).await?;
    let starts = window.bucket_starts();
    let mut overall = Vec::new();
    let mut per_workflow: BTreeMap<String, Vec<RunBucket>> = BTreeMap::new();
    for row in rows {
        match row.workflow.clone() {
            None => overall.push(row),
            Some(name) => per_workflow.entry(name).or_default().push(row),
        }
    }
    let overall = fill(&starts, &overall);
    let (runs, failures) = totals(&overall);
    let mut workflows: Vec<WorkflowSeries> = per_workflow
        .into_iter()
        .map(|(workflow, rows)| {
            let series = fill(&starts, &rows);
            let (runs, failures) = totals(&series);
            WorkflowSeries {
                workflow,
                runs,
                failures,
                failure_rate: rate(failures, runs),
                series,
            }
        })
        .collect();
    workflows.sort_by(|a, b| {
        b.runs
            .cmp(&a.runs)
            .then_with(|| a.workflow.cmp(&b.workflow))
    });
    Ok(WorkflowStats {
        from: window.scope.from,
        to: window.scope.to,
        bucket: window.scope.bucket,
        runs,
        failures,
        failure_rate: rate(failures, runs),
        overall,
        workflows,
    })
}

fn fill(starts: &[DateTime<Utc>], rows: &[RunBucket]) -> Vec<RunBucketOut> {
    let by_start: BTreeMap<_, _> = rows.iter().map(|r| (r.bucket_start, r)).collect();
    starts
        .iter()
        .map(|start| match by_start.get(start) {
            Some(r) => RunBucketOut {
                bucket_start: *start,
                runs: r.runs,
                failures: r.failures,
                failure_rate: rate(r.failures, r.runs),
                duration_p50_ms: whole(r.duration_p50_ms),
                duration_p90_ms: whole(r.duration_p90_ms),
            },
            None => RunBucketOut {
                bucket_start: *start,
                runs: 0,
                failures: 0,
                failure_rate: 0.0,
                duration_p50_ms: None,
                duration_p90_ms: None,
            },
        })
        .collect()
}

fn totals(series: &[RunBucketOut]) -> (i64, i64) {
    series
        .iter()
        .fold((0, 0), |(r, f), b| (r + b.runs, f + b.failures))
}
