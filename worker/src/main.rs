//! `repopal-worker`: runs every job queue until SIGTERM or Ctrl-C, then drains.

use anyhow::Context;
use common::config::{Config, WorkerConfig};
use tokio::signal::unix::{SignalKind, signal};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::from_env().context("configuration")?;
    let worker_config = WorkerConfig::from_env().context("configuration")?;
    common::telemetry::init(config.log.format);
    // The queue pool and the LISTEN connection are opened by the runner; handlers get the rest of
    // DATABASE_MAX_CONNECTIONS.
    let mut handler_db = config.database.clone();
    handler_db.max_connections = worker_config
        .handler_connections(config.database.max_connections)
        .context("configuration")?;
    let pool = common::db::pool(&handler_db)?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut term = signal(SignalKind::terminate())?;
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: draining"),
            _ = tokio::signal::ctrl_c() => tracing::info!("interrupt: draining"),
        }
        let _ = stop_tx.send(true);
    });
    tracing::info!(pid = std::process::id(), "repopal-worker started");
    repopal_worker::run(pool, worker_config, &config, stop_rx).await?;
    tracing::info!("repopal-worker stopped");
    Ok(())
}
