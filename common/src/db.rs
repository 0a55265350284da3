//! Database pool and migrations: the queue library's schema first, then RepoPal's own.

use std::time::Duration;

use secrecy::ExposeSecret;
use sqlx::{
    PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};

use crate::{Error, config::DatabaseConfig};

/// Opens a pool lazily: the first query connects, so a process can start while Postgres is down.
pub fn pool(cfg: &DatabaseConfig) -> Result<PgPool, Error> {
    pool_with(cfg, Duration::from_secs(5))
}

/// Like [`pool`], waiting at most `acquire_timeout` for a connection (the API waits about 1 s,
/// so a request during an outage is answered 503 quickly instead of after the default 5 s).
pub fn pool_with(cfg: &DatabaseConfig, acquire_timeout: Duration) -> Result<PgPool, Error> {
    let options: PgConnectOptions = cfg.url.expose_secret().parse()?;
    Ok(PgPoolOptions::new()
        .max_connections(cfg.max_connections)
        .acquire_timeout(acquire_timeout)
        .connect_lazy_with(options.application_name(&application_name())))
}

/// The name this process's connections carry in `pg_stat_activity`: `repopal-<binary>:<pid>`, so
/// an operator (and `make bench`) can count the connections each process holds.
pub fn application_name() -> String {
    let exe = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let role = exe.strip_prefix("repopal-").unwrap_or(&exe);
    let role: String = role
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(24)
        .collect();
    format!("repopal-{role}:{}", std::process::id())
}

/// Connects and checks the connection, retrying for a while: used at boot.
pub async fn connect(cfg: &DatabaseConfig) -> Result<PgPool, Error> {
    let pool = pool(cfg)?;
    let mut delay = Duration::from_millis(200);
    let mut tries = 0;
    loop {
        match sqlx::query("SELECT 1").execute(&pool).await {
            Ok(_) => return Ok(pool),
            Err(e) if tries < 10 => {
                tracing::warn!(error = %e, "database not reachable yet; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(3));
                tries += 1;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Applies the job-queue schema (`apalis.*`) and RepoPal's forward-only migrations.
pub async fn migrate(pool: &PgPool) -> Result<(), Error> {
    apalis_postgres::PostgresStorage::<()>::setup(pool).await?;
    sqlx::migrate!("../migrations").run(pool).await?;
    Ok(())
}

/// True when the database answers a trivial query.
pub async fn ping(pool: &PgPool) -> bool {
    sqlx::query("SELECT 1").execute(pool).await.is_ok()
}
