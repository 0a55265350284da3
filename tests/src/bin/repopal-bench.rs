//! `make bench`: every performance figure of the README, as medians of runs and ratios, in one run
//! on the local PostgreSQL (scenario code in `repopal_tests::bench`).
//!
//! (a) queue: graphile-worker 0.17 (its perfTest shape: bulk add_jobs, 4 processes × 24 concurrent)
//!     beside RepoPal (the same job count, 4 `repopal-worker` processes × 24), batched (local queue
//!     500 / fetch batch 500) and unbatched (one job per claim), and the ratio;
//! (b) enqueue-to-start latency of single jobs pushed into an idle worker (median, p99);
//! (c) webhook ingest: signed deliveries per second through `repopal-api serve` beside pgbench's
//!     `ingest_tx` (delivery row + job row) without and with the NOTIFY trigger; then p50/p99 at
//!     half of the maximum rate;
//! (d) scale: a private `max_connections=100` cluster, the API and 16 workers sized by the formula;
//! (e) end to end: `workflow_run` deliveries across 100 groups to the API with 4 workers;
//! (f) analytics: one organisation with 1,000,000 runs and 100,000 incidents, every analytics route
//!     over HTTP with a 90-day window (daily, weekly, one repository), p50/p95.
//!
//! Environment: `BENCH_ONLY` (`queue`, `latency`, `ingest`, `scale`, `e2e`, `analytics`;
//! comma-separated),
//! `BENCH_RUNS` (3), `BENCH_JOBS` (200000 per queue run), `BENCH_LATENCY_JOBS` (500),
//! `BENCH_INGEST_SECS` (10), `BENCH_INGEST_CLIENTS` (64), `BENCH_SCALE_WORKERS` (16),
//! `BENCH_E2E_RUNS` (5 runs per group), `BENCH_ANALYTICS_RUNS` (1000000),
//! `BENCH_ANALYTICS_INCIDENTS` (100000), `BENCH_ANALYTICS_DAYS` (365, the span they cover),
//! `BENCH_ANALYTICS_REQUESTS` (50 per route variant), `BENCH_ANALYTICS_REUSE` (1 keeps the seeded database
//! `repopal_bench_analytics` and reuses it next time), `BENCH_WORKER_ENV` (extra `KEY=value` pairs for the queue
//! workers), and `TEST_DATABASE_URL`/`DATABASE_URL` for the server.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{
    jobs::{self, Job, Noop},
    repo,
};
use repopal_tests::{
    TestDb,
    bench::{
        self, env_num, graphile, median, percentile,
        queue_profile::{self, DrainProfile},
    },
};

const PROCESSES: usize = 4;
const CONCURRENCY: usize = 24;

fn now_us() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_micros(),
    )
    .unwrap_or(0)
}

