//! A claim stream whose batch is larger than its concurrency (a local prefetch buffer): it claims
//! the batch in one statement, never runs more than its concurrency at once, and at shutdown the
//! jobs it claimed but never started go back to the queue unchanged (no attempt used).

use std::time::Duration;

use common::jobs::{self, Job, Probe, ProbeBehaviour};
use repopal_tests::{
    TestDb,
    worker::{InProcessWorker, eventually, test_worker_config},
};

#[tokio::test]
async fn prefetched_jobs_that_never_started_go_back_unchanged_at_shutdown() {
    let db = TestDb::new().await;
    let worker = InProcessWorker::start(
        db.pool.clone(),
        test_worker_config(&[
            ("JOB_BATCH_SIZE_PROBE", "10"),
            ("JOB_CONCURRENCY_PROBE", "2"),
            ("WORKER_SHUTDOWN_TIMEOUT_SECS", "5"),
            ("WORKER_MISSED_HEARTBEATS", "8"),
        ]),
    );
    let mut conn = db.pool.acquire().await.expect("conn");
    let batch: Vec<Probe> = (0..6)
        .map(|i| Probe {
            key: format!("prefetch-{i}"),
            sleep_ms: 1500,
            behaviour: ProbeBehaviour::Succeed,
        })
        .collect();
    jobs::push_many(&mut conn, &batch).await.expect("push");
    drop(conn);

    // One claim took all six; two run, four wait in the buffer.
    let (held, started) = eventually(
        "the stream to claim every job and start some",
        Duration::from_secs(30),
        || async {
            let held: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM apalis.jobs WHERE job_type = $1 AND status = 'Running'",
            )
            .bind(Probe::QUEUE.name)
            .fetch_one(&db.pool)
            .await
            .ok()?;
            let started: i64 = sqlx::query_scalar("SELECT count(*) FROM probe_runs")
                .fetch_one(&db.pool)
                .await
                .ok()?;
            (held == 6 && started > 0).then_some((held, started))
        },
    )
    .await;
    assert_eq!(held, 6);
    assert!(
        started <= 2,
        "{started} runs at once with a concurrency of 2"
    );
    worker.stop().await;

    let rows: Vec<(String, String, i32, Option<String>)> = sqlx::query_as(
        "SELECT id, status, attempts, lock_by FROM apalis.jobs WHERE job_type = $1 ORDER BY id",
    )
    .bind(Probe::QUEUE.name)
    .fetch_all(&db.pool)
    .await
    .expect("jobs");
    let runs: Vec<(i32, i32)> = sqlx::query_as("SELECT starts, completions FROM probe_runs")
        .fetch_all(&db.pool)
        .await
        .expect("runs");
    assert!(
        runs.iter().all(|r| *r == (1, 1)),
        "every started run finished once: {runs:?}"
    );
    let done = rows.iter().filter(|r| r.1 == "Done").count();
    assert_eq!(done, runs.len(), "{rows:?}");
    assert!(
        done <= 4,
        "shutdown stopped the stream from starting the rest: {rows:?}"
    );
    for (id, status, attempts, lock_by) in &rows {
        match status.as_str() {
            "Done" => assert_eq!(*attempts, 1, "{id}"),
            "Pending" => assert_eq!(
                (*attempts, lock_by.as_deref()),
                (0, None),
                "{id} came back unchanged"
            ),
            other => panic!("{id} left {other}: {rows:?}"),
        }
    }
}
