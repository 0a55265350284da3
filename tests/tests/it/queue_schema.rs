//! The job table's shape on the claim/ack path: one insert notification per statement and queue
//! (not per job), also from a transaction older than its jobs' due time, none for delayed jobs, no two identical indexes, and keyless jobs outside the
//! idempotency index while keyed ones still conflict.

use std::collections::BTreeMap;

use chrono::Utc;
use common::jobs::{self, Enqueue, Noop, Probe, ProbeBehaviour};
use repopal_tests::TestDb;
use sqlx::postgres::PgListener;

const CHANNEL: &str = "apalis::job::insert";

fn probe(key: &str) -> Probe {
    Probe {
        key: key.to_owned(),
        sleep_ms: 0,
        behaviour: ProbeBehaviour::Succeed,
    }
}

/// Sends a marker on the channel and returns every `job_type` received before it, counted:
/// notifications arrive in commit order, so the marker comes after all earlier commits' ones.
async fn received_before_marker(db: &TestDb, listener: &mut PgListener) -> BTreeMap<String, u32> {
    sqlx::query("SELECT pg_notify($1, '{\"job_type\": \"marker\"}')")
        .bind(CHANNEL)
        .execute(&db.pool)
        .await
        .expect("marker");
    let mut seen = BTreeMap::new();
    loop {
        let n = listener.recv().await.expect("notification");
        let v: serde_json::Value = serde_json::from_str(n.payload()).expect("JSON payload");
        let queue = v["job_type"].as_str().expect("job_type").to_owned();
        if queue == "marker" {
            return seen;
        }
        *seen.entry(queue).or_default() += 1;
    }
}

#[tokio::test]
async fn a_bulk_push_notifies_once_per_queue_and_a_delayed_job_not_at_all() {
    let db = TestDb::new().await;
    let mut listener = PgListener::connect_with(&db.pool).await.expect("listener");
    listener.listen(CHANNEL).await.expect("listen");

    // 500 no-op jobs in one statement and three probes in another, in one transaction that began
    // in an earlier second than its jobs were stamped with (a job pushed without a time is due
    // from the second it was built in): the jobs are due when the rows go in, so they still wake.
    let mut tx = db.pool.begin().await.expect("begin");
    sqlx::query("SELECT pg_sleep(1.1)")
        .execute(&mut *tx)
        .await
        .expect("sleep");
    let noops: Vec<Noop> = (0..500).map(|_| Noop { enqueued_at_us: 0 }).collect();
    jobs::push_many(&mut tx, &noops).await.expect("push noops");
    let probes: Vec<Probe> = (0..3).map(|i| probe(&format!("bulk-{i}"))).collect();
    jobs::push_many(&mut tx, &probes)
        .await
        .expect("push probes");
    tx.commit().await.expect("commit");
    let seen = received_before_marker(&db, &mut listener).await;
    assert_eq!(
        seen,
        BTreeMap::from([("noop".to_owned(), 1), ("probe".to_owned(), 1)]),
        "one notification per queue, not per job"
    );

    // A job due in an hour is found by polling when due; it wakes nobody now.
    let mut conn = db.pool.acquire().await.expect("conn");
    let later = Enqueue {
        run_at: Some(Utc::now() + chrono::Duration::hours(1)),
        idempotency_key: None,
    };
    jobs::push_with(&mut conn, &probe("later"), later)
        .await
        .expect("push delayed")
        .expect("pushed");
    // A single job due now still wakes its queue.
    jobs::push(&mut conn, &probe("now"))
        .await
        .expect("push one");
    let seen = received_before_marker(&db, &mut listener).await;
    assert_eq!(seen, BTreeMap::from([("probe".to_owned(), 1)]));
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM apalis.jobs")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(stored, 505);
}

#[tokio::test]
async fn job_indexes_are_distinct_and_only_keyed_jobs_are_in_the_idempotency_index() {
    let db = TestDb::new().await;
    let defs: Vec<(String, String)> = sqlx::query_as(
        "SELECT indexname::text, regexp_replace(indexdef, 'INDEX \\S+ ON', 'INDEX ON')
         FROM pg_indexes WHERE schemaname = 'apalis' AND tablename = 'jobs'",
    )
    .fetch_all(&db.pool)
    .await
    .expect("indexes");
    let mut shapes: Vec<&str> = defs.iter().map(|(_, d)| d.as_str()).collect();
    shapes.sort_unstable();
    let before = shapes.len();
    shapes.dedup();
    assert_eq!(
        shapes.len(),
        before,
        "two indexes of apalis.jobs are the same: {defs:?}"
    );

    // Keyless jobs are not entries of the idempotency index; a second job with a used key is
    // still refused (and the push says so without failing the connection).
    let mut conn = db.pool.acquire().await.expect("conn");
    jobs::push_many(&mut conn, &[probe("a"), probe("b")])
        .await
        .expect("push");
    let keyed = || Enqueue {
        run_at: None,
        idempotency_key: Some("only-once".to_owned()),
    };
    let first = jobs::push_with(&mut conn, &probe("k1"), keyed())
        .await
        .expect("push keyed");
    let second = jobs::push_with(&mut conn, &probe("k2"), keyed())
        .await
        .expect("push again");
    assert!(first.is_some());
    assert_eq!(second, None, "the key is taken");
    // The index covers keyed rows only.
    let predicate: Option<String> = sqlx::query_scalar(
        "SELECT pg_get_expr(indpred, indrelid) FROM pg_index
         WHERE indexrelid = 'apalis.idx_jobs_idempotency_key'::regclass",
    )
    .fetch_one(&mut *conn)
    .await
    .expect("predicate");
    assert_eq!(predicate.as_deref(), Some("(idempotency_key IS NOT NULL)"));
    let ours: i64 = sqlx::query_scalar("SELECT count(*) FROM apalis.jobs WHERE job_type = 'probe'")
        .fetch_one(&mut *conn)
        .await
        .expect("count");
    assert_eq!(ours, 3);
}
