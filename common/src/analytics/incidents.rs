//! Incidents per bucket: opened and resolved, with time to acknowledge (MTTA) and to resolve
//! (MTTR) as median and p90, plus the window's breakdown by severity, repository and source.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Window, whole};
use crate::{
    Error,
    domain::{Bucket, IncidentSource},
    repo::analytics,
};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IncidentBucketOut {
    #[schema(example = "2026-11-02T00:00:00Z")]
    pub bucket_start: DateTime<Utc>,
    /// Incidents first seen in this bucket.
    pub opened: i64,
    /// Incidents resolved in this bucket.
    pub resolved: i64,
    /// Time to acknowledge of the incidents opened in this bucket that were acknowledged.
    pub mtta_p50_secs: Option<i64>,
    pub mtta_p90_secs: Option<i64>,
    /// Time from first seen to resolved of the incidents resolved in this bucket.
    pub mttr_p50_secs: Option<i64>,
    pub mttr_p90_secs: Option<i64>,
}

/// Incidents opened in the window sharing a severity, a repository or a source.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IncidentGroupOut {
    /// The severity, the repository's full name, or the source.
    pub key: String,
    pub repository_id: Option<Uuid>,
    pub opened: i64,
    /// Of those, how many are resolved.
    pub resolved: i64,
    pub mtta_p50_secs: Option<i64>,
    pub mttr_p50_secs: Option<i64>,
    pub mttr_p90_secs: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IncidentStats {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub bucket: Bucket,
    pub series: Vec<IncidentBucketOut>,
    pub by_severity: Vec<IncidentGroupOut>,
    pub by_repository: Vec<IncidentGroupOut>,
    pub by_source: Vec<IncidentGroupOut>,
}

pub async fn incidents(
    pool: &PgPool,
    window: &Window,
    severity: Option<&str>,
    source: Option<IncidentSource>,
) -> Result<IncidentStats, Error> {
    let s = &window.scope;
    // Every incident comes from GitHub Actions today, so the source filter keeps all or none.
    let (opened, resolved, groups) = match source {
        // Deployment incidents are not in these figures yet.
        Some(IncidentSource::Argocd) => (Vec::new(), Vec::new(), Vec::new()),
        None | Some(IncidentSource::GithubActions) => (
            analytics::opened_series(pool, s, severity).await?,
            analytics::resolved_series(pool, s, severity).await?,
            analytics::incident_groups(pool, s, severity).await?,
        ),
    };
    let opened: BTreeMap<_, _> = opened.into_iter().map(|b| (b.bucket_start, b)).collect();
    let resolved: BTreeMap<_, _> = resolved.into_iter().map(|b| (b.bucket_start, b)).collect();
    let series = window
        .bucket_starts()
        .into_iter()
        .map(|start| {
            let o = opened.get(&start);
            let r = resolved.get(&start);
            IncidentBucketOut {
                bucket_start: start,
                opened: o.map_or(0, |o| o.opened),
                resolved: r.map_or(0, |r| r.resolved),
                mtta_p50_secs: whole(o.and_then(|o| o.mtta_p50_secs)),
                mtta_p90_secs: whole(o.and_then(|o| o.mtta_p90_secs)),
                mttr_p50_secs: whole(r.and_then(|r| r.mttr_p50_secs)),
                mttr_p90_secs: whole(r.and_then(|r| r.mttr_p90_secs)),
            }
        })
        .collect();
    let mut by_severity = Vec::new();
    let mut by_repository = Vec::new();
    let mut by_source = Vec::new();
    for g in groups {
        let out = |key: String| IncidentGroupOut {
            key,
            repository_id: g.repository_id,
            opened: g.opened,
            resolved: g.resolved,
            mtta_p50_secs: whole(g.mtta_p50_secs),
            mttr_p50_secs: whole(g.mttr_p50_secs),
            mttr_p90_secs: whole(g.mttr_p90_secs),
        };
        match (&g.severity, &g.repository) {
            (Some(sev), _) => by_severity.push(out(sev.clone())),
            (None, Some(repo)) => by_repository.push(out(repo.clone())),
            // Every incident comes from GitHub Actions today: the overall row is that source's.
            (None, None) if g.opened > 0 => {
                by_source.push(out(IncidentSource::GithubActions.as_str().to_owned()))
            }
            (None, None) => {}
        }
    }
    Ok(IncidentStats {
        from: s.from,
        to: s.to,
        bucket: s.bucket,
        series,
        by_severity,
        by_repository,
        by_source,
    })
}
