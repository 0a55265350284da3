//! The console's analytics charts: the dashboard's last 30 days (runs and failure rate, incidents
//! and MTTR, the most frequent failing jobs, repository health) and one repository's trends
//! (`repository_charts`, also shown on `/orgs/{slug}/repositories/{id}/trends`).

use askama::Template;
use axum::{
    extract::{Path, State},
    response::Response,
};
use chrono::{DateTime, Duration, DurationRound, Utc};
use common::{
    analytics::{self, Window, WindowIn, WorkflowStats},
    domain::{Bucket, OrgId, Permission, RepositoryId},
    repo::repositories,
};
use sqlx::PgPool;
use uuid::Uuid;

use super::{
    charts::{self, AMBER, BLUE, BarLayout, Chart, GREEN, RED, Series, TimeChart, Unit},
    home::OrgCtx,
    page::{ConsoleError, Layout, ok},
    session::Console,
};
use crate::state::AppState;

/// The days a console chart covers, today included.
pub const DAYS: i64 = 30;

/// The share of each day's completed runs that failed (no value on a day without runs).
fn failure_rate(runs: &WorkflowStats) -> [Series; 1] {
    [Series {
        name: "Failure rate".into(),
        color: RED,
        values: runs
            .overall
            .iter()
            .map(|b| (b.runs > 0).then_some(b.failure_rate))
            .collect(),
    }]
}

