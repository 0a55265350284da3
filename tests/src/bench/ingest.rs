//! Webhook ingest for `repopal-bench`: signed deliveries through the real HTTP endpoint of a running
//! `repopal-api serve` (at full speed, or paced at a fixed rate for latency), and pgbench doing the
//! same transaction shape (one delivery row plus one job row) on the same server, in the same run.

use std::{
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use common::crypto::signature;

use crate::{TestDb, http::TEST_WEBHOOK_SECRET, process::spawn};

/// Figures of one ingest run.
#[derive(Debug, Clone)]
pub struct IngestFigures {
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub requests: u64,
    pub errors: u64,
    /// CPU time (user + system) of the API process per accepted delivery, in microseconds.
    pub api_cpu_us: f64,
}

/// User + system CPU time of process `pid` so far, in seconds (from `/proc/<pid>/stat`).
pub fn cpu_seconds(pid: i32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may contain spaces) start at ") ".
    let rest = stat.rsplit_once(") ").map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name; 100 ticks/s.
    (ticks(11) + ticks(12)) / 100.0
}

/// The corpus `ping` delivery body (2.3 KB).
pub fn ping_payload() -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/github/webhooks/ping/payload.json"),
    )
    .expect("ping fixture")
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Sends signed deliveries from `clients` concurrent connections for `duration` to a fresh
/// `repopal-api serve` and reports the sustained rate and latencies: as fast as it answers, or at
/// `rate` deliveries/s in total (each client paced) to read latency below saturation.
pub async fn http_ingest(
    db: &TestDb,
    clients: usize,
    duration: Duration,
    rate: Option<f64>,
) -> IngestFigures {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let port_s = port.to_string();
    let mut api = spawn(
        "repopal-api",
        &["serve"],
        &[
            ("DATABASE_URL", &db.url),
            ("PORT", &port_s),
            ("GITHUB_WEBHOOK_SECRET", TEST_WEBHOOK_SECRET),
            ("ENCRYPTION_KEYS", crate::http::TEST_ENCRYPTION_KEYS),
            ("JWT_SIGNING_KEY", crate::http::TEST_JWT_KEY),
            ("DATABASE_MAX_CONNECTIONS", "20"),
            ("RUST_LOG", "warn"),
        ],
    );
    let url = format!("http://127.0.0.1:{port}/api/v1/webhooks/github");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .expect("client");
    // Wait until it answers.
    for _ in 0..200 {
        if client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let body = Arc::new(ping_payload());
    let sig = Arc::new(signature::sign(TEST_WEBHOOK_SECRET.as_bytes(), &body));
    let counter = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let cpu_before = cpu_seconds(api.pid());
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (client, url, body, sig, counter, errors) = (
            client.clone(),
            url.clone(),
            body.clone(),
            sig.clone(),
            counter.clone(),
            errors.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut n = 0u64;
            let mut pace = rate.map(|r| {
                let mut i =
                    tokio::time::interval(Duration::from_secs_f64(clients as f64 / r.max(1.0)));
                i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                i
            });
            while Instant::now() < deadline {
                if let Some(p) = pace.as_mut() {
                    p.tick().await;
                }
                n += 1;
                let t = Instant::now();
                let res = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("x-github-event", "ping")
                    .header("x-github-delivery", format!("bench-{c}-{n}"))
                    .header("x-hub-signature-256", sig.as_str())
                    .body(body.as_ref().clone())
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status().as_u16() == 202 => {
                        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.unwrap_or_default());
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds(api.pid()) - cpu_before;
    api.signal(nix::sys::signal::Signal::SIGTERM);
    let _ = tokio::time::timeout(Duration::from_secs(10), api.child.wait()).await;
    latencies.sort_by(f64::total_cmp);
    let requests = counter.load(Ordering::Relaxed);
    IngestFigures {
        per_second: requests as f64 / elapsed,
        p50_ms: percentile(&latencies, 0.5),
        p99_ms: percentile(&latencies, 0.99),
        requests,
        errors: errors.load(Ordering::Relaxed),
        api_cpu_us: cpu * 1e6 / (requests.max(1) as f64),
    }
}

/// pgbench on the same database: per transaction (`ingest_tx`), one delivery row and one job row,
/// `clients` connections for `duration`; with the queue's per-row NOTIFY trigger when `notify`,
/// else with it disabled on this throw-away database. Returns (tps, average latency ms).
pub async fn pgbench_ingest(
    db: &TestDb,
    clients: usize,
    duration: Duration,
    notify: bool,
) -> Option<(f64, f64)> {
    let toggle = if notify { "ENABLE" } else { "DISABLE" };
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "ALTER TABLE apalis.jobs {toggle} TRIGGER notify_workers"
    )))
    .execute(&db.pool)
    .await
    .ok()?;
    let bin = std::env::var("REPOPAL_PG_BIN")
        .map(PathBuf::from)
        .ok()
        .or_else(|| {
            let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
                .ok()?
                .flatten()
                .map(|e| e.path().join("bin"))
                .filter(|p| p.join("pgbench").exists())
                .collect();
            dirs.sort();
            dirs.pop()
        })?;
    let hex: String = ping_payload().iter().map(|b| format!("{b:02x}")).collect();
    let script = format!(
        "\\set n random(1, 1000000000000)\n\
         BEGIN;\n\
         INSERT INTO webhook_deliveries (id, hook_id, delivery_id, event, payload) \
         VALUES (gen_random_uuid(), '', 'pgb-' || :client_id || '-' || :n, 'ping', '\\x{hex}'::bytea) \
         ON CONFLICT (hook_id, delivery_id) DO NOTHING;\n\
         INSERT INTO apalis.jobs (id, job_type, job, status, attempts, max_attempts, run_at) \
         VALUES (gen_random_uuid()::text, 'process_webhook', convert_to('{{\"delivery_id\":\"00000000-0000-0000-0000-000000000000\"}}', 'UTF8'), 'Pending', 0, 8, now());\n\
         END;\n"
    );
    let path = std::env::temp_dir().join(format!(
        "repopal-pgbench-{}.sql",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&path, script).ok()?;
    let out = tokio::process::Command::new(bin.join("pgbench"))
        .args([
            "-n",
            "-c",
            &clients.to_string(),
            "-j",
            "2",
            "-T",
            &duration.as_secs().to_string(),
            "-f",
        ])
        .arg(&path)
        .arg(&db.url)
        .output()
        .await
        .ok()?;
    let _ = std::fs::remove_file(&path);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let number_after = |key: &str| -> Option<f64> {
        text.lines()
            .find(|l| l.starts_with(key))?
            .split_whitespace()
            .find_map(|w| w.parse::<f64>().ok())
    };
    match (number_after("tps = "), number_after("latency average = ")) {
        (Some(tps), Some(lat)) => Some((tps, lat)),
        _ => {
            eprintln!(
                "pgbench did not report figures:\n{text}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            None
        }
    }
}
