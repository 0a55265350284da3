//! The RepoPal worker: every queue, its handler, and the periodic scheduler, in one process.

pub mod acker;
mod claim;
pub mod context;
pub mod error;
mod heartbeat;
pub mod jobs;
pub mod listener;
pub mod runner;
pub mod schedule;

use std::sync::Arc;

use common::{
    config::{Config, WorkerConfig},
    services::Services,
};
use sqlx::PgPool;
use tokio::sync::watch;

use crate::runner::{Registration, handle};

macro_rules! register {
    ($($job:ty),* $(,)?) => {
        vec![$(handle(<$job as jobs::Handler>::run)),*]
    };
}

/// Every queue this worker serves, with its handler: one per job in `common::for_each_job!`.
pub fn registrations() -> Vec<Registration> {
    common::for_each_job!(register)
}

/// Runs all queues and the scheduler until `shutdown` flips to true, then drains.
pub async fn run(
    pool: PgPool,
    config: WorkerConfig,
    app: &Config,
    shutdown: watch::Receiver<bool>,
) -> Result<(), common::Error> {
    let services = Arc::new(Services::build(pool, Arc::new(app.clone()))?);
    let scheduler = tokio::spawn(schedule::run(
        services.pool.clone(),
        config.scheduler_tick,
        shutdown.clone(),
    ));
    let watcher = tokio::spawn(common::db_status::watch(
        services.pool.clone(),
        "repopal-worker",
        shutdown.clone(),
    ));
    runner::run(services, config, registrations(), shutdown).await;
    let _ = scheduler.await;
    let _ = watcher.await;
    Ok(())
}
