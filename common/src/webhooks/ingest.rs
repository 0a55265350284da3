//! Group commit for webhook ingest: request handlers hand their delivery to a writer task, which
//! stores every delivery waiting at that moment and pushes their processing jobs in ONE transaction,
//! then answers each handler. Under load one commit (one WAL flush) covers many deliveries; when idle
//! a delivery is written alone at once. A delivery is answered 2xx only after its commit.

use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};

use crate::{
    Error,
    domain::DeliveryId,
    jobs::{self, JobId, ProcessWebhook},
    repo::webhook_deliveries::{self, NewDelivery},
};

/// The outcome for one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ingested {
    /// Stored, and its processing job enqueued.
    Stored { id: DeliveryId, job_id: JobId },
    /// Already stored earlier (a redelivery): nothing enqueued.
    Duplicate,
}

/// Why a write failed, as the handler needs it: the database was unavailable (503) or not.
#[derive(Debug, Clone)]
enum WriteError {
    Unavailable(String),
    Other(String),
}

impl From<&Error> for WriteError {
    fn from(e: &Error) -> Self {
        if e.is_database_unavailable() {
            Self::Unavailable(e.to_string())
        } else {
            Self::Other(e.to_string())
        }
    }
}

type Reply = oneshot::Sender<Result<Ingested, WriteError>>;
/// A delivery, the request id it arrived with (its jobs carry it), and where to answer.
type Item = (NewDelivery, Option<String>, Reply);

/// Handle to the writer tasks; cheap to clone.
#[derive(Clone)]
pub struct Ingestor {
    tx: mpsc::Sender<Item>,
}

impl Ingestor {
    /// Starts `writers` writer tasks taking up to `max_batch` deliveries per transaction.
    pub fn start(pool: PgPool, writers: usize, max_batch: usize) -> Self {
        let (tx, rx) = mpsc::channel::<Item>(max_batch * writers.max(1) * 4);
        let rx = std::sync::Arc::new(tokio::sync::Mutex::new(rx));
        for _ in 0..writers.max(1) {
            let rx = rx.clone();
            let pool = pool.clone();
            tokio::spawn(async move {
                loop {
                    // Take one delivery (waiting if none), then everything else already queued.
                    let batch = {
                        let mut rx = rx.lock().await;
                        let Some(first) = rx.recv().await else { return };
                        let mut batch = vec![first];
                        while batch.len() < max_batch {
                            match rx.try_recv() {
                                Ok(item) => batch.push(item),
                                Err(_) => break,
                            }
                        }
                        batch
                    };
                    write(&pool, batch).await;
                }
            });
        }
        Self { tx }
    }

    /// Stores one delivery and enqueues its processing, answering once committed.
    pub async fn ingest(&self, delivery: NewDelivery) -> Result<Ingested, Error> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((delivery, jobs::current_request_id(), reply))
            .await
            .map_err(|_| Error::Crypto("webhook writer stopped".into()))?;
        match tokio::time::timeout(Duration::from_secs(30), answer).await {
            Ok(Ok(Ok(outcome))) => Ok(outcome),
            Ok(Ok(Err(WriteError::Unavailable(e)))) => Err(Error::DatabaseUnavailable(e)),
            Ok(Ok(Err(WriteError::Other(e)))) => Err(Error::Upstream {
                provider: crate::domain::Upstream::Database,
                message: e,
            }),
            _ => Err(Error::Upstream {
                provider: crate::domain::Upstream::Database,
                message: "webhook write did not finish".into(),
            }),
        }
    }
}

async fn write(pool: &PgPool, batch: Vec<Item>) {
    let mut deliveries = Vec::with_capacity(batch.len());
    let mut request_ids = Vec::with_capacity(batch.len());
    let mut replies = Vec::with_capacity(batch.len());
    for (delivery, request_id, reply) in batch {
        deliveries.push(delivery);
        request_ids.push(request_id);
        replies.push(reply);
    }
    match store_retrying(pool, &deliveries, &request_ids).await {
        Ok(outcomes) => {
            for (reply, outcome) in replies.into_iter().zip(outcomes) {
                let _ = reply.send(Ok(outcome));
            }
        }
        Err(e) if deliveries.len() > 1 => {
            // One bad delivery (or a lock conflict) must not fail the others: store each alone.
            tracing::warn!(error = %e, deliveries = deliveries.len(), "batch write failed; writing deliveries one by one");
            for ((delivery, request_id), reply) in
                deliveries.into_iter().zip(request_ids).zip(replies)
            {
                let result = store_retrying(
                    pool,
                    std::slice::from_ref(&delivery),
                    std::slice::from_ref(&request_id),
                )
                .await;
                let _ = reply.send(
                    result
                        .map(|mut o| o.remove(0))
                        .map_err(|e| WriteError::from(&e)),
                );
            }
        }
        Err(e) => {
            if e.is_database_unavailable() {
                tracing::warn!(error = %e, "storing a webhook delivery failed: database unavailable");
            } else {
                tracing::error!(error = %e, "storing a webhook delivery failed");
            }
            let e = WriteError::from(&e);
            for reply in replies {
                let _ = reply.send(Err(e.clone()));
            }
        }
    }
}

/// [`store`], tried a second time when the first attempt lost its session (e.g. the backend was
/// terminated mid-transaction): the retry takes a fresh connection, and deliveries the first
/// attempt did commit come back as duplicates, so nothing is stored twice.
async fn store_retrying(
    pool: &PgPool,
    deliveries: &[NewDelivery],
    request_ids: &[Option<String>],
) -> Result<Vec<Ingested>, Error> {
    match store(pool, deliveries, request_ids).await {
        Err(e)
            if e.is_database_unavailable()
                && !matches!(e, Error::Database(sqlx::Error::PoolTimedOut)) =>
        {
            tracing::info!(error = %e, "webhook write lost its database session; retrying once");
            store(pool, deliveries, request_ids).await
        }
        other => other,
    }
}

async fn store(
    pool: &PgPool,
    deliveries: &[NewDelivery],
    request_ids: &[Option<String>],
) -> Result<Vec<Ingested>, Error> {
    let mut tx = pool.begin().await?;
    let ids = webhook_deliveries::insert_batch(&mut tx, deliveries).await?;
    let new: Vec<(ProcessWebhook, Option<&str>)> = ids
        .iter()
        .zip(request_ids)
        .filter_map(|(id, request_id)| {
            id.map(|stored| {
                let job = ProcessWebhook {
                    delivery_id: stored.id,
                    owner: stored.org,
                };
                (job, request_id.as_deref())
            })
        })
        .collect();
    let job_ids = if new.is_empty() {
        Vec::new()
    } else {
        let traced: Vec<(&ProcessWebhook, Option<&str>)> = new
            .iter()
            .map(|(job, request_id)| (job, *request_id))
            .collect();
        jobs::push_many_traced(&mut tx, &traced).await?
    };
    tx.commit().await?;
    let mut job_ids = job_ids.into_iter();
    Ok(ids
        .into_iter()
        .map(|id| match id {
            Some(stored) => Ingested::Stored {
                id: stored.id,
                job_id: job_ids.next().unwrap_or_else(|| JobId(String::new())),
            },
            None => Ingested::Duplicate,
        })
        .collect())
}
