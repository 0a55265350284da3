//! The RepoPal worker: every queue, its handler, and the periodic scheduler, in one process.

pub mod context;
pub mod error;
pub mod jobs;
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

/// Every queue this worker serves, with its handler. Add new jobs here.
pub fn registrations() -> Vec<Registration> {
    vec![
        handle(jobs::noop::run),
        handle(jobs::probe::run),
        handle(jobs::prune::run),
        handle(jobs::send_email::run),
        handle(jobs::process_webhook::run),
        handle(jobs::sync_repositories::run),
        handle(jobs::sync_repositories::run_connection),
        handle(jobs::repository_webhook::run),
        handle(jobs::refresh_oauth_token::run),
        handle(jobs::refresh_oauth_token::run_due),
        handle(jobs::incident_context::run),
        handle(jobs::notify_slack::run),
        handle(jobs::rerun_workflow::run),
        handle(jobs::check_integration::run),
        handle(jobs::check_integration::run_due),
        handle(jobs::refresh_integration_token::run),
        handle(jobs::notify_integration_health::run),
    ]
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
    runner::run(services, config, registrations(), shutdown).await;
    let _ = scheduler.await;
    Ok(())
}
