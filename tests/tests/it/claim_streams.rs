//! Several claim streams of one queue in one process (`JOB_FETCHERS_<QUEUE>`): each registers as
//! its own worker, together they never exceed the queue's concurrency, and every job runs once.

use std::time::Duration;

use common::jobs::{self, Job, Probe, ProbeBehaviour};
use repopal_tests::{
    TestDb,
    worker::{InProcessWorker, drain, test_worker_config},
};

#[tokio::test]
async fn three_claim_streams_run_every_job_exactly_once() {
    let db = TestDb::new().await;
    let worker = InProcessWorker::start(
        db.pool.clone(),
        test_worker_config(&[("JOB_FETCHERS_PROBE", "3"), ("JOB_CONCURRENCY_PROBE", "3")]),
    );
    let mut conn = db.pool.acquire().await.expect("conn");
    let batch: Vec<Probe> = (0..30)
        .map(|i| Probe {
            key: format!("stream-{i}"),
            sleep_ms: 30,
            behaviour: ProbeBehaviour::Succeed,
        })
        .collect();
    jobs::push_many(&mut conn, &batch).await.expect("push");
    drop(conn);
    drain(&db.pool, &[Probe::QUEUE.name], Duration::from_secs(60)).await;

    let streams: Vec<String> =
        sqlx::query_scalar("SELECT id FROM apalis.workers WHERE worker_type = $1 ORDER BY id")
            .bind(Probe::QUEUE.name)
            .fetch_all(&db.pool)
            .await
            .expect("workers");
    assert_eq!(streams.len(), 3, "{streams:?}");
    // Jobs were spread: more than one stream took some.
    let holders: i64 =
        sqlx::query_scalar("SELECT count(DISTINCT lock_by) FROM apalis.jobs WHERE job_type = $1")
            .bind(Probe::QUEUE.name)
            .fetch_one(&db.pool)
            .await
            .expect("holders");
    assert!(holders >= 2, "one stream took every job");
    let runs: Vec<(i32, i32)> = sqlx::query_as("SELECT starts, completions FROM probe_runs")
        .fetch_all(&db.pool)
        .await
        .expect("runs");
    assert_eq!(runs.len(), 30);
    assert!(runs.iter().all(|r| *r == (1, 1)), "{runs:?}");
    worker.stop().await;
}
