//! graphile-worker's side of the queue comparison: runs `bench/graphile/driver.js` (installed by
//! `scripts/bench.sh` with npm) on a fresh database of the same server, in the same run as RepoPal.

use std::path::PathBuf;

use crate::TestDb;

/// One graphile-worker run as its driver reports it.
#[derive(Debug, Clone)]
pub struct GraphileRun {
    pub jobs_per_sec: f64,
    pub left: i64,
}

fn driver_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../bench/graphile")
}

/// Whether the driver and its `node_modules` are in place (and `node` runs).
pub fn available() -> bool {
    driver_dir()
        .join("node_modules/graphile-worker/dist/cli.js")
        .exists()
        && std::process::Command::new("node")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
}

/// Drains `jobs` no-op tasks with `processes` × `concurrency` graphile-worker in `mode`
/// (`batched` or `unbatched`), as its perfTest does. `None` (with the reason on stderr) on failure.
pub async fn run(
    mode: &str,
    jobs: usize,
    processes: usize,
    concurrency: usize,
) -> Option<GraphileRun> {
    let db = TestDb::new().await;
    let out = tokio::process::Command::new("node")
        .arg(driver_dir().join("driver.js"))
        .env("DATABASE_URL", &db.url)
        .env("GW_MODE", mode)
        .env("GW_JOBS", jobs.to_string())
        .env("GW_PROCESSES", processes.to_string())
        .env("GW_CONCURRENCY", concurrency.to_string())
        .env("NO_LOG_SUCCESS", "1")
        .output()
        .await
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().rev().find(|l| l.starts_with('{'));
    let parsed: Option<serde_json::Value> = line.and_then(|l| serde_json::from_str(l).ok());
    match parsed {
        Some(v) if out.status.success() => Some(GraphileRun {
            jobs_per_sec: v["jobs_per_sec"].as_f64()?,
            left: v["left"].as_i64().unwrap_or(-1),
        }),
        _ => {
            eprintln!(
                "graphile-worker driver failed ({}):\n{text}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
            None
        }
    }
}
