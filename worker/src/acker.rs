//! Batched acknowledgements: finished runs are queued here and written many per statement. While
//! one write is in flight the next runs accumulate, so under load a statement carries every run
//! that finished meanwhile and an idle queue still acks at once. A failed write is retried with
//! backoff until it lands (a job never stays `Running` under a live worker); a process that dies
//! first leaves its jobs to orphan recovery.

use std::time::Duration;

use common::repo::job_claims::{self, Ack};
use sqlx::PgPool;
use tokio::{sync::mpsc, task::JoinHandle};

/// Most runs written by one statement.
const MAX_BATCH: usize = 2_000;

/// The sending side: cheap to clone, one per claim stream.
#[derive(Clone)]
pub struct Acker {
    tx: mpsc::UnboundedSender<Ack>,
}

impl Acker {
    /// Starts the writer on `pool`. It ends once every `Acker` clone is dropped and the queue is
    /// written.
    pub fn start(pool: PgPool) -> (Self, JoinHandle<()>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Self { tx }, tokio::spawn(write_loop(pool, rx)))
    }

    /// Queues one finished run.
    pub fn ack(&self, ack: Ack) {
        if self.tx.send(ack).is_err() {
            tracing::warn!("acknowledgement writer is gone; the job is left to orphan recovery");
        }
    }
}

async fn write_loop(pool: PgPool, mut rx: mpsc::UnboundedReceiver<Ack>) {
    let mut batch: Vec<Ack> = Vec::new();
    // Where the time goes, logged when the writer stops (`make bench` reads it).
    let (mut statements, mut acked, mut ack_time) = (0u64, 0u64, Duration::ZERO);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let mut delay = Duration::from_millis(50);
        loop {
            let began = std::time::Instant::now();
            let result = job_claims::ack(&pool, &batch).await;
            ack_time += began.elapsed();
            match result {
                Ok(_) => {
                    statements += 1;
                    acked += batch.len() as u64;
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, jobs = batch.len(), retry_in_ms = delay.as_millis(), "could not record finished jobs; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(2));
                }
            }
        }
        batch.clear();
    }
    tracing::info!(
        statements,
        acked,
        ack_ms = ack_time.as_secs_f64() * 1e3,
        "acknowledgement writer stopped"
    );
}
