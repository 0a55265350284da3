//! The RepoPal worker: every queue, its handler, and the periodic scheduler, in one process.

pub mod context;
pub mod error;
pub mod jobs;
pub mod runner;
pub mod schedule;

use common::config::{MailConfig, WorkerConfig};
use sqlx::PgPool;
use tokio::sync::watch;

use crate::runner::{Registration, handle};

/// Every queue this worker serves, with its handler. Add new jobs here.
pub fn registrations() -> Vec<Registration> {
    vec![
        handle(jobs::noop::run),
        handle(jobs::probe::run),
        handle(jobs::prune::run),
        handle(jobs::send_email::run),
        handle(jobs::process_webhook::run),
    ]
}

/// Runs all queues and the scheduler until `shutdown` flips to true, then drains.
pub async fn run(
    pool: PgPool,
    config: WorkerConfig,
    mail: MailConfig,
    shutdown: watch::Receiver<bool>,
) {
    let scheduler = tokio::spawn(schedule::run(
        pool.clone(),
        config.scheduler_tick,
        shutdown.clone(),
    ));
    runner::run(pool, config, mail, registrations(), shutdown).await;
    let _ = scheduler.await;
}