fn worker_env(extra: &[(&'static str, String)]) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = vec![("WORKER_POLL_INTERVAL_MS".into(), "500".into())];
    env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    let operator = std::env::var("BENCH_WORKER_ENV").unwrap_or_default();
    env.extend(
        operator
            .split_whitespace()
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    env
}

/// One RepoPal drain: workers idle and registered, N jobs committed at once, time until none is
/// unfinished; with where the time went.
async fn drain_once(
    n_jobs: usize,
    processes: usize,
    env: &[(String, String)],
) -> (f64, DrainProfile) {
    let db = TestDb::new().await;
    let mut pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    // The claim streams and the ack writer log their statement times when they stop.
    pairs.push((
        "RUST_LOG",
        "warn,repopal_worker::claim=info,repopal_worker::acker=info",
    ));
    let workers = bench::start_workers(&db.url, processes, &pairs);
    bench::wait_registered(
        &db.pool,
        Noop::QUEUE.name,
        processes,
        Duration::from_secs(60),
    )
    .await;
    let mut tx = db.pool.begin().await.expect("begin");
    for chunk in (0..n_jobs).collect::<Vec<_>>().chunks(5000) {
        let batch: Vec<Noop> = chunk.iter().map(|_| Noop { enqueued_at_us: 0 }).collect();
        jobs::push_many(&mut tx, &batch).await.expect("push");
    }
    let cpu = |workers: &[repopal_tests::process::Proc]| -> f64 {
        workers
            .iter()
            .map(|w| bench::ingest::cpu_seconds(w.pid()))
            .sum()
    };
    let (worker_cpu, pg_cpu) = (cpu(&workers), queue_profile::postgres_cpu_seconds());
    let started = Instant::now();
    tx.commit().await.expect("commit");
    while repo::jobs::unfinished(&db.pool, &[Noop::QUEUE.name])
        .await
        .expect("count")
        > 0
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut profile = DrainProfile {
        worker_cpu_s: cpu(&workers) - worker_cpu,
        postgres_cpu_s: queue_profile::postgres_cpu_seconds() - pg_cpu,
        ..DrainProfile::default()
    };
    let logs: Vec<_> = workers.iter().map(|w| w.log.clone()).collect();
    bench::stop_all(workers).await;
    profile.read_logs(&logs, Noop::QUEUE.name);
    (n_jobs as f64 / elapsed, profile)
}

fn shown(v: &[f64]) -> String {
    v.iter()
        .map(|r| format!("{r:.0}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// (a) graphile-worker and RepoPal side by side, both modes.
async fn queue(runs: usize) {
    let n_jobs = env_num("BENCH_JOBS", 200_000);
    let have_gw = graphile::available();
    if !have_gw {
        println!(
            "graphile-worker: not installed (scripts/bench.sh installs it into bench/graphile)"
        );
    }
    println!(
        "queue: {n_jobs} no-op jobs, {PROCESSES} processes x {CONCURRENCY} concurrent, median of {runs} runs (jobs/s)"
    );
    println!(
        "{:<12} {:>12} {:>12} {:>7}   runs RepoPal | graphile-worker",
        "mode", "RepoPal", "graphile", "ratio"
    );
    // Batched: 500 per claim, as graphile-worker's local queue. Unbatched: one job per claim, on 8
    // claim streams so claims overlap as graphile-worker's 24 concurrent `get_job` calls do.
    for (mode, batch, fetchers) in [("batched", "500", "1"), ("unbatched", "1", "8")] {
        let env = worker_env(&[
            ("JOB_BATCH_SIZE_NOOP", batch.into()),
            ("JOB_CONCURRENCY_NOOP", CONCURRENCY.to_string()),
            ("JOB_FETCHERS_NOOP", fetchers.into()),
            ("WORKER_QUEUE_CONNECTIONS", "8".into()),
        ]);
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            // Alternate, so load changes on the shared machine hit both alike.
            let (rate, profile) = drain_once(n_jobs, PROCESSES, &env).await;
            println!(
                "  {mode} RepoPal {rate:.0} jobs/s, {}",
                profile.summary(n_jobs)
            );
            ours.push(rate);
            if have_gw {
                match graphile::run(mode, n_jobs, PROCESSES, CONCURRENCY).await {
                    Some(r) if r.left == 0 => theirs.push(r.jobs_per_sec),
                    Some(r) => eprintln!("graphile-worker left {} jobs; run ignored", r.left),
                    None => {}
                }
            }
        }
        let (a, b) = (median(&mut ours.clone()), median(&mut theirs.clone()));
        let ratio = if b > 0.0 {
            format!("{:.2}x", a / b)
        } else {
            "-".into()
        };
        println!(
            "{mode:<12} {a:>12.0} {b:>12.0} {ratio:>7}   {} | {}",
            shown(&ours),
            shown(&theirs)
        );
    }
}

/// (b) Pushes jobs one at a time into an idle worker and reads when each started (`lock_at`).
async fn latency(n_jobs: usize) {
    let db = TestDb::new().await;
    let env = worker_env(&[]);
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let workers = bench::start_workers(&db.url, 1, &pairs);
    bench::wait_registered(&db.pool, Noop::QUEUE.name, 1, Duration::from_secs(60)).await;
    let mut conn = db.pool.acquire().await.expect("conn");
    for _ in 0..n_jobs {
        let job = Noop {
            enqueued_at_us: now_us(),
        };
        jobs::push(&mut conn, &job).await.expect("push");
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
    let mut rows: Vec<f64> = sqlx::query_scalar(
        "SELECT (extract(epoch FROM lock_at) * 1e6
                 - (convert_from(job, 'UTF8')::jsonb ->> 'enqueued_at_us')::float8) / 1000.0
         FROM apalis.jobs WHERE job_type = $1",
    )
    .bind(Noop::QUEUE.name)
    .fetch_all(&db.pool)
    .await
    .expect("latencies");
    bench::stop_all(workers).await;
    println!(
        "enqueue-to-start latency, {} single jobs 10 ms apart into an idle worker: median {:.1} ms, p99 {:.1} ms",
        rows.len(),
        percentile(&mut rows, 0.5),
        percentile(&mut rows, 0.99)
    );
}

/// (c) Webhook ingest over HTTP beside pgbench, then latency at half of the maximum rate.
async fn ingest(runs: usize) {
    let secs = Duration::from_secs(env_num("BENCH_INGEST_SECS", 10) as u64);
    let clients = env_num("BENCH_INGEST_CLIENTS", 64);
    let (mut http, mut raw, mut raw_notify, mut p99s) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut cpu = Vec::new();
    let mut client_cpu = Vec::new();
    for _ in 0..runs {
        let db = TestDb::new().await;
        let me = i32::try_from(std::process::id()).unwrap_or(0);
        let own_before = bench::ingest::cpu_seconds(me);
        let f = bench::http_ingest(&db, clients, secs, None).await;
        let own = bench::ingest::cpu_seconds(me) - own_before;
        client_cpu.push(own * 1e6 / (f.requests.max(1) as f64));
        cpu.push(f.api_cpu_us);
        if f.errors > 0 {
            eprintln!("ingest: {} requests failed", f.errors);
        }
        http.push(f.per_second);
        p99s.push(f.p99_ms);
        let db = TestDb::new().await;
        if let Some((tps, _)) = bench::pgbench_ingest(&db, clients, secs, false).await {
            raw.push(tps);
        }
        let db = TestDb::new().await;
        if let Some((tps, _)) = bench::pgbench_ingest(&db, clients, secs, true).await {
            raw_notify.push(tps);
        }
    }
    let (h, r, rn) = (
        median(&mut http.clone()),
        median(&mut raw.clone()),
        median(&mut raw_notify.clone()),
    );
    println!(
        "webhook ingest, {clients} clients x {}s, median of {runs}: HTTP {h:.0}/s (p99 at saturation {:.1} ms) | pgbench ingest_tx without NOTIFY {r:.0} tps, ratio {:.2}x | with the NOTIFY trigger {rn:.0} tps, ratio {:.2}x   runs {} | {} | {}",
        secs.as_secs(),
        median(&mut p99s),
        h / r.max(1.0),
        h / rn.max(1.0),
        shown(&http),
        shown(&raw),
        shown(&raw_notify)
    );
    // Where a delivery's time goes: the API's CPU per delivery (all of it: HTTP, HMAC, JSON,
    // queries), the two parts measured alone here, and the NOTIFY trigger by pgbench with and
    // without it above; the load generator shares the 2 cores.
    let body = bench::ingest::ping_payload();
    let n = 20_000;
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(common::crypto::signature::sign(
            b"bench-secret",
            std::hint::black_box(&body),
        ));
    }
    let hmac_us = t.elapsed().as_secs_f64() * 1e6 / n as f64;
    let t = Instant::now();
    for _ in 0..n {
        let v: serde_json::Value =
            serde_json::from_slice(std::hint::black_box(&body)).unwrap_or_default();
        std::hint::black_box(v);
    }
    let json_us = t.elapsed().as_secs_f64() * 1e6 / n as f64;
    println!(
        "ingest cost per delivery: API CPU {:.0} us (median), of which HMAC-SHA256 of the {} B body {hmac_us:.1} us and a JSON parse {json_us:.1} us; the load generator spends {:.0} us; NOTIFY trigger costs pgbench {:.0}% of its rate",
        median(&mut cpu),
        body.len(),
        median(&mut client_cpu),
        if r > 0.0 { (1.0 - rn / r) * 100.0 } else { 0.0 }
    );
    let half = h / 2.0;
    let db = TestDb::new().await;
    let f = bench::http_ingest(&db, clients, secs, Some(half)).await;
    println!(
        "webhook ingest at half of the maximum ({half:.0}/s offered): {:.0}/s, p50 {:.1} ms, p99 {:.1} ms ({} errors)",
        f.per_second, f.p50_ms, f.p99_ms, f.errors
    );
}

/// (d) 16 workers and the API on 100 connections.
async fn scale() {
    let workers = env_num("BENCH_SCALE_WORKERS", 16);
    let f = bench::scale::run(workers, 2000, 20_000, 400).await;
    let w = &f.worker_peaks;
    println!(
        "scale: max_connections=100, API pool {} + {} workers x (pool {} + 1 LISTEN) = {} by the formula; {}/{} workers registered every queue",
        f.api_pool, f.workers, f.worker_pool, f.budget, f.registered, f.workers
    );
    println!(
        "scale: {} deliveries + {} jobs drained in {:.1}s; peak connections {} in all, API {}, per worker min {} median {} max {}, LISTEN per worker at most {}; refused connections {}, failed deliveries {}",
        f.deliveries,
        f.jobs,
        f.drain_secs,
        f.peak_total,
        f.api_peak,
        w.first().copied().unwrap_or(0),
        w.get(w.len() / 2).copied().unwrap_or(0),
        w.last().copied().unwrap_or(0),
        f.listen_peak,
        f.refused,
        f.http_errors
    );
}

/// (e) `workflow_run` deliveries to incidents, end to end.
async fn e2e() {
    let f = bench::e2e::run(env_num("BENCH_E2E_RUNS", 5), 4).await;
    println!(
        "end to end: {} workflow_run deliveries over HTTP, 4 workers: {:.0} deliveries/s processed, receipt to incident state p50 {:.1} ms, p99 {:.1} ms",
        f.deliveries, f.per_second, f.p50_ms, f.p99_ms
    );
    let ok = f.failing_with_one_incident == f.failing_groups
        && f.green_incidents == 0
        && f.unprocessed == 0
        && f.http_errors == 0;
    println!(
        "end to end check: {}/{} failing groups with exactly one open incident, {} incidents for {} green groups, {} unprocessed, {} failed deliveries: {}",
        f.failing_with_one_incident,
        f.failing_groups,
        f.green_incidents,
        f.green_groups,
        f.unprocessed,
        f.http_errors,
        if ok { "OK" } else { "FAILED" }
    );
}

/// (f) Analytics routes over a large organisation.
async fn analytics() {
    let f = bench::analytics::run(
        env_num("BENCH_ANALYTICS_RUNS", 1_000_000),
        env_num("BENCH_ANALYTICS_INCIDENTS", 100_000),
        env_num("BENCH_ANALYTICS_DAYS", 365),
        env_num("BENCH_ANALYTICS_REQUESTS", 50),
    )
    .await;
    println!(
        "analytics: one organisation, {} runs ({} failing jobs) and {} incidents over {} days, seeded in {:.0}s; first request after the seed {:.0} ms; 90-day window, sequential requests:",
        f.runs, f.failing_jobs, f.incidents, f.days, f.seed_secs, f.first_request_ms
    );
    println!(
        "{:<14} {:<18} {:>9} {:>9} {:>9} {:>7}  target p95 < 200 ms",
        "route", "variant", "p50 ms", "p95 ms", "max ms", "errors"
    );
    for r in &f.routes {
        println!(
            "{:<14} {:<18} {:>9.1} {:>9.1} {:>9.1} {:>7}  {}",
            r.route,
            r.variant,
            r.p50_ms,
            r.p95_ms,
            r.max_ms,
            r.errors,
            if r.p95_ms < 200.0 && r.errors == 0 {
                "met"
            } else {
                "MISSED"
            }
        );
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let runs = env_num("BENCH_RUNS", 3);
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let on = |s: &str| only.is_empty() || only.split(',').any(|o| o.trim() == s);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "RepoPal benchmark: {} cores, load average at start {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    if on("queue") {
        queue(runs).await;
    }
    if on("latency") {
        latency(env_num("BENCH_LATENCY_JOBS", 500)).await;
    }
    if on("ingest") {
        ingest(runs).await;
    }
    if on("scale") {
        scale().await;
    }
    if on("e2e") {
        e2e().await;
    }
    if on("analytics") {
        analytics().await;
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "load average at end {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
}
