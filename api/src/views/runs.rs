//! Workflow runs with stats, per organisation or one repository (and optionally one branch or
//! workflow): runs, failures, failure rate and
//! median/p90 duration over a window (from `common::analytics`), runs per workflow, and the recent
//! runs with a cursor to older ones.

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    response::Response,
};
use chrono::{DateTime, Duration, Utc};
use common::{
    analytics::{self, Window, WindowIn},
    domain::{Bucket, Permission, RepositoryId},
    repo::{repositories, run_durations, workflow_runs},
};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    home::OrgCtx,
    page::{ConsoleError, Layout, ok},
    session::{Console, urlencode},
};
use crate::state::AppState;

/// Runs on one page.
const PAGE: i64 = 50;
/// The windows offered, in days.
const WINDOWS: [i64; 3] = [7, 30, 90];

#[derive(Debug, Default, Deserialize)]
pub struct RunsQuery {
    /// Only this repository's runs.
    #[serde(default)]
    pub repository: String,
    /// The window in days: 7, 30 (default) or 90.
    #[serde(default)]
    pub days: String,
    /// Older runs than this one: `received_at` (RFC 3339) `~` id.
    #[serde(default)]
    pub before: String,
    /// Only this branch's runs.
    #[serde(default)]
    pub branch: String,
    /// Only this workflow's runs (by name).
    #[serde(default)]
    pub workflow: String,
}

fn given(v: &str) -> Option<String> {
    Some(v.trim().to_owned()).filter(|v| !v.is_empty())
}

pub struct Stat {
    pub runs: i64,
    pub failures: i64,
    pub failure_rate: String,
    pub p50: String,
    pub p90: String,
}

pub struct WorkflowRow {
    pub name: String,
    pub runs: i64,
    pub failures: i64,
    pub failure_rate: String,
}

pub struct RunRow {
    pub repository: String,
    pub repository_id: String,
    pub workflow: String,
    pub run_number: i64,
    pub attempt: i32,
    pub branch: String,
    pub status: String,
    pub conclusion: String,
    pub duration: String,
    pub at: String,
    /// The run on GitHub (https only), or empty.
    pub url: String,
}

#[derive(Template)]
#[template(path = "runs.html")]
struct RunsPage {
    l: Layout,
    slug: String,
    /// The repository the page is filtered to: (id, full name).
    repo: Option<(String, String)>,
    days: i64,
    windows: [i64; 3],
    branch: String,
    workflow: String,
    stat: Stat,
    workflows: Vec<WorkflowRow>,
    runs: Vec<RunRow>,
    /// The query of the next (older) page, when there is one.
    older: Option<String>,
}

/// `1.2 s`, `4 m 05 s`, `1 h 02 m`; `–` without a value.
pub fn duration(ms: Option<f64>) -> String {
    let Some(ms) = ms.filter(|m| m.is_finite() && *m >= 0.0) else {
        return "–".to_owned();
    };
    let secs = (ms / 1000.0).round() as i64;
    if ms < 60_000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else if secs < 3600 {
        format!("{} m {:02} s", secs / 60, secs % 60)
    } else {
        format!("{} h {:02} m", secs / 3600, (secs % 3600) / 60)
    }
}

fn percent(rate: f64) -> String {
    format!("{:.1} %", rate * 100.0)
}

fn cursor(q: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let (at, id) = q.split_once('~')?;
    Some((
        DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc),
        id.parse().ok()?,
    ))
}

