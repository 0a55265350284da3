//! The database goes away and comes back: workers carry on, `/readyz` reports it.

use std::time::Duration;

use axum::{body::Body, http::Request};
use common::{
    domain::JobStatus,
    jobs::{self, Probe, ProbeBehaviour},
    repo,
};
use repopal_tests::{TempCluster, TestApp, TestDb, http::send, process::spawn, worker::eventually};

async fn push_probe(db: &TestDb, key: &str) -> jobs::JobId {
    let mut conn = db.pool.acquire().await.expect("a pool connection");
    jobs::push(
        &mut conn,
        &Probe {
            key: key.into(),
            sleep_ms: 0,
            behaviour: ProbeBehaviour::Succeed,
        },
    )
    .await
    .expect("the probe job is pushed")
}

async fn wait_done(db: &TestDb, id: &jobs::JobId, limit: Duration) {
    eventually("job to finish", limit, || async {
        repo::jobs::find(&db.pool, id)
            .await
            .ok()
            .flatten()
            .filter(|r| r.status == JobStatus::Done)
    })
    .await;
}

#[tokio::test]
async fn a_worker_carries_on_after_the_database_restarts() {
    let cluster = TempCluster::start();
    let db = TestDb::on_server(&cluster.url()).await;
    let worker = spawn(
        "repopal-worker",
        &[],
        &[
            ("DATABASE_URL", &db.url),
            ("ENCRYPTION_KEYS", repopal_tests::http::TEST_ENCRYPTION_KEYS),
            ("WORKER_HEARTBEAT_SECS", "1"),
            ("WORKER_SHUTDOWN_TIMEOUT_SECS", "4"),
            ("WORKER_POLL_INTERVAL_MS", "100"),
            ("SCHEDULER_TICK_SECS", "3600"),
        ],
    );

    let before = push_probe(&db, "before").await;
    wait_done(&db, &before, Duration::from_secs(20)).await;

    cluster.stop();
    // The outage lasts until the worker has noticed it (its claim streams fail and retry).
    eventually(
        "the worker to notice the outage",
        Duration::from_secs(20),
        || async {
            worker
                .log_text()
                .contains("claim stream retrying")
                .then_some(())
        },
    )
    .await;
    cluster.start_again();

    let after = push_probe(&db, "after").await;
    wait_done(&db, &after, Duration::from_secs(30)).await;
    assert_eq!(
        repo::probe::find(&db.pool, "after")
            .await
            .unwrap()
            .unwrap()
            .completions,
        1
    );
}

#[tokio::test]
async fn readyz_is_503_while_the_database_is_down_and_200_after() {
    let cluster = TempCluster::start();
    let db = TestDb::on_server(&cluster.url()).await;
    let router = TestApp::router_for(db.pool.clone(), &db.url);
    let get = |path: &'static str| Request::builder().uri(path).body(Body::empty()).unwrap();

    assert_eq!(send(&router, get("/readyz")).await.status, 200);
    cluster.stop();
    let down = send(&router, get("/readyz")).await;
    assert_eq!(down.status, 503);
    assert_eq!(down.json()["error"]["code"], "database_unavailable");
    assert_eq!(
        send(&router, get("/healthz")).await.status,
        200,
        "liveness does not depend on the database"
    );
    cluster.start_again();
    eventually("readyz to recover", Duration::from_secs(20), || async {
        (send(&router, get("/readyz")).await.status == 200).then_some(())
    })
    .await;
}
