//! `make bench`: measures the job queue on the local PostgreSQL and prints the figures.
//!
//! (a) drain rate of N no-op jobs by 1 and by 2 `repopal-worker` processes, batched (the `noop`
//!     queue's default batch) and unbatched (`JOB_BATCH_SIZE_NOOP=1`), median of several runs;
//! (b) enqueue-to-start latency of single jobs pushed into idle workers (median, p99);
//! (c) webhook ingest: signed deliveries per second through `repopal-api serve` (p50, p99), beside
//!     pgbench inserting the same delivery row + job row per transaction.
//!
//! Environment: `BENCH_JOBS` (default 20000; unbatched runs use a tenth), `BENCH_RUNS` (default 3),
//! `BENCH_LATENCY_JOBS` (default 500), `BENCH_ONLY` (`batched`, `unbatched`, `ingest` or `latency`), `BENCH_INGEST_SECS` (10),
//! `BENCH_INGEST_CLIENTS` (64),
//! `BENCH_WORKER_ENV` (extra `KEY=value` pairs for the workers, e.g. `JOB_CONCURRENCY_NOOP=400`),
//! and `TEST_DATABASE_URL`/`DATABASE_URL` for the server.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{
    jobs::{self, Job, Noop},
    repo,
};
use repopal_tests::{
    TestDb,
    process::{Proc, spawn},
};

/// One job per fetch and one at a time per process, as graphile-worker's unbatched mode.
const UNBATCHED: [(&str, &str); 2] = [("JOB_BATCH_SIZE_NOOP", "1"), ("JOB_CONCURRENCY_NOOP", "1")];

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn now_us() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_micros(),
    )
    .unwrap_or(0)
}

fn start_workers(db: &TestDb, n: usize, extra: &[(&str, &str)]) -> Vec<Proc> {
    let operator = std::env::var("BENCH_WORKER_ENV").unwrap_or_default();
    let operator: Vec<(&str, &str)> = operator
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .collect();
    (0..n)
        .map(|_| {
            let mut env = vec![
                ("DATABASE_URL", db.url.as_str()),
                ("ENCRYPTION_KEYS", repopal_tests::http::TEST_ENCRYPTION_KEYS),
                ("SCHEDULER_TICK_SECS", "3600"),
                ("WORKER_POLL_INTERVAL_MS", "500"),
                ("RUST_LOG", "warn"),
            ];
            env.extend_from_slice(extra);
            env.extend_from_slice(&operator);
            spawn("repopal-worker", &[], &env)
        })
        .collect()
}

async fn stop_workers(workers: Vec<Proc>) {
    for mut w in workers {
        w.signal(nix::sys::signal::Signal::SIGTERM);
        let _ = tokio::time::timeout(Duration::from_secs(30), w.child.wait()).await;
    }
}

