//! Incident samples for analytics: per-day rows of `analytics_incident_days` (every incident's
//! figures, one array element each) and the same figures read from `incidents` for partial days
//! and filters the rollup does not keep.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::analytics::Scope;
use crate::{Error, domain::OrgId};

/// One UTC day's incidents: those first seen that day and those resolved that day (parallel
/// arrays, one element per incident).
#[derive(Debug, Clone)]
pub struct IncidentDay {
    pub day_start: DateTime<Utc>,
    pub opened_severity: Vec<String>,
    pub opened_repository: Vec<Option<Uuid>>,
    pub opened_ack_secs: Vec<Option<f64>>,
    pub opened_resolve_secs: Vec<Option<f64>>,
    pub resolved_severity: Vec<String>,
    pub resolved_repository: Vec<Option<Uuid>>,
    pub resolved_secs: Vec<f64>,
}

/// One incident's figures, at its first-seen or resolved time.
#[derive(Debug, Clone)]
pub struct IncidentSample {
    pub at: DateTime<Utc>,
    pub severity: String,
    pub repository_id: Option<Uuid>,
    pub ack_secs: Option<f64>,
    pub resolve_secs: Option<f64>,
}

impl IncidentSample {
    /// Where the incident came from. The constraints `incidents_source_subject` (every
    /// `github_actions` incident has a repository) and `incidents_deployments_have_no_repository`
    /// (an `argocd` one has none) let the rollup's repository element tell the two apart.
    pub fn source(&self) -> crate::domain::IncidentSource {
        match self.repository_id {
            Some(_) => crate::domain::IncidentSource::GithubActions,
            None => crate::domain::IncidentSource::Argocd,
        }
    }
}

