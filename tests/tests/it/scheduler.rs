//! The periodic scheduler: many processes, one job per tick.

use std::time::Duration;

use chrono::Utc;
use common::{
    domain::{JobOutcome, JobStatus},
    jobs::{Job, PruneJobs},
    repo,
};
use repopal_tests::{TestDb, worker::eventually};
use tokio::sync::watch;

#[tokio::test]
async fn concurrent_schedulers_enqueue_each_tick_once() {
    let db = TestDb::new().await;
    let tick = repopal_worker::schedule::tick_of(Utc::now(), Duration::from_secs(60));
    let results = futures_join(&db, tick).await;
    let created: usize = results.iter().map(Vec::len).sum();
    assert_eq!(
        created, 7,
        "the tick's seven periodic jobs (job and history pruning, token refresh, health check and sync fan-outs, repository hook checks, redelivery sweep), each enqueued once"
    );
    assert_eq!(
        repo::jobs::list_queue(&db.pool, PruneJobs::QUEUE.name)
            .await
            .unwrap()
            .len(),
        1
    );
    for queue in [
        "prune_history",
        "refresh_due_tokens",
        "check_due_integrations",
        "check_repository_hooks",
        "redeliver_webhooks",
        "sync_due_integrations",
    ] {
        assert_eq!(
            repo::jobs::list_queue(&db.pool, queue).await.unwrap().len(),
            1,
            "{queue}"
        );
    }
}

async fn futures_join(db: &TestDb, tick: chrono::DateTime<Utc>) -> Vec<Vec<common::jobs::JobId>> {
    let tasks: Vec<_> = (0..3)
        .map(|_| {
            let pool = db.pool.clone();
            tokio::spawn(async move {
                repopal_worker::schedule::enqueue_tick(&pool, tick)
                    .await
                    .expect("the tick is enqueued")
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("the enqueue task does not panic"));
    }
    out
}

#[tokio::test]
async fn three_running_schedulers_produce_one_job_per_tick() {
    let db = TestDb::new().await;
    let (stop, rx) = watch::channel(false);
    let schedulers: Vec<_> = (0..3)
        .map(|_| {
            tokio::spawn(repopal_worker::schedule::run(
                db.pool.clone(),
                Duration::from_secs(1),
                rx.clone(),
            ))
        })
        .collect();
    // Wait for at least three ticks to have been enqueued.
    eventually("three ticks", Duration::from_secs(15), || async {
        let n = repo::jobs::list_queue(&db.pool, PruneJobs::QUEUE.name)
            .await
            .unwrap()
            .len();
        (n >= 3).then_some(())
    })
    .await;
    let _ = stop.send(true);
    for s in schedulers {
        s.await.unwrap();
    }
    let keys: Vec<(String, i64)> = sqlx::query_as(
        "SELECT idempotency_key, count(*) FROM apalis.jobs WHERE job_type = $1 GROUP BY 1 ORDER BY 1",
    )
    .bind(PruneJobs::QUEUE.name)
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert!(keys.len() >= 3, "{keys:?}");
    assert!(
        keys.iter().all(|(_, n)| *n == 1),
        "one job per tick: {keys:?}"
    );
    // Ticks are consecutive seconds: no tick was skipped between the first and the last.
    let ts: Vec<i64> = keys
        .iter()
        .map(|(k, _)| k.rsplit(':').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(
        ts.last().unwrap() - ts.first().unwrap() + 1,
        ts.len() as i64,
        "{ts:?}"
    );
}

#[tokio::test]
async fn the_prune_job_runs_from_the_schedule() {
    let db = TestDb::new().await;
    let worker = repopal_tests::worker::InProcessWorker::start(
        db.pool.clone(),
        repopal_tests::worker::test_worker_config(&[]),
    );
    let row = eventually(
        "the scheduled prune job to succeed",
        Duration::from_secs(20),
        || async {
            repo::jobs::list_queue(&db.pool, PruneJobs::QUEUE.name)
                .await
                .unwrap()
                .into_iter()
                .find(|j| j.status == JobStatus::Done)
        },
    )
    .await;
    worker.stop().await;
    assert_eq!(row.outcome, JobOutcome::Succeeded);
}
