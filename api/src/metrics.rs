//! Prometheus metrics: HTTP request counts and latencies by route and status, recorded by a
//! middleware; job counts by queue and outcome, read from the queue table at scrape time.

use std::{sync::OnceLock, time::Instant};

use axum::{
    extract::{MatchedPath, Request},
    middleware::Next,
    response::Response,
};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process-wide recorder (installed once; every router built in this process shares it).
pub fn handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(LATENCY_BUCKETS)
                .unwrap_or_else(|_| unreachable!("bucket list is not empty"))
                .build_recorder();
            let handle = recorder.handle();
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// The matched route template of a request, handed from the router to `track`.
#[derive(Clone)]
struct RouteLabel(String);

/// Route layer: copies the matched route template (e.g. `/orgs/{org}`) onto the response.
pub async fn tag_route(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let mut response = next.run(req).await;
    if let Some(route) = route {
        response.extensions_mut().insert(RouteLabel(route));
    }
    response
}

/// Records `http_requests_total` and `http_request_duration_seconds` for every request, labelled
/// by route template (never the raw path, so ids do not explode the label set) and status.
pub async fn track(req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    let route = response
        .extensions()
        .get::<RouteLabel>()
        .map_or_else(|| "unmatched".to_owned(), |r| r.0.clone());
    let labels = [
        ("method", method),
        ("route", route),
        ("status", response.status().as_u16().to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Updates the `repopal_jobs` gauge from the queue table (one row per queue and outcome).
pub async fn refresh_job_counts(pool: &sqlx::PgPool) -> Result<(), common::Error> {
    let counts = common::repo::jobs::counts(pool).await?;
    for queue in common::jobs::ALL_QUEUES {
        for outcome in common::domain::JobOutcome::ALL {
            let n = counts
                .iter()
                .find(|c| c.queue == queue.name && c.outcome == *outcome)
                .map_or(0, |c| c.count);
            metrics::gauge!("repopal_jobs", "queue" => queue.name, "outcome" => outcome.as_str())
                .set(n as f64);
        }
    }
    Ok(())
}

/// Updates the per-integration gauges from the `integrations` table: health (1 when `active`),
/// the state as a labelled gauge, API calls and errors made by checks and tests, last latency and
/// consecutive failures.
pub async fn refresh_integration_gauges(pool: &sqlx::PgPool) -> Result<(), common::Error> {
    use common::domain::HealthStatus;
    for g in common::repo::integrations::gauges(pool).await? {
        let labels = [
            ("org_id", g.org_id.0.to_string()),
            ("integration_id", g.id.to_string()),
            ("type", g.kind.to_string()),
        ];
        metrics::gauge!("repopal_integration_up", &labels).set(
            if g.status == HealthStatus::Active {
                1.0
            } else {
                0.0
            },
        );
        for status in HealthStatus::ALL {
            let mut with_status = labels.to_vec();
            with_status.push(("status", status.to_string()));
            metrics::gauge!("repopal_integration_status", &with_status)
                .set(if g.status == *status { 1.0 } else { 0.0 });
        }
        metrics::gauge!("repopal_integration_api_calls", &labels).set(g.api_calls as f64);
        metrics::gauge!("repopal_integration_api_errors", &labels).set(g.api_errors as f64);
        metrics::gauge!("repopal_integration_consecutive_failures", &labels)
            .set(f64::from(g.consecutive_failures));
        if let Some(ms) = g.last_latency_ms {
            metrics::gauge!("repopal_integration_latency_ms", &labels).set(f64::from(ms));
        }
    }
    Ok(())
}
