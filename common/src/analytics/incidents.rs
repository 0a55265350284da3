//! Incidents per bucket: opened and resolved, with time to acknowledge (MTTA) and to resolve
//! (MTTR) as median and p90, plus the window's breakdown by severity, repository and source.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    Window,
    samples::{incident_samples, percentile_cont},
    whole,
};
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
    let mut samples = incident_samples(pool, window, severity).await?;
    if let Some(want) = source {
        samples.opened.retain(|o| o.source() == want);
        samples.resolved.retain(|r| r.source() == want);
    }
    let mut buckets: BTreeMap<DateTime<Utc>, Tally> = BTreeMap::new();
    for o in &samples.opened {
        let b = buckets.entry(window.bucket_of(o.at)).or_default();
        b.opened += 1;
        b.ack.extend(o.ack_secs);
    }
    for r in &samples.resolved {
        let b = buckets.entry(window.bucket_of(r.at)).or_default();
        b.resolved += 1;
        b.resolve.extend(r.resolve_secs);
    }
    let series = window
        .bucket_starts()
        .into_iter()
        .map(|start| {
            let mut t = buckets.remove(&start).unwrap_or_default();
            IncidentBucketOut {
                bucket_start: start,
                opened: t.opened,
                resolved: t.resolved,
                mtta_p50_secs: whole(percentile_cont(&mut t.ack, 0.5)),
                mtta_p90_secs: whole(percentile_cont(&mut t.ack, 0.9)),
                mttr_p50_secs: whole(percentile_cont(&mut t.resolve, 0.5)),
                mttr_p90_secs: whole(percentile_cont(&mut t.resolve, 0.9)),
            }
        })
        .collect();

    // The window's groups count incidents by when they were first seen: every one by severity and
    // source, those of a known repository by repository.
    let names: BTreeMap<Uuid, String> = analytics::repository_names(pool, s.org).await?;
    let mut by_sev: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut by_src: BTreeMap<&'static str, Tally> = BTreeMap::new();
    let mut by_repo: BTreeMap<Uuid, Tally> = BTreeMap::new();
    for o in &samples.opened {
        let repo = o
            .repository_id
            .filter(|r| names.contains_key(r))
            .map(|r| by_repo.entry(r).or_default());
        let groups = [
            Some(by_sev.entry(o.severity.as_str()).or_default()),
            Some(by_src.entry(o.source().as_str()).or_default()),
            repo,
        ];
        for t in groups.into_iter().flatten() {
            t.opened += 1;
            t.resolved += i64::from(o.resolve_secs.is_some());
            t.ack.extend(o.ack_secs);
            t.resolve.extend(o.resolve_secs);
        }
    }
    let group = |key: String, repository_id: Option<Uuid>, mut t: Tally| IncidentGroupOut {
        key,
        repository_id,
        opened: t.opened,
        resolved: t.resolved,
        mtta_p50_secs: whole(percentile_cont(&mut t.ack, 0.5)),
        mttr_p50_secs: whole(percentile_cont(&mut t.resolve, 0.5)),
        mttr_p90_secs: whole(percentile_cont(&mut t.resolve, 0.9)),
    };
    let ranked = |mut groups: Vec<IncidentGroupOut>| {
        groups.sort_by(|a, b| b.opened.cmp(&a.opened).then_with(|| a.key.cmp(&b.key)));
        groups
    };
    let by_severity = ranked(
        by_sev
            .into_iter()
            .map(|(sev, t)| group(sev.to_owned(), None, t))
            .collect(),
    );
    let by_repository = ranked(
        by_repo
            .into_iter()
            .map(|(id, t)| group(names[&id].clone(), Some(id), t))
            .collect(),
    );
    let by_source = ranked(
        by_src
            .into_iter()
            .map(|(src, t)| group(src.to_owned(), None, t))
            .collect(),
    );
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

/// Counts and samples of one bucket or group.
#[derive(Debug, Default)]
struct Tally {
    opened: i64,
    resolved: i64,
    ack: Vec<f64>,
    resolve: Vec<f64>,
}
