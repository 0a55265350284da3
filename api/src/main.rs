//! `repopal-api`: `serve` the HTTP API, `migrate` the database, print the `openapi` document,
//! list `dead-jobs`, or grant `super-admin`.

use anyhow::Context;
use clap::{Parser, Subcommand};
use common::config::{ApiConfig, Config};
use tokio::signal::unix::{SignalKind, signal};

#[derive(Parser)]
#[command(name = "repopal-api", version, about = "RepoPal REST API")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API on PORT (default 8080).
    Serve,
    /// Apply all database migrations (job queue schema, then RepoPal's), then exit.
    Migrate,
    /// Print the OpenAPI document as JSON.
    Openapi,
    /// List jobs that will not run again (permanently failed or out of attempts), as JSON.
    DeadJobs {
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Encryption keys: `keys rotate` re-seals every stored secret with the active key.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Grant (or with --revoke, withdraw) the platform super-admin flag of an account.
    SuperAdmin {
        #[arg(long)]
        email: String,
        #[arg(long)]
        revoke: bool,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Re-seal every value not on ENCRYPTION_ACTIVE_KEY_ID (batched, resumable); prints counts as
    /// JSON and fails when a value could not be opened or is left on an old key.
    Rotate {
        #[arg(long, default_value_t = 500)]
        batch: i64,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Command::Openapi = cli.command {
        println!("{}", serde_json::to_string_pretty(&repopal_api::openapi())?);
        return Ok(());
    }
    let config = Config::from_env().context("configuration")?;
    common::telemetry::init(config.log.format);
    match cli.command {
        Command::Serve => {
            let api = ApiConfig::from_env().context("configuration")?;
            let pool = common::db::pool_with(&config.database, api.db_acquire_timeout)?;
            let port = api.port;
            let state = repopal_api::state(pool, config, api)?;
            repopal_api::serve(state, port, shutdown_signal()).await?;
        }
        Command::Migrate => {
            let pool = common::db::connect(&config.database).await?;
            common::db::migrate(&pool).await?;
            tracing::info!("migrations applied");
        }
        Command::DeadJobs { limit } => {
            let pool = common::db::connect(&config.database).await?;
            let dead = common::repo::jobs::dead(&pool, limit).await?;
            println!("{}", serde_json::to_string_pretty(&dead)?);
        }
        Command::Keys {
            command: KeysCommand::Rotate { batch },
        } => {
            let pool = common::db::connect(&config.database).await?;
            let report =
                common::crypto::rotation::rotate(&pool, &config.keyring, batch.max(1)).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            if !report.complete() {
                anyhow::bail!(
                    "rotation incomplete: some values could not be re-sealed (see above)"
                );
            }
        }
        Command::SuperAdmin { email, revoke } => {
            let email =
                common::domain::Email::parse(&email).map_err(|e| anyhow::anyhow!("--email {e}"))?;
            let pool = common::db::connect(&config.database).await?;
            if !common::identity::set_super_admin_from_cli(&pool, &email, !revoke).await? {
                anyhow::bail!("no account with email {email}");
            }
            println!(
                "{email}: super admin {}",
                if revoke { "revoked" } else { "granted" }
            );
        }
        Command::Openapi => {}
    }
    Ok(())
}

async fn shutdown_signal() {
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