/// The last [`DAYS`] days up to `now`, daily, starting at midnight UTC.
fn last_days(
    org: OrgId,
    repository: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Window, common::Error> {
    let today = now.duration_trunc(Duration::days(1)).unwrap_or(now);
    Window::new(
        org,
        WindowIn {
            from: Some(today - Duration::days(DAYS - 1)),
            to: Some(now),
            bucket: Some(Bucket::Day),
            repository,
            ..WindowIn::default()
        },
        now,
    )
}

fn day_labels(window: &Window) -> Vec<String> {
    window
        .bucket_starts()
        .iter()
        .map(|d| d.format("%Y-%m-%d").to_string())
        .collect()
}

fn count(v: i64) -> Option<f64> {
    Some(v as f64)
}

/// The dashboard's charts over the last 30 days, in reading order.
pub async fn dashboard_charts(
    pool: &PgPool,
    org: OrgId,
    now: DateTime<Utc>,
) -> Result<Vec<Chart>, common::Error> {
    let window = last_days(org, None, now)?;
    let labels = day_labels(&window);
    let runs = analytics::workflows(pool, &window).await?;
    let inc = analytics::incidents(pool, &window, None, None).await?;
    let failing = analytics::failures(pool, &window, 10).await?;
    let health = analytics::repositories(pool, &window, 10).await?;

    let passed: Vec<Option<f64>> = runs
        .overall
        .iter()
        .map(|b| count(b.runs - b.failures))
        .collect();
    let failed: Vec<Option<f64>> = runs.overall.iter().map(|b| count(b.failures)).collect();
    let run_chart = TimeChart {
        id: "runs-per-day",
        title: "Runs per day",
        summary: &format!(
            "{} completed runs in the last {DAYS} days, {} of them failed ({}).",
            runs.runs,
            runs.failures,
            Unit::Ratio.format(runs.failure_rate)
        ),
        labels: &labels,
        unit: Unit::Count,
    }
    .bars(
        &[
            Series {
                name: "Passed".into(),
                color: GREEN,
                values: passed,
            },
            Series {
                name: "Failed".into(),
                color: RED,
                values: failed,
            },
        ],
        BarLayout::Stacked,
    );
    let rate_chart = TimeChart {
        id: "failure-rate",
        title: "Failure rate per day",
        summary: &format!(
            "The share of completed runs that failed, per day; {} over the {DAYS} days.",
            Unit::Ratio.format(runs.failure_rate)
        ),
        labels: &labels,
        unit: Unit::Ratio,
    }
    .lines(&failure_rate(&runs));

    let (opened, resolved): (i64, i64) = inc
        .series
        .iter()
        .fold((0, 0), |(o, r), b| (o + b.opened, r + b.resolved));
    let incident_chart = TimeChart {
        id: "incidents-per-day",
        title: "Incidents opened and resolved",
        summary: &format!(
            "{opened} incidents opened and {resolved} resolved in the last {DAYS} days."
        ),
        labels: &labels,
        unit: Unit::Count,
    }
    .bars(
        &[
            Series {
                name: "Opened".into(),
                color: AMBER,
                values: inc.series.iter().map(|b| count(b.opened)).collect(),
            },
            Series {
                name: "Resolved".into(),
                color: GREEN,
                values: inc.series.iter().map(|b| count(b.resolved)).collect(),
            },
        ],
        BarLayout::SideBySide,
    );
    let secs = |v: Option<i64>| v.map(|s| s as f64 * 1000.0);
    let overall_mttr = inc.by_source.first().and_then(|g| g.mttr_p50_secs);
    let mttr_chart = TimeChart {
        id: "mttr",
        title: "Time to resolve (MTTR)",
        summary: &match overall_mttr {
            Some(s) => format!(
                "Median and p90 time from first failure to resolution of the incidents resolved each day; median {} for the incidents opened in the last {DAYS} days.",
                Unit::Millis.format(s as f64 * 1000.0)
            ),
            None => format!("No incident opened in the last {DAYS} days was resolved."),
        },
        labels: &labels,
        unit: Unit::Millis,
    }
    .lines(&Series::median_and_p90(
            inc.series.iter().map(|b| secs(b.mttr_p50_secs)).collect(),
            inc.series.iter().map(|b| secs(b.mttr_p90_secs)).collect(),
        ));

    let jobs: Vec<(String, f64)> = failing
        .jobs
        .iter()
        .map(|f| (format!("{} · {}", f.repository, f.job), f.failures as f64))
        .collect();
    let last_seen = failing
        .jobs
        .iter()
        .map(|f| {
            f.last_seen_at
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default()
        })
        .collect();
    let jobs_chart = charts::Ranking {
        id: "failing-jobs",
        title: "Most frequent failing jobs",
        summary: &format!(
            "The {} jobs that failed most often in the last {DAYS} days, most first.",
            jobs.len()
        ),
        unit: Unit::Count,
        color: RED,
    }
    .draw(&jobs, &[("Last failed".to_owned(), last_seen)]);

    let scores: Vec<(String, f64)> = health
        .iter()
        .map(|r| (r.repository.clone(), r.score))
        .collect();
    let col = |f: &dyn Fn(&analytics::RepositoryHealth) -> String| -> Vec<String> {
        health.iter().map(f).collect()
    };
    let health_chart = charts::Ranking {
        id: "repository-health",
        title: "Repository health",
        summary: "Repositories by health score (0 worst, 100 best), worst first: failure rate, open incidents, MTTR and hook health.",
        unit: Unit::Score,
        color: BLUE,
    }
    .draw(
        &scores,
        &[
            ("Runs".to_owned(), col(&|r| r.runs.to_string())),
            (
                "Failure rate".to_owned(),
                col(&|r| Unit::Ratio.format(r.failure_rate)),
            ),
            (
                "Open incidents".to_owned(),
                col(&|r| r.open_incidents.to_string()),
            ),
            (
                "MTTR".to_owned(),
                col(&|r| {
                    r.mttr_p50_secs.map_or_else(
                        || "–".to_owned(),
                        |s| Unit::Millis.format(s as f64 * 1000.0),
                    )
                }),
            ),
            (
                "Monitored".to_owned(),
                col(&|r| if r.monitored { "yes" } else { "no" }.to_owned()),
            ),
        ],
    );
    Ok(vec![
        run_chart,
        rate_chart,
        incident_chart,
        mttr_chart,
        jobs_chart,
        health_chart,
    ])
}

/// One repository's last 30 days: failure rate and run duration (median and p90) per day. The
/// repository must belong to `org` (the caller checks); render with `partials/charts.html`.
pub async fn repository_charts(
    pool: &PgPool,
    org: OrgId,
    repository: RepositoryId,
    now: DateTime<Utc>,
) -> Result<Vec<Chart>, common::Error> {
    let window = last_days(org, Some(repository.0), now)?;
    let labels = day_labels(&window);
    let runs = analytics::workflows(pool, &window).await?;
    let ms = |v: Option<i64>| v.map(|x| x as f64);
    Ok(vec![
        TimeChart {
            id: "repository-failure-rate",
            title: "Failure rate per day",
            summary: &format!(
                "{} completed runs in the last {DAYS} days, {} failed ({}).",
                runs.runs,
                runs.failures,
                Unit::Ratio.format(runs.failure_rate)
            ),
            labels: &labels,
            unit: Unit::Ratio,
        }
        .lines(&failure_rate(&runs)),
        TimeChart {
            id: "repository-duration",
            title: "Run duration per day",
            summary: "Median and p90 duration of the completed runs of each day.",
            labels: &labels,
            unit: Unit::Millis,
        }
        .lines(&Series::median_and_p90(
            runs.overall.iter().map(|b| ms(b.duration_p50_ms)).collect(),
            runs.overall.iter().map(|b| ms(b.duration_p90_ms)).collect(),
        )),
    ])
}

#[derive(Template)]
#[template(path = "repository_trends.html")]
struct TrendsPage {
    l: Layout,
    repository: String,
    charts: Vec<Chart>,
}

/// `/orgs/{slug}/repositories/{id}/trends`: [`repository_charts`] on a page of its own.
pub async fn repository_trends(
    State(state): State<AppState>,
    Console(signed): Console,
    Path((slug, id)): Path<(String, String)>,
) -> Result<Response, ConsoleError> {
    let (org, l) = OrgCtx::load(&state, &signed, &slug, "Repository trends").await?;
    org.require(Permission::ReposRead)?;
    let id = ConsoleError::page_id::<Uuid>(&id)?;
    let pool = &state.services.pool;
    let repo = repositories::find(pool, org.id, RepositoryId(id))
        .await?
        .ok_or_else(ConsoleError::not_found)?;
    let charts = repository_charts(pool, org.id, repo.id, Utc::now()).await?;
    Ok(ok(&TrendsPage {
        l,
        repository: repo.full_name,
        charts,
    }))
}