/// Writes the rows of the given days (UTC midnights; the caller deleted their old rows) from
/// `incidents`; days without incidents get no row.
pub(super) async fn recompute_days(
    tx: &mut PgConnection,
    org: OrgId,
    days: &[DateTime<Utc>],
) -> Result<(), Error> {
    sqlx::query!(
        r#"INSERT INTO analytics_incident_days
               (org_id, day_start, opened_severity, opened_repository, opened_ack_secs,
                opened_resolve_secs, resolved_severity, resolved_repository, resolved_secs)
           SELECT $1, d.day_start,
                  coalesce(o.severity, '{}'), coalesce(o.repository, '{}'), coalesce(o.ack, '{}'),
                  coalesce(o.res, '{}'), coalesce(r.severity, '{}'), coalesce(r.repository, '{}'),
                  coalesce(r.res, '{}')
           FROM unnest($2::timestamptz[]) AS d(day_start)
           CROSS JOIN LATERAL (
               SELECT array_agg(severity) AS severity, array_agg(repository_id) AS repository,
                      array_agg(extract(epoch FROM acknowledged_at - first_seen_at)::float8) AS ack,
                      array_agg(extract(epoch FROM resolved_at - first_seen_at)::float8) AS res
               FROM incidents
               WHERE org_id = $1 AND first_seen_at >= d.day_start
                 AND first_seen_at < d.day_start + interval '1 day') o
           CROSS JOIN LATERAL (
               SELECT array_agg(severity) AS severity, array_agg(repository_id) AS repository,
                      array_agg(extract(epoch FROM resolved_at - first_seen_at)::float8) AS res
               FROM incidents
               WHERE org_id = $1 AND resolved_at >= d.day_start
                 AND resolved_at < d.day_start + interval '1 day') r
           WHERE o.severity IS NOT NULL OR r.severity IS NOT NULL"#,
        org as OrgId,
        days,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The day rows of `[from, to)` (whole days; the caller refreshes first).
pub async fn incident_days(
    db: impl PgExecutor<'_>,
    org: OrgId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<IncidentDay>, Error> {
    Ok(sqlx::query_as!(
        IncidentDay,
        r#"SELECT day_start,
                  opened_severity, opened_repository AS "opened_repository!: Vec<Option<Uuid>>",
                  opened_ack_secs AS "opened_ack_secs!: Vec<Option<f64>>",
                  opened_resolve_secs AS "opened_resolve_secs!: Vec<Option<f64>>",
                  resolved_severity, resolved_repository AS "resolved_repository!: Vec<Option<Uuid>>",
                  resolved_secs
           FROM analytics_incident_days
           WHERE org_id = $1 AND day_start >= $2 AND day_start < $3
           ORDER BY day_start"#,
        org as OrgId,
        from,
        to,
    )
    .fetch_all(db)
    .await?)
}

/// The incidents resolved in the whole days `[from, to)`, as (repository, seconds to resolve): the
/// part of the day rows a repository's MTTR needs (the caller refreshes first).
pub async fn resolved_in_days(
    db: impl PgExecutor<'_>,
    org: OrgId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<(Vec<Option<Uuid>>, Vec<f64>)>, Error> {
    let rows = sqlx::query!(
        r#"SELECT resolved_repository AS "repository!: Vec<Option<Uuid>>", resolved_secs
           FROM analytics_incident_days
           WHERE org_id = $1 AND day_start >= $2 AND day_start < $3"#,
        org as OrgId,
        from,
        to,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.repository, r.resolved_secs))
        .collect())
}

/// Which moment of an incident a sample is taken at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moment {
    /// Its first-seen time.
    Opened,
    /// Its resolved time (`ack_secs` is not read).
    Resolved,
}

/// `sqlx::query_as!` of `IncidentSample`s: `$select` (the columns), then the incidents whose
/// `$column` falls in `[$2, $3)` and that match the scope's filters and `$7`'s severity. The
/// filters and their arguments are written once, here.
macro_rules! incident_samples {
    ($select:literal, $column:literal, $s:expr, $from:expr, $to:expr, $severity:expr) => {
        sqlx::query_as!(
            IncidentSample,
            $select
                + " FROM incidents WHERE org_id = $1 AND "
                + $column
                + " >= $2 AND "
                + $column
                + " < $3 AND "
                + $column
                + " IS NOT NULL
                   AND ($4::uuid IS NULL OR repository_id = $4)
                   AND ($5::text IS NULL OR workflow_name = $5)
                   AND ($6::text IS NULL OR branch = $6)
                   AND ($7::text IS NULL OR severity = $7)",
            $s.org as OrgId,
            $from,
            $to,
            $s.repository,
            $s.workflow.as_deref(),
            $s.branch.as_deref(),
            $severity,
        )
    };
}

/// The incidents whose `moment` falls in `[from, to)` matching the scope's filters, at that time.
pub async fn samples(
    db: impl PgExecutor<'_>,
    s: &Scope,
    moment: Moment,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    severity: Option<&str>,
) -> Result<Vec<IncidentSample>, Error> {
    Ok(match moment {
        Moment::Opened => {
            incident_samples!(
                r#"SELECT first_seen_at AS at, severity, repository_id,
                      extract(epoch FROM acknowledged_at - first_seen_at)::float8 AS ack_secs,
                      extract(epoch FROM resolved_at - first_seen_at)::float8 AS resolve_secs"#,
                "first_seen_at",
                s,
                from,
                to,
                severity
            )
            .fetch_all(db)
            .await?
        }
        Moment::Resolved => {
            incident_samples!(
                r#"SELECT resolved_at AS "at!", severity, repository_id, NULL::float8 AS ack_secs,
                      extract(epoch FROM resolved_at - first_seen_at)::float8 AS resolve_secs"#,
                "resolved_at",
                s,
                from,
                to,
                severity
            )
            .fetch_all(db)
            .await?
        }
    })
}

/// Open incidents now, per repository (those with one).
pub async fn open_per_repository(
    db: impl PgExecutor<'_>,
    org: OrgId,
) -> Result<Vec<(Uuid, i64)>, Error> {
    let rows = sqlx::query!(
        r#"SELECT repository_id AS "repository_id!", count(*) AS "open!"
           FROM incidents
           WHERE org_id = $1 AND status <> 'resolved' AND repository_id IS NOT NULL
           GROUP BY repository_id"#,
        org as OrgId,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.repository_id, r.open))
        .collect())
}
