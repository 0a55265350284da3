//! Scenarios of `make bench` (`repopal-bench`) that need more than a queue drain: webhook ingest
//! beside pgbench, graphile-worker beside RepoPal, the connection-budget scale run and the
//! end-to-end incident run; plus the helpers they share (real binaries, percentiles).

pub mod analytics;
pub mod e2e;
pub mod graphile;
pub mod ingest;
pub mod queue_profile;
pub mod scale;

use std::time::{Duration, Instant};

pub use ingest::{IngestFigures, http_ingest, pgbench_ingest};

use crate::process::{Proc, spawn};

/// `name` from the environment as a number, else `default`.
pub fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The value at quantile `p` of `v` (sorted here); 0 for an empty slice.
pub fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// The median of `v`; 0 for an empty slice.
pub fn median(v: &mut [f64]) -> f64 {
    percentile(v, 0.5)
}

/// A free local TCP port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port()
}

/// `repopal-api serve` on a free port with the test secrets, `env` on top; returns once it answers
/// `/healthz`, with its base URL.
pub async fn start_api(db_url: &str, env: &[(&str, &str)]) -> (Proc, String) {
    let port = free_port().to_string();
    let mut all: Vec<(&str, &str)> = vec![
        ("DATABASE_URL", db_url),
        ("PORT", &port),
        ("GITHUB_WEBHOOK_SECRET", crate::http::TEST_WEBHOOK_SECRET),
        ("ENCRYPTION_KEYS", crate::http::TEST_ENCRYPTION_KEYS),
        ("JWT_SIGNING_KEY", crate::http::TEST_JWT_KEY),
        ("RUST_LOG", "warn"),
    ];
    all.extend_from_slice(env);
    let api = spawn("repopal-api", &["serve"], &all);
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (api, base)
}

/// `n` `repopal-worker` processes on `db_url` with quiet logs, a far scheduler tick and `env` on top.
pub fn start_workers(db_url: &str, n: usize, env: &[(&str, &str)]) -> Vec<Proc> {
    (0..n)
        .map(|_| {
            let mut all: Vec<(&str, &str)> = vec![
                ("DATABASE_URL", db_url),
                ("ENCRYPTION_KEYS", crate::http::TEST_ENCRYPTION_KEYS),
                ("SCHEDULER_TICK_SECS", "3600"),
                ("RUST_LOG", "warn"),
            ];
            all.extend_from_slice(env);
            spawn("repopal-worker", &[], &all)
        })
        .collect()
}

/// SIGTERM and wait (up to 30 s each).
pub async fn stop_all(procs: Vec<Proc>) {
    for p in &procs {
        p.signal(nix::sys::signal::Signal::SIGTERM);
    }
    for mut p in procs {
        let _ = tokio::time::timeout(Duration::from_secs(30), p.child.wait()).await;
    }
}

/// Waits until `n` distinct worker processes have registered `queue` (so start-up is not timed).
pub async fn wait_registered(pool: &sqlx::PgPool, queue: &str, n: usize, limit: Duration) -> usize {
    let deadline = Instant::now() + limit;
    loop {
        let count: i64 = sqlx::query_scalar(
            "SELECT count(DISTINCT split_part(id, ':', 2)) FROM apalis.workers WHERE worker_type = $1",
        )
        .bind(queue)
        .fetch_one(pool)
        .await
        .unwrap_or(0);
        let count = usize::try_from(count).unwrap_or(0);
        if count >= n || Instant::now() > deadline {
            return count;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
