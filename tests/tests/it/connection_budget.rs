//! Connection budget of a real worker process: one shared `LISTEN` for all its queues, and never
//! more than `DATABASE_MAX_CONNECTIONS` + 1 connections while it works through several queues.

use std::time::Duration;

use common::jobs::{self, ALL_QUEUES, Job, Noop, Probe, ProbeBehaviour};
use repopal_tests::{TestDb, process::spawn, worker::drain};

/// Connections of one process (by the `repopal-worker:<pid>` application name), and how many of
/// them are listening.
async fn held(db: &TestDb, pid: i32) -> (i64, i64) {
    sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE query ILIKE 'LISTEN%')
         FROM pg_stat_activity WHERE application_name = $1",
    )
    .bind(format!("repopal-worker:{pid}"))
    .fetch_one(&db.pool)
    .await
    .expect("pg_stat_activity")
}

#[tokio::test]
async fn a_worker_holds_one_listen_for_all_queues_and_stays_within_its_budget() {
    let db = TestDb::new().await;
    let worker = spawn(
        "repopal-worker",
        &[],
        &[
            ("DATABASE_URL", &db.url),
            ("ENCRYPTION_KEYS", repopal_tests::http::TEST_ENCRYPTION_KEYS),
            ("DATABASE_MAX_CONNECTIONS", "4"),
            ("WORKER_QUEUE_CONNECTIONS", "2"),
            ("WORKER_CONCURRENCY", "8"),
            // Only a notification can wake an idle queue within the drain's limit.
            ("WORKER_POLL_INTERVAL_MS", "60000"),
            ("SCHEDULER_TICK_SECS", "3600"),
        ],
    );
    let pid = worker.pid();

    // Every queue registers: all of them start on the small shared pools.
    repopal_tests::worker::eventually(
        "every queue's worker to register",
        Duration::from_secs(30),
        || async {
            let n: i64 = sqlx::query_scalar(
                "SELECT count(DISTINCT worker_type) FROM apalis.workers WHERE id LIKE '%:' || $1 || ':%'",
            )
            .bind(pid.to_string())
            .fetch_one(&db.pool)
            .await
            .expect("workers");
            (n as usize == ALL_QUEUES.len()).then_some(())
        },
    )
    .await;
    let (_, listening) = held(&db, pid).await;
    assert_eq!(
        listening,
        1,
        "one LISTEN connection for {} queues",
        ALL_QUEUES.len()
    );

    // Jobs pushed into idle queues are woken by the one listener (polling is a minute away), and
    // the process stays within 4 + 1 connections while running them.
    let mut conn = db.pool.acquire().await.expect("conn");
    let noops: Vec<Noop> = (0..300).map(|_| Noop { enqueued_at_us: 0 }).collect();
    jobs::push_many(&mut conn, &noops)
        .await
        .expect("push noops");
    for i in 0..12 {
        jobs::push(
            &mut conn,
            &Probe {
                key: format!("budget-{i}"),
                sleep_ms: 50,
                behaviour: ProbeBehaviour::Succeed,
            },
        )
        .await
        .expect("push probe");
    }
    drop(conn);
    let queues = [Noop::QUEUE.name, Probe::QUEUE.name];
    let sampler = async {
        let mut most = 0;
        loop {
            let (total, listening) = held(&db, pid).await;
            assert!(listening <= 1, "{listening} LISTEN connections");
            most = most.max(total);
            if common::repo::jobs::unfinished(&db.pool, &queues)
                .await
                .expect("count")
                == 0
            {
                return most;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let (most, ()) = tokio::join!(sampler, drain(&db.pool, &queues, Duration::from_secs(30)));
    assert!(most >= 2, "the worker's connections were seen ({most})");
    assert!(
        most <= 5,
        "held {most} connections, budget is DATABASE_MAX_CONNECTIONS 4 + 1 LISTEN"
    );
    let done: i64 = sqlx::query_scalar("SELECT count(*) FROM probe_runs WHERE completions = 1")
        .fetch_one(&db.pool)
        .await
        .expect("probe runs");
    assert_eq!(done, 12);
    drop(worker);
}
