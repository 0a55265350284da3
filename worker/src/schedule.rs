//! The periodic scheduler. Every worker process runs it; each tick is enqueued once in total
//! because the tick's timestamp is the job's idempotency key (the first process to push wins).

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use common::jobs::{
    self, CheckDueIntegrations, CheckRepositoryHooks, Enqueue, Job, JobId, PruneHistory, PruneJobs,
    RedeliverWebhooks, RefreshDueTokens, SyncDueIntegrations,
};
use sqlx::PgPool;
use tokio::sync::watch;

/// The start of the tick period containing `now`.
pub fn tick_of(now: DateTime<Utc>, period: Duration) -> DateTime<Utc> {
    let period = i64::try_from(period.as_secs().max(1)).unwrap_or(i64::MAX);
    let ts = now.timestamp().div_euclid(period) * period;
    Utc.timestamp_opt(ts, 0).single().unwrap_or(now)
}

/// Enqueues the periodic jobs of the tick starting at `tick`. Returns the jobs this call created;
/// an empty list means another process already enqueued this tick.
pub async fn enqueue_tick(pool: &PgPool, tick: DateTime<Utc>) -> Result<Vec<JobId>, common::Error> {
    let mut conn = pool.acquire().await?;
    let mut created = Vec::new();
    created.extend(push_tick(&mut conn, &PruneJobs {}, tick).await?);
    created.extend(push_tick(&mut conn, &PruneHistory {}, tick).await?);
    created.extend(push_tick(&mut conn, &RefreshDueTokens {}, tick).await?);
    created.extend(push_tick(&mut conn, &CheckDueIntegrations {}, tick).await?);
    created.extend(push_tick(&mut conn, &CheckRepositoryHooks {}, tick).await?);
    created.extend(push_tick(&mut conn, &RedeliverWebhooks {}, tick).await?);
    created.extend(push_tick(&mut conn, &SyncDueIntegrations {}, tick).await?);
    Ok(created)
}

/// Pushes one periodic job for `tick`, keyed so all processes together push it only once.
async fn push_tick<J: Job>(
    conn: &mut sqlx::PgConnection,
    job: &J,
    tick: DateTime<Utc>,
) -> Result<Option<JobId>, common::Error> {
    let key = format!("tick:{}:{}", J::QUEUE.name, tick.timestamp());
    jobs::push_with(
        conn,
        job,
        Enqueue {
            idempotency_key: Some(key),
            ..Enqueue::default()
        },
    )
    .await
}

/// Runs ticks until `shutdown` flips: one at start-up, then one per `period`, on period boundaries.
pub async fn run(pool: PgPool, period: Duration, mut shutdown: watch::Receiver<bool>) {
    loop {
        let tick = tick_of(Utc::now(), period);
        match enqueue_tick(&pool, tick).await {
            Ok(created) if !created.is_empty() => {
                tracing::info!(%tick, jobs = created.len(), "scheduler tick enqueued")
            }
            Ok(_) => tracing::debug!(%tick, "scheduler tick already enqueued by another process"),
            Err(e) => {
                tracing::warn!(error = %e, %tick, "scheduler tick failed; will retry next tick")
            }
        }
        let next =
            tick + chrono::Duration::from_std(period).unwrap_or(chrono::Duration::seconds(60));
        let wait = (next - Utc::now())
            .to_std()
            .unwrap_or(Duration::from_millis(100));
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_align_to_period_boundaries() {
        let t = Utc.timestamp_opt(125, 0).single().unwrap();
        assert_eq!(tick_of(t, Duration::from_secs(60)).timestamp(), 120);
        assert_eq!(tick_of(t, Duration::from_secs(1)).timestamp(), 125);
    }
}
