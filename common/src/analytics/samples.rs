//! The incident samples of a window: whole days from `analytics_incident_days` (refreshed first),
//! the partial first and last day and any read the rollup cannot serve (a workflow or branch
//! filter) from `incidents`; and `percentile_cont` over them, computed as Postgres computes it.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::Window;
use crate::{
    Error,
    repo::{
        analytics_incidents::{self, IncidentSample, Moment},
        analytics_rollups,
    },
};

/// Incidents first seen in the window (at their first-seen time) and incidents resolved in it (at
/// their resolved time), filtered by the scope and severity.
#[derive(Debug, Default)]
pub(super) struct Samples {
    pub opened: Vec<IncidentSample>,
    pub resolved: Vec<IncidentSample>,
}

pub(super) async fn incident_samples(
    pool: &PgPool,
    window: &Window,
    severity: Option<&str>,
) -> Result<Samples, Error> {
    let s = &window.scope;
    let whole = window
        .whole_days()
        .filter(|_| s.workflow.is_none() && s.branch.is_none());
    let mut out = Samples::default();
    let raw = |from: DateTime<Utc>, to: DateTime<Utc>| (from < to).then_some((from, to));
    let ends = match whole {
        None => vec![raw(s.from, s.to)],
        Some((lo, hi)) => {
            analytics_rollups::refresh(pool, s.org, lo, hi).await?;
            let keep = |sev: &str, repo: Option<uuid::Uuid>| {
                severity.is_none_or(|want| want == sev)
                    && s.repository.is_none_or(|want| repo == Some(want))
            };
            for day in analytics_incidents::incident_days(pool, s.org, lo, hi).await? {
                let at = day.day_start;
                let opened = day
                    .opened_severity
                    .into_iter()
                    .zip(day.opened_repository)
                    .zip(day.opened_ack_secs.into_iter().zip(day.opened_resolve_secs));
                for ((severity, repository_id), (ack_secs, resolve_secs)) in opened {
                    if keep(&severity, repository_id) {
                        out.opened.push(IncidentSample {
                            at,
                            severity,
                            repository_id,
                            ack_secs,
                            resolve_secs,
                        });
                    }
                }
                let resolved = day
                    .resolved_severity
                    .into_iter()
                    .zip(day.resolved_repository)
                    .zip(day.resolved_secs);
                for ((severity, repository_id), secs) in resolved {
                    if keep(&severity, repository_id) {
                        out.resolved.push(IncidentSample {
                            at,
                            severity,
                            repository_id,
                            ack_secs: None,
                            resolve_secs: Some(secs),
                        });
                    }
                }
            }
            vec![raw(s.from, lo), raw(hi, s.to)]
        }
    };
    for (from, to) in ends.into_iter().flatten() {
        let window = (from, to);
        out.opened
            .extend(analytics_incidents::samples(pool, s, Moment::Opened, window, severity).await?);
        out.resolved.extend(
            analytics_incidents::samples(pool, s, Moment::Resolved, window, severity).await?,
        );
    }
    Ok(out)
}

/// `percentile_cont(p) WITHIN GROUP (ORDER BY x)` of the present values: linear interpolation
/// between the two nearest ranks, with Postgres's arithmetic; `None` without values.
pub(super) fn percentile_cont(values: &mut [f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable_by(f64::total_cmp);
    let pos = p * (values.len() - 1) as f64;
    let (first, second) = (pos.floor(), pos.ceil());
    let lo = values[first as usize];
    if first == second {
        return Some(lo);
    }
    let hi = values[second as usize];
    Some(lo + (hi - lo) * (pos - first))
}

#[cfg(test)]
mod tests {
    use super::percentile_cont;

    #[test]
    fn percentiles_interpolate_like_postgres() {
        assert_eq!(percentile_cont(&mut [], 0.5), None);
        assert_eq!(percentile_cont(&mut [7.0], 0.9), Some(7.0));
        assert_eq!(
            percentile_cont(&mut [300.0, 50.0, 200.0, 100.0], 0.5),
            Some(150.0)
        );
        assert_eq!(
            percentile_cont(&mut [300.0, 50.0, 200.0, 100.0], 0.9),
            Some(270.0)
        );
    }
}
