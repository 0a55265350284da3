//! Where a queue drain's time goes: the workers' CPU, the PostgreSQL server's CPU (every `postgres`
//! process on the machine, so other users of a shared server count too), and the wall time the
//! workers spent in claim and ack statements, which each worker logs when it stops.

use std::path::PathBuf;

use super::ingest::cpu_seconds;

/// CPU seconds used so far by every process named `postgres`.
pub fn postgres_cpu_seconds() -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim() == "postgres")
        })
        .map(cpu_seconds)
        .sum()
}

/// One drain's breakdown, summed over its worker processes.
#[derive(Debug, Clone, Copy, Default)]
pub struct DrainProfile {
    pub worker_cpu_s: f64,
    pub postgres_cpu_s: f64,
    pub claims: u64,
    pub claimed: u64,
    pub claim_ms: f64,
    pub ack_statements: u64,
    pub acked: u64,
    pub ack_ms: f64,
}

impl DrainProfile {
    /// Adds the claim and ack figures of `queue` that stopped workers logged to `logs`.
    pub fn read_logs(&mut self, logs: &[PathBuf], queue: &str) {
        for log in logs {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            for line in text.lines() {
                let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                    continue;
                };
                let n = |k: &str| v[k].as_u64().unwrap_or(0);
                let ms = |k: &str| v[k].as_f64().unwrap_or(0.0);
                match v["message"].as_str() {
                    Some("claim stream drained and stopped") if v["queue"] == queue => {
                        self.claims += n("claims");
                        self.claimed += n("claimed");
                        self.claim_ms += ms("claim_ms");
                    }
                    Some("acknowledgement writer stopped") => {
                        self.ack_statements += n("statements");
                        self.acked += n("acked");
                        self.ack_ms += ms("ack_ms");
                    }
                    _ => {}
                }
            }
        }
    }

    /// One line: per job, worker and server CPU and claim/ack statement time, and batch sizes.
    pub fn summary(&self, jobs: usize) -> String {
        let per_job = |s: f64| s * 1e6 / jobs.max(1) as f64;
        format!(
            "per job: worker CPU {:.1} us, postgres CPU {:.1} us, in claim statements {:.1} us ({} claims, {:.0} jobs each), in ack statements {:.1} us ({} statements, {:.0} jobs each)",
            per_job(self.worker_cpu_s),
            per_job(self.postgres_cpu_s),
            per_job(self.claim_ms / 1e3),
            self.claims,
            self.claimed as f64 / self.claims.max(1) as f64,
            per_job(self.ack_ms / 1e3),
            self.ack_statements,
            self.acked as f64 / self.ack_statements.max(1) as f64,
        )
    }
}
