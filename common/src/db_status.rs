//! Why the database cannot be used, named: classifies connection failures (refused, too many
//! clients, shutting down), diagnoses a pool timeout with one direct connection, and watches the
//! database so a process logs ONE line when Postgres starts refusing it and one when it is back.

use std::time::{Duration, Instant};

use serde::Serialize;
use sqlx::{Connection, PgPool, postgres::PgConnection};
use tokio::sync::watch;

/// SQLSTATEs that mean "the server cannot serve this session now", not "the query is wrong".
const UNAVAILABLE_STATES: &[&str] = &[
    "53300", // too_many_connections
    "57P01", // admin_shutdown (session terminated)
    "57P02", // crash_shutdown
    "57P03", // cannot_connect_now (starting up or shutting down)
    "57P05", // idle_session_timeout
];

/// True when `e` means the database is unreachable or dropped the session (see
/// [`crate::Error::is_database_unavailable`]).
pub fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("08") || UNAVAILABLE_STATES.contains(&c.as_ref())),
        _ => false,
    }
}

/// Why the database could not be used, in words an operator can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cause {
    /// Stable: `too_many_connections`, `connection_refused`, `starting_up`, `shutting_down`,
    /// `unreachable`, `timeout`, `pool_exhausted` or `refused`.
    pub code: &'static str,
    /// The server's SQLSTATE, when it answered with one.
    pub sqlstate: Option<String>,
}

impl Cause {
    fn new(code: &'static str, sqlstate: Option<&str>) -> Self {
        Self {
            code,
            sqlstate: sqlstate.map(str::to_owned),
        }
    }

    /// The pool's own wait ran out while the server accepts connections: every connection of
    /// this process is busy, the database is fine.
    pub fn is_pool_exhausted(&self) -> bool {
        self.code == "pool_exhausted"
    }
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let words = match self.code {
            "too_many_connections" => "too many connections",
            "connection_refused" => "connection refused (is Postgres running?)",
            "starting_up" => "the database system is starting up",
            "shutting_down" => "the database system is shutting down",
            "unreachable" => "the server cannot be reached",
            "timeout" => "no answer in time",
            "pool_exhausted" => "every pooled connection is busy",
            _ => "the server refused the connection",
        };
        f.write_str(words)?;
        if let Some(state) = &self.sqlstate {
            write!(f, " (SQLSTATE {state})")?;
        }
        Ok(())
    }
}

/// Names the cause of a failed connection attempt. Never includes the server's message text,
/// which may echo the user name or database.
pub fn classify(e: &sqlx::Error) -> Cause {
    match e {
        sqlx::Error::Database(db) => {
            let code = db.code();
            let state = code.as_deref();
            let name = match state {
                Some("53300") => "too_many_connections",
                Some("57P03") => "starting_up",
                Some("57P01" | "57P02") => "shutting_down",
                _ => "refused",
            };
            Cause::new(name, state)
        }
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            Cause::new("connection_refused", None)
        }
        sqlx::Error::PoolTimedOut => Cause::new("timeout", None),
        _ => Cause::new("unreachable", None),
    }
}

/// Opens one connection outside the pool (with the pool's settings) to learn why the pool
/// cannot connect. `None` when the server accepts it.
pub async fn diagnose(pool: &PgPool, within: Duration) -> Option<Cause> {
    let options = pool.connect_options();
    match tokio::time::timeout(within, PgConnection::connect_with(&options)).await {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            None
        }
        Ok(Err(e)) => Some(classify(&e)),
        Err(_) => Some(Cause::new("timeout", None)),
    }
}

/// Whether the database answers through `pool` within `within`; when it does not, why.
pub async fn check(pool: &PgPool, within: Duration) -> Result<(), Cause> {
    let ping = tokio::time::timeout(within, sqlx::query("SELECT 1").execute(pool)).await;
    match ping {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) if !is_unavailable(&e) => Err(classify(&e)),
        _ => Err(diagnose(pool, within)
            .await
            .unwrap_or_else(|| Cause::new("pool_exhausted", None))),
    }
}

/// Checks the database every few seconds until `shutdown`, and says so ONCE when `process`
/// (e.g. `repopal-worker`) cannot use it, naming the cause (e.g. `too many connections (SQLSTATE
/// 53300)`), and once when it can again. While it is down the checks back off from 250 ms to
/// 10 s; the pool and the queue workers keep retrying on their own meanwhile.
pub async fn watch(pool: PgPool, process: &'static str, mut shutdown: watch::Receiver<bool>) {
    const HEALTHY_EVERY: Duration = Duration::from_secs(5);
    const CHECK_WITHIN: Duration = Duration::from_secs(3);
    let mut down: Option<(Cause, Instant)> = None;
    let mut delay = Duration::from_millis(250);
    loop {
        let wait = match check(&pool, CHECK_WITHIN).await {
            Err(cause) if !cause.is_pool_exhausted() => {
                if down.as_ref().map(|(c, _)| c) != Some(&cause) {
                    tracing::error!(
                        process,
                        cause = cause.code,
                        sqlstate = cause.sqlstate.as_deref().unwrap_or(""),
                        "Postgres refuses {process}: {cause}; retrying with backoff"
                    );
                    let since = down.map_or_else(Instant::now, |(_, since)| since);
                    down = Some((cause, since));
                }
                let wait = delay;
                delay = (delay * 2).min(Duration::from_secs(10));
                wait
            }
            _ => {
                if let Some((_, since)) = down.take() {
                    tracing::info!(
                        process,
                        down_secs = since.elapsed().as_secs(),
                        "Postgres accepts {process} again"
                    );
                }
                delay = Duration::from_millis(250);
                HEALTHY_EVERY
            }
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_read_as_words_with_their_sqlstate() {
        let c = Cause::new("too_many_connections", Some("53300"));
        assert_eq!(c.to_string(), "too many connections (SQLSTATE 53300)");
        let io = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert!(is_unavailable(&io));
        assert_eq!(classify(&io).code, "connection_refused");
        assert!(is_unavailable(&sqlx::Error::PoolTimedOut));
        assert!(!is_unavailable(&sqlx::Error::RowNotFound));
    }
}
