//! The scale scenario: a private cluster with `max_connections=100`, the API and 16 workers sized by
//! the README's formula (API pool + N × (worker pool + 1)), every worker registered on every queue,
//! and a mixed load (signed deliveries over HTTP, no-op and probe jobs) drained with no refused
//! connection. Reports the connections each process held at most.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use common::{
    crypto::signature,
    jobs::{self, ALL_QUEUES, Job, Noop, Probe, ProbeBehaviour},
    repo,
};

use crate::{TempCluster, TestDb, http::TEST_WEBHOOK_SECRET};

/// What the scale run saw.
#[derive(Debug, Clone)]
pub struct ScaleFigures {
    pub workers: usize,
    pub registered: usize,
    pub api_pool: u32,
    pub worker_pool: u32,
    pub budget: u32,
    pub peak_total: i64,
    pub api_peak: i64,
    /// Per worker process, the most connections seen at once (sorted).
    pub worker_peaks: Vec<i64>,
    pub listen_peak: i64,
    pub refused: usize,
    pub http_errors: usize,
    pub deliveries: usize,
    pub jobs: usize,
    pub drain_secs: f64,
}

/// Connections per application name right now, and the `LISTEN`ing ones per name.
async fn snapshot(db: &TestDb) -> Vec<(String, i64, i64)> {
    sqlx::query_as(
        "SELECT application_name, count(*), count(*) FILTER (WHERE query ILIKE 'LISTEN%')
         FROM pg_stat_activity WHERE backend_type = 'client backend' GROUP BY 1",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap_or_default()
}

pub async fn run(workers: usize, deliveries: usize, noops: usize, probes: usize) -> ScaleFigures {
    let cluster = TempCluster::start();
    let db = TestDb::on_server(&cluster.url()).await;
    // 100 slots: the bench's own pool (at most 10) and the formula's budget below.
    let (api_pool, worker_pool, queue_pool) = (8u32, 4u32, 2u32);
    let budget = api_pool + u32::try_from(workers).unwrap_or(u32::MAX) * (worker_pool + 1);
    let (api_s, worker_s, queue_s) = (
        api_pool.to_string(),
        worker_pool.to_string(),
        queue_pool.to_string(),
    );
    let (api, base) = super::start_api(&db.url, &[("DATABASE_MAX_CONNECTIONS", &api_s)]).await;
    let procs = super::start_workers(
        &db.url,
        workers,
        &[
            ("DATABASE_MAX_CONNECTIONS", &worker_s),
            ("WORKER_QUEUE_CONNECTIONS", &queue_s),
            ("WORKER_CONCURRENCY", "4"),
        ],
    );
    // Every worker has registered every queue.
    let deadline = Instant::now() + Duration::from_secs(120);
    let registered = loop {
        let per_pid: Vec<i64> = sqlx::query_scalar(
            "SELECT count(DISTINCT worker_type) FROM apalis.workers GROUP BY split_part(id, ':', 2)",
        )
        .fetch_all(&db.pool)
        .await
        .unwrap_or_default();
        let full = per_pid
            .iter()
            .filter(|n| **n as usize == ALL_QUEUES.len())
            .count();
        if full >= workers || Instant::now() > deadline {
            break full;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    let started = Instant::now();
    let mut conn = db.pool.acquire().await.expect("conn");
    for chunk in (0..noops).collect::<Vec<_>>().chunks(5000) {
        let batch: Vec<Noop> = chunk.iter().map(|_| Noop { enqueued_at_us: 0 }).collect();
        jobs::push_many(&mut conn, &batch)
            .await
            .expect("push noops");
    }
    let batch: Vec<Probe> = (0..probes)
        .map(|i| Probe {
            key: format!("scale-{i}"),
            sleep_ms: 20,
            behaviour: ProbeBehaviour::Succeed,
        })
        .collect();
    jobs::push_many(&mut conn, &batch)
        .await
        .expect("push probes");
    drop(conn);
    let sender = tokio::spawn(send_pings(base.clone(), deliveries, 16));

    let queues = [Noop::QUEUE.name, Probe::QUEUE.name, "process_webhook"];
    let mut peaks: HashMap<String, i64> = HashMap::new();
    let (mut peak_total, mut listen_peak) = (0i64, 0i64);
    let sampler = async {
        let limit = Instant::now() + Duration::from_secs(600);
        loop {
            for (name, n, listening) in snapshot(&db).await {
                listen_peak = listen_peak.max(if name.starts_with("repopal-worker") {
                    listening
                } else {
                    0
                });
                let e = peaks.entry(name).or_default();
                *e = (*e).max(n);
            }
            let total: i64 = snapshot(&db).await.iter().map(|(_, n, _)| n).sum();
            peak_total = peak_total.max(total);
            let sent = sender.is_finished();
            let left = repo::jobs::unfinished(&db.pool, &queues).await.unwrap_or(1);
            if (sent && left == 0) || Instant::now() > limit {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    sampler.await;
    let http_errors = sender.await.unwrap_or(deliveries);
    let drain_secs = started.elapsed().as_secs_f64();

    let api_name = format!("repopal-api:{}", api.pid());
    let api_peak = peaks.get(&api_name).copied().unwrap_or(0);
    let mut worker_peaks: Vec<i64> = procs
        .iter()
        .map(|p| {
            peaks
                .get(&format!("repopal-worker:{}", p.pid()))
                .copied()
                .unwrap_or(0)
        })
        .collect();
    worker_peaks.sort_unstable();
    let mut procs = procs;
    procs.push(api);
    let logs: Vec<String> = procs.iter().map(|p| p.log_text()).collect();
    super::stop_all(procs).await;
    let refused_marker = |l: &&str| {
        l.contains("too many clients already") || l.contains("remaining connection slots")
    };
    let refused = cluster
        .server_log()
        .lines()
        .filter(|l| refused_marker(l))
        .count()
        + logs
            .iter()
            .map(|t| t.lines().filter(|l| refused_marker(l)).count())
            .sum::<usize>();
    ScaleFigures {
        workers,
        registered,
        api_pool,
        worker_pool,
        budget,
        peak_total,
        api_peak,
        worker_peaks,
        listen_peak,
        refused,
        http_errors,
        deliveries,
        jobs: noops + probes,
        drain_secs,
    }
}

/// Sends `n` signed `ping` deliveries from `clients` connections; returns how many were not 202.
async fn send_pings(base: String, n: usize, clients: usize) -> usize {
    let body = Arc::new(super::ingest::ping_payload());
    let sig = Arc::new(signature::sign(TEST_WEBHOOK_SECRET.as_bytes(), &body));
    let client = reqwest::Client::new();
    let url = Arc::new(format!("{base}/api/v1/webhooks/github"));
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (client, url, body, sig, next) = (
            client.clone(),
            url.clone(),
            body.clone(),
            sig.clone(),
            next.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut errors = 0;
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    return errors;
                }
                let res = client
                    .post(url.as_str())
                    .header("content-type", "application/json")
                    .header("x-github-event", "ping")
                    .header("x-github-delivery", format!("scale-{i}"))
                    .header("x-hub-signature-256", sig.as_str())
                    .body(body.as_ref().clone())
                    .send()
                    .await;
                if !res.is_ok_and(|r| r.status().as_u16() == 202) {
                    errors += 1;
                }
            }
        }));
    }
    let mut errors = 0;
    for t in tasks {
        errors += t.await.unwrap_or(0);
    }
    errors
}
