//! The end-to-end scenario: signed `workflow_run` deliveries (failures and successes across 100
//! workflow/branch groups) sent over HTTP to a real `repopal-api serve`, processed by 4 real
//! workers against fake GitHub and Slack; sustained deliveries processed per second, receipt to
//! incident state (p50/p99), and a check of the outcome: exactly one open incident per failing
//! group, none for the green ones.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use common::{crypto::signature, repo};
use serde_json::json;

use crate::{TestApp, http::TEST_WEBHOOK_SECRET, monitored::RunIds};

/// What the end-to-end run measured and found.
#[derive(Debug, Clone)]
pub struct E2eFigures {
    pub deliveries: usize,
    pub http_errors: usize,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub failing_groups: usize,
    pub green_groups: usize,
    /// Failing groups with exactly one open incident.
    pub failing_with_one_incident: usize,
    /// Incidents whose group is green (must be 0).
    pub green_incidents: usize,
    /// Deliveries not processed or whose evaluation is missing (must be 0).
    pub unprocessed: usize,
}

const WORKFLOWS: i64 = 10;
const BRANCHES: i64 = 10;

fn failing(workflow: i64, branch: i64) -> bool {
    (workflow + branch) % 2 == 0
}

/// `runs` completed runs per group; `workers` worker processes.
pub async fn run(runs: usize, workers: usize) -> E2eFigures {
    let m = TestApp::builder().monitored_repo().await;
    let mut env = crate::http::test_env(&m.app.db.url);
    for (k, v) in m.env() {
        env.insert((*k).to_owned(), v.clone());
    }
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (api, base) = super::start_api(&m.app.db.url, &pairs).await;
    let procs = super::start_workers(&m.app.db.url, workers, &pairs);
    super::wait_registered(
        &m.app.db.pool,
        "process_webhook",
        workers,
        Duration::from_secs(60),
    )
    .await;

    // Run numbers grow per group in sending order; groups interleave.
    let mut bodies = Vec::new();
    for n in 0..runs {
        for w in 0..WORKFLOWS {
            for b in 0..BRANCHES {
                let run_id = 1_000_000 + (w * BRANCHES + b) * 10_000 + n as i64;
                let mut p = m.workflow_run(
                    RunIds::first(run_id, n as i64 + 1),
                    &format!("branch-{b}"),
                    if failing(w, b) { "failure" } else { "success" },
                );
                p["workflow_run"]["workflow_id"] = json!(5000 + w);
                p["workflow_run"]["name"] = json!(format!("workflow-{w}"));
                bodies.push((
                    format!("e2e-{run_id}"),
                    serde_json::to_vec(&p).expect("json"),
                ));
            }
        }
    }
    let total = bodies.len();
    let bodies = Arc::new(bodies);
    let next = Arc::new(AtomicUsize::new(0));
    let client = reqwest::Client::new();
    let url = Arc::new(format!("{base}/api/v1/webhooks/github"));
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (bodies, next, client, url) =
            (bodies.clone(), next.clone(), client.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let mut errors = 0usize;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((delivery, body)) = bodies.get(i) else {
                    return errors;
                };
                let res = client
                    .post(url.as_str())
                    .header("content-type", "application/json")
                    .header("x-github-event", "workflow_run")
                    .header("x-github-delivery", delivery.as_str())
                    .header(
                        "x-hub-signature-256",
                        signature::sign(TEST_WEBHOOK_SECRET.as_bytes(), body),
                    )
                    .body(body.clone())
                    .send()
                    .await;
                if !res.is_ok_and(|r| r.status().is_success()) {
                    errors += 1;
                }
            }
        }));
    }
    let mut http_errors = 0;
    for t in tasks {
        http_errors += t.await.unwrap_or(0);
    }
    let deadline = Instant::now() + Duration::from_secs(600);
    while repo::jobs::unfinished(&m.app.db.pool, crate::monitored::QUEUES)
        .await
        .unwrap_or(1)
        > 0
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut procs = procs;
    procs.push(api);
    super::stop_all(procs).await;

    let pool = &m.app.db.pool;
    let mut latencies: Vec<f64> = sqlx::query_scalar(
        "SELECT extract(epoch FROM processed_at - received_at)::float8 * 1000.0
         FROM webhook_deliveries WHERE event = 'workflow_run' AND processed_at IS NOT NULL",
    )
    .fetch_all(pool)
    .await
    .unwrap_or_default();
    let span: Option<f64> = sqlx::query_scalar(
        "SELECT extract(epoch FROM max(processed_at) - min(received_at))::float8
         FROM webhook_deliveries WHERE event = 'workflow_run'",
    )
    .fetch_one(pool)
    .await
    .unwrap_or(None);
    let unprocessed: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM webhook_deliveries WHERE event = 'workflow_run' AND status <> 'processed')
              + (SELECT count(*) FROM workflow_runs WHERE evaluation IS NULL)",
    )
    .fetch_one(pool)
    .await
    .unwrap_or(-1);
    let open: Vec<(i64, String, i64)> = sqlx::query_as(
        "SELECT workflow_id, branch, count(*) FILTER (WHERE status <> 'resolved') FROM incidents GROUP BY 1, 2",
    )
    .fetch_all(pool)
    .await
    .unwrap_or_default();
    let group_of = |w: i64, b: &str| -> Option<(i64, i64)> {
        Some((w - 5000, b.strip_prefix("branch-")?.parse().ok()?))
    };
    let failing_with_one_incident = open
        .iter()
        .filter(|(w, b, n)| *n == 1 && group_of(*w, b).is_some_and(|(w, b)| failing(w, b)))
        .count();
    let green_incidents = open
        .iter()
        .filter(|(w, b, _)| group_of(*w, b).is_none_or(|(w, b)| !failing(w, b)))
        .count();
    let failing_groups = (0..WORKFLOWS)
        .flat_map(|w| (0..BRANCHES).map(move |b| (w, b)))
        .filter(|(w, b)| failing(*w, *b))
        .count();
    let processed = latencies.len();
    E2eFigures {
        deliveries: total,
        http_errors,
        per_second: processed as f64 / span.unwrap_or(f64::INFINITY).max(0.001),
        p50_ms: super::percentile(&mut latencies, 0.5),
        p99_ms: super::percentile(&mut latencies, 0.99),
        failing_groups,
        green_groups: (WORKFLOWS * BRANCHES) as usize - failing_groups,
        failing_with_one_incident,
        green_incidents,
        unprocessed: usize::try_from(unprocessed).unwrap_or(usize::MAX),
    }
}
