//! One `LISTEN` connection per worker process, shared by every queue: job-insert notifications are
//! routed to the queue they name, and every queue is woken after a reconnect (notifications sent
//! while the listener was down are lost, so each queue fetches once to catch up).

use std::{collections::HashMap, sync::Arc, time::Duration};

use serde::Deserialize;
use sqlx::{
    PgPool,
    postgres::{PgConnectOptions, PgListener, PgPoolOptions},
};
use tokio::sync::watch;

/// The channel apalis-postgres's insert trigger notifies on.
const CHANNEL: &str = "apalis::job::insert";

/// The part of the trigger's payload the router reads.
#[derive(Deserialize)]
struct InsertEvent {
    job_type: String,
}

/// Wake-ups per queue, fed by one listening connection.
#[derive(Clone)]
pub struct SharedListener {
    /// Per queue, a counter of notifications: every claim stream of the queue watches it.
    queues: Arc<HashMap<&'static str, watch::Sender<u64>>>,
}

impl SharedListener {
    /// Starts the listening task for `queues`. It holds exactly one connection of its own (a
    /// one-connection pool from `options`), reconnects with backoff, and stops at shutdown.
    pub fn start(
        options: PgConnectOptions,
        queues: &[&'static str],
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        let queues: HashMap<&'static str, watch::Sender<u64>> =
            queues.iter().map(|q| (*q, watch::Sender::new(0))).collect();
        let this = Self {
            queues: Arc::new(queues),
        };
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .min_connections(0)
            .acquire_timeout(Duration::from_secs(5))
            .connect_lazy_with(options);
        tokio::spawn(this.clone().run(pool, shutdown));
        this
    }

    /// The wake-up counter of one queue, for one claim stream: it changes whenever a job is inserted
    /// into the queue (changes that arrive while the stream is busy merge into one, which is all a
    /// claimer needs). `None` for a queue that never wakes (polling still runs).
    pub fn subscribe(&self, queue: &str) -> Option<watch::Receiver<u64>> {
        self.queues.get(queue).map(watch::Sender::subscribe)
    }

    fn wake(sender: &watch::Sender<u64>) {
        sender.send_modify(|n| *n = n.wrapping_add(1));
    }

    fn wake_all(&self) {
        for sender in self.queues.values() {
            Self::wake(sender);
        }
    }

    fn route(&self, payload: &str) {
        match serde_json::from_str::<InsertEvent>(payload) {
            Ok(ev) => {
                if let Some(sender) = self.queues.get(ev.job_type.as_str()) {
                    Self::wake(sender);
                }
            }
            Err(e) => tracing::debug!(error = %e, "ignoring an unreadable job notification"),
        }
    }

    async fn run(self, pool: PgPool, mut shutdown: watch::Receiver<bool>) {
        let mut delay = Duration::from_millis(250);
        loop {
            if *shutdown.borrow() {
                return;
            }
            let listener = async {
                let mut l = PgListener::connect_with(&pool).await?;
                l.listen(CHANNEL).await?;
                Ok::<_, sqlx::Error>(l)
            };
            let mut listener = tokio::select! {
                r = listener => r,
                _ = shutdown.wait_for(|s| *s) => return,
            };
            match listener.as_mut() {
                Ok(l) => {
                    delay = Duration::from_millis(250);
                    tracing::debug!(
                        queues = self.queues.len(),
                        "listening for new jobs on one shared connection"
                    );
                    // Anything inserted while we were not listening is fetched now.
                    self.wake_all();
                    loop {
                        let next = tokio::select! {
                            n = l.try_recv() => n,
                            _ = shutdown.wait_for(|s| *s) => return,
                        };
                        match next {
                            Ok(Some(n)) => self.route(n.payload()),
                            // The connection was lost; `try_recv` reconnects on the next call.
                            Ok(None) => {
                                tracing::warn!("job listener lost its connection; reconnecting");
                                self.wake_all();
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "job listener failed; reconnecting");
                                break;
                            }
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in_ms = delay.as_millis(), "job listener cannot connect; queues fall back to polling");
                }
            }
            drop(listener);
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                _ = shutdown.wait_for(|s| *s) => return,
            }
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    }
}