/// Waits until the workers have registered on the noop queue (so start-up is not timed).
async fn wait_registered(db: &TestDb, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let count: i64 =
            sqlx::query_scalar("SELECT count(*) FROM apalis.workers WHERE worker_type = $1")
                .bind(Noop::QUEUE.name)
                .fetch_one(&db.pool)
                .await
                .expect("count workers");
        if count as usize >= n || Instant::now() > deadline {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One drain: workers idle, N jobs committed at once, time until none is unfinished.
async fn drain_once(n_jobs: usize, n_workers: usize, extra: &[(&str, &str)]) -> f64 {
    let db = TestDb::new().await;
    let workers = start_workers(&db, n_workers, extra);
    wait_registered(&db, n_workers).await;
    let mut tx = db.pool.begin().await.expect("begin");
    for chunk in (0..n_jobs).collect::<Vec<_>>().chunks(5000) {
        let batch: Vec<Noop> = chunk.iter().map(|_| Noop { enqueued_at_us: 0 }).collect();
        jobs::push_many(&mut tx, &batch).await.expect("push");
    }
    let started = Instant::now();
    tx.commit().await.expect("commit");
    loop {
        let left = repo::jobs::unfinished(&db.pool, &[Noop::QUEUE.name])
            .await
            .expect("count");
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    stop_workers(workers).await;
    n_jobs as f64 / elapsed
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    let idx = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[idx]
}

/// Pushes jobs one at a time into idle workers and reads when each started (`lock_at`).
async fn latency(n_jobs: usize) -> Vec<f64> {
    let db = TestDb::new().await;
    let workers = start_workers(&db, 1, &[]);
    wait_registered(&db, 1).await;
    let mut conn = db.pool.acquire().await.expect("conn");
    for _ in 0..n_jobs {
        jobs::push(
            &mut conn,
            &Noop {
                enqueued_at_us: now_us(),
            },
        )
        .await
        .expect("push");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(conn);
    while repo::jobs::unfinished(&db.pool, &[Noop::QUEUE.name])
        .await
        .expect("count")
        > 0
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let rows: Vec<f64> = sqlx::query_scalar(
        "SELECT (extract(epoch FROM lock_at) * 1e6
                 - (convert_from(job, 'UTF8')::jsonb ->> 'enqueued_at_us')::float8) / 1000.0
         FROM apalis.jobs WHERE job_type = $1",
    )
    .bind(Noop::QUEUE.name)
    .fetch_all(&db.pool)
    .await
    .expect("latencies");
    stop_workers(workers).await;
    rows
}

/// Webhook ingest through the real HTTP endpoint beside pgbench's raw figure for the same
/// transaction shape, both on the local server in this run.
async fn ingest() {
    let secs = env_num("BENCH_INGEST_SECS", 10) as u64;
    let clients = env_num("BENCH_INGEST_CLIENTS", 64);
    let db = TestDb::new().await;
    let http = repopal_tests::bench::http_ingest(&db, clients, Duration::from_secs(secs)).await;
    let db2 = TestDb::new().await;
    let raw = repopal_tests::bench::pgbench_ingest(&db2, clients, Duration::from_secs(secs));
    println!(
        "webhook ingest, {clients} clients x {secs}s, signed ping deliveries over HTTP: {:.0}/s, p50 {:.1} ms, p99 {:.1} ms ({} accepted, {} errors)",
        http.per_second, http.p50_ms, http.p99_ms, http.requests, http.errors
    );
    match raw {
        Some((tps, lat)) => println!(
            "pgbench, same transaction shape (delivery row + job row), {clients} clients x {secs}s: {tps:.0} tps, average latency {lat:.1} ms; ratio HTTP/raw {:.2}",
            http.per_second / tps
        ),
        None => println!("pgbench: not available"),
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let n_jobs = env_num("BENCH_JOBS", 20_000);
    let runs = env_num("BENCH_RUNS", 3);
    let n_latency = env_num("BENCH_LATENCY_JOBS", 500);
    println!("RepoPal queue benchmark: {n_jobs} no-op jobs per run, median of {runs} runs");
    println!("{:<42} {:>14} {:>24}", "scenario", "median jobs/s", "runs");
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let batch = format!("batched (batch {})", Noop::QUEUE.batch_size);
    // (label, kind for BENCH_ONLY, worker processes, jobs, extra worker environment)
    type Scenario<'a> = (String, &'a str, usize, usize, Vec<(&'a str, &'a str)>);
    let scenarios: [Scenario; 4] = [
        (format!("{batch}, 1 process"), "batched", 1, n_jobs, vec![]),
        (
            format!("{batch}, 2 processes"),
            "batched",
            2,
            n_jobs,
            vec![],
        ),
        (
            "unbatched (1 job per fetch), 1 process".into(),
            "unbatched",
            1,
            n_jobs / 10,
            UNBATCHED.to_vec(),
        ),
        (
            "unbatched (1 job per fetch), 2 processes".into(),
            "unbatched",
            2,
            n_jobs / 10,
            UNBATCHED.to_vec(),
        ),
    ];
    for (name, kind, workers, jobs, extra) in &scenarios {
        if !only.is_empty() && only != *kind {
            continue;
        }
        let mut rates = Vec::new();
        for _ in 0..runs {
            rates.push(drain_once(*jobs, *workers, extra).await);
        }
        let shown: Vec<String> = rates.iter().map(|r| format!("{r:.0}")).collect();
        println!(
            "{name:<42} {:>14.0} {:>24}",
            median(&mut rates.clone()),
            shown.join(" ")
        );
    }
    if only.is_empty() || only == "ingest" {
        ingest().await;
    }
    if !only.is_empty() && only != "latency" {
        return;
    }
    let mut lat = latency(n_latency).await;
    println!(
        "enqueue-to-start latency, {} single jobs into an idle worker: median {:.1} ms, p99 {:.1} ms",
        lat.len(),
        percentile(&mut lat, 0.5),
        percentile(&mut lat, 0.99)
    );
}