/// `GET /orgs/{slug}/runs[?repository=&days=&before=]`.
pub async fn list(
    State(state): State<AppState>,
    Console(signed): Console,
    Path(slug): Path<String>,
    Query(q): Query<RunsQuery>,
) -> Result<Response, ConsoleError> {
    let (org, l) = OrgCtx::load(&state, &signed, &slug, "Workflow runs").await?;
    org.require(Permission::IncidentsRead)?;
    let pool = &state.services.pool;
    let repo = if q.repository.is_empty() {
        None
    } else {
        let id = RepositoryId(
            q.repository
                .parse::<Uuid>()
                .map_err(|_| ConsoleError::not_found())?,
        );
        let r = repositories::find(pool, org.id, id)
            .await?
            .ok_or_else(ConsoleError::not_found)?;
        Some((id, r.full_name))
    };
    let days = q
        .days
        .parse::<i64>()
        .ok()
        .filter(|d| WINDOWS.contains(d))
        .unwrap_or(30);
    let now = Utc::now();
    let window = Window::new(
        org.id,
        WindowIn {
            from: Some(now - Duration::days(days)),
            to: Some(now),
            bucket: Some(Bucket::Day),
            repository: repo.as_ref().map(|(id, _)| id.0),
            workflow: given(&q.workflow),
            branch: given(&q.branch),
        },
        now,
    )?;
    let stats = analytics::workflows(pool, &window).await?;
    let (p50, p90) = run_durations::window_percentiles(pool, &window.scope).await?;
    let filter = workflow_runs::Filter {
        repository: repo.as_ref().map(|(id, _)| *id),
        workflow: window.scope.workflow.clone(),
        branch: window.scope.branch.clone(),
        from: Some(window.scope.from),
        before: cursor(&q.before),
        limit: PAGE + 1,
        ..workflow_runs::Filter::default()
    };
    let mut rows = workflow_runs::list(pool, org.id, &filter).await?;
    let older = if rows.len() > PAGE as usize {
        rows.truncate(PAGE as usize);
        rows.last().map(|w| {
            let mut next = format!("days={days}");
            if let Some((id, _)) = &repo {
                next.push_str(&format!("&repository={id}"));
            }
            for (name, value) in [
                ("branch", &window.scope.branch),
                ("workflow", &window.scope.workflow),
            ] {
                if let Some(v) = value {
                    next.push_str(&format!("&{name}={}", urlencode(v)));
                }
            }
            let at = w
                .received_at
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
            next.push_str(&format!("&before={}", urlencode(&format!("{at}~{}", w.id))));
            next
        })
    } else {
        None
    };
    let runs = rows
        .into_iter()
        .map(|w| RunRow {
            repository: w.repository,
            repository_id: w.repository_id.to_string(),
            workflow: w.workflow_name,
            run_number: w.run_number,
            attempt: w.run_attempt,
            branch: w.branch,
            status: w.status,
            conclusion: w.conclusion.unwrap_or_default(),
            duration: duration(w.duration_ms.map(|d| d as f64)),
            at: w.received_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            url: w
                .html_url
                .filter(|u| u.starts_with("https://"))
                .unwrap_or_default(),
        })
        .collect();
    let title = match &repo {
        Some((_, name)) => format!("Workflow runs of {name}"),
        None => "Workflow runs".to_owned(),
    };
    Ok(ok(&RunsPage {
        l: Layout { title, ..l },
        slug: org.slug,
        repo: repo.map(|(id, name)| (id.to_string(), name)),
        days,
        windows: WINDOWS,
        branch: window.scope.branch.clone().unwrap_or_default(),
        workflow: window.scope.workflow.clone().unwrap_or_default(),
        stat: Stat {
            runs: stats.runs,
            failures: stats.failures,
            failure_rate: percent(stats.failure_rate),
            p50: duration(p50),
            p90: duration(p90),
        },
        workflows: stats
            .workflows
            .into_iter()
            .map(|w| WorkflowRow {
                name: w.workflow,
                runs: w.runs,
                failures: w.failures,
                failure_rate: percent(w.failure_rate),
            })
            .collect(),
        runs,
        older,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_seconds_minutes_or_hours() {
        assert_eq!(duration(None), "–");
        assert_eq!(duration(Some(900.0)), "0.9 s");
        assert_eq!(duration(Some(65_000.0)), "1 m 05 s");
        assert_eq!(duration(Some(3_725_000.0)), "1 h 02 m");
        assert_eq!(duration(Some(f64::NAN)), "–");
    }

    #[test]
    fn a_cursor_is_a_time_and_an_id_or_nothing() {
        let id = Uuid::nil();
        assert_eq!(
            cursor(&format!("2026-11-30T10:00:00.000001Z~{id}")).map(|c| c.1),
            Some(id)
        );
        assert!(cursor("garbage").is_none());
        assert!(cursor("2026-11-30T10:00:00Z~nope").is_none());
    }
}
