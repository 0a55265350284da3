//! Enqueueing on the caller's connection or transaction: a rolled-back write leaves no job.

use apalis::prelude::{TaskBuilder, TaskId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{Connection, PgConnection};

use super::{Job, trace};
use crate::Error;

/// The id of an enqueued job (a ULID, as stored in `apalis.jobs.id`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[serde(transparent)]
#[sqlx(transparent)]
pub struct JobId(pub String);

impl JobId {
    fn generate() -> Self {
        Self(ulid::Ulid::generate().to_string())
    }
}

impl std::fmt::Display for JobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Options for one push.
#[derive(Debug, Clone, Default)]
pub struct Enqueue {
    /// Run no earlier than this (second precision); `None` runs now.
    pub run_at: Option<DateTime<Utc>>,
    /// At most one job per queue ever holds this key (until the row is pruned).
    pub idempotency_key: Option<String>,
}

/// Pushes one job to run now.
pub async fn push<J: Job>(conn: &mut PgConnection, job: &J) -> Result<JobId, Error> {
    let id = JobId::generate();
    let request_id = trace::current_request_id();
    let task = task::<J>(job, &id, &Enqueue::default(), request_id.as_deref())?;
    apalis_postgres::queries::push_tasks(conn, J::QUEUE.name, vec![task]).await?;
    Ok(id)
}

/// Pushes many jobs of one type in a single statement.
pub async fn push_many<J: Job>(conn: &mut PgConnection, jobs: &[J]) -> Result<Vec<JobId>, Error> {
    let request_id = trace::current_request_id();
    let traced: Vec<(&J, Option<&str>)> = jobs.iter().map(|j| (j, request_id.as_deref())).collect();
    push_many_traced(conn, &traced).await
}

/// Pushes many jobs of one type in a single statement, each with the request id it belongs to
/// (for work batched across requests, e.g. webhook group commit).
pub async fn push_many_traced<J: Job>(
    conn: &mut PgConnection,
    jobs: &[(&J, Option<&str>)],
) -> Result<Vec<JobId>, Error> {
    let ids: Vec<JobId> = jobs.iter().map(|_| JobId::generate()).collect();
    let tasks = jobs
        .iter()
        .zip(&ids)
        .map(|((job, request_id), id)| task::<J>(job, id, &Enqueue::default(), *request_id))
        .collect::<Result<Vec<_>, _>>()?;
    apalis_postgres::queries::push_tasks(conn, J::QUEUE.name, tasks).await?;
    Ok(ids)
}

/// Pushes one job with options. Returns `None`, and leaves the caller's transaction usable, when
/// another job already holds the idempotency key.
pub async fn push_with<J: Job>(
    conn: &mut PgConnection,
    job: &J,
    opts: Enqueue,
) -> Result<Option<JobId>, Error> {
    let id = JobId::generate();
    let request_id = trace::current_request_id();
    let task = task::<J>(job, &id, &opts, request_id.as_deref())?;
    // A savepoint (or a transaction, on a bare connection) so a duplicate key aborts only this push.
    let mut sp = conn.begin().await?;
    match apalis_postgres::queries::push_tasks(&mut *sp, J::QUEUE.name, vec![task])
        .await
        .map_err(Error::from)
    {
        Ok(()) => {
            sp.commit().await?;
            Ok(Some(id))
        }
        Err(e) if e.is_unique_violation() && opts.idempotency_key.is_some() => {
            sp.rollback().await?;
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

fn task<J: Job>(
    job: &J,
    id: &JobId,
    opts: &Enqueue,
    request_id: Option<&str>,
) -> Result<apalis_postgres::PgTask, Error> {
    let mut payload = serde_json::to_value(job)?;
    trace::attach(&mut payload, request_id);
    let mut builder = TaskBuilder::new(serde_json::to_vec(&payload)?)
        .task_id(TaskId::from_string(id.0.clone()))
        .max_attempts(J::QUEUE.max_attempts as usize);
    if let Some(at) = opts.run_at {
        builder = builder.run_at_timestamp(u64::try_from(at.timestamp()).unwrap_or(0));
    }
    if let Some(key) = &opts.idempotency_key {
        builder = builder.idempotency_key(key);
    }
    Ok(builder.build())
}
