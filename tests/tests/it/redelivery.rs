//! Deliveries refused while the database was down still arrive: the redelivery sweep asks GitHub
//! (the fake, over real HTTP) to redeliver every event that got no 2xx and is not stored.

use std::{net::SocketAddr, time::Duration};

use common::jobs::{self, RedeliverWebhooks};
use repopal_tests::{
    TempCluster, TestApp, TestDb,
    fake_github::FakeGithub,
    http::{TEST_WEBHOOK_SECRET, test_env},
    worker::{InProcessWorker, drain, eventually, test_worker_config},
};
use serde_json::{Value, json};

fn ping(n: usize) -> Value {
    let mut p: Value = serde_json::from_str(include_str!(
        "../../fixtures/github/webhooks/ping/with-app_id.payload.json"
    ))
    .expect("fixture");
    p["zen"] = json!(format!("Delivery {n}"));
    p
}

/// The API served over real HTTP on a pool built as `repopal-api serve` builds it.
async fn serve_api(db: &TestDb) -> String {
    let env = test_env(&db.url);
    let config = common::config::Config::from_source(&env).expect("config");
    let api = common::config::ApiConfig::from_source(&env).expect("api config");
    let pool = common::db::pool_with(&config.database, api.db_acquire_timeout).expect("pool");
    let router = TestApp::router_for(pool, &db.url);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    format!("http://{addr}/api/v1/webhooks/github")
}

async fn stored(db: &TestDb, guid: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM webhook_deliveries WHERE delivery_id = $1")
        .bind(guid)
        .fetch_one(&db.pool)
        .await
        .expect("count")
}

async fn sweep(db: &TestDb, github: &FakeGithub) {
    let env = github.env();
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let worker = InProcessWorker::start_with(db.pool.clone(), test_worker_config(&[]), &pairs);
    let mut conn = db.pool.acquire().await.expect("conn");
    jobs::push(&mut conn, &RedeliverWebhooks {})
        .await
        .expect("push");
    drop(conn);
    drain(&db.pool, &["redeliver_webhooks"], Duration::from_secs(60)).await;
    worker.stop().await;
}

#[tokio::test]
async fn deliveries_refused_during_an_outage_are_redelivered_by_the_sweep_and_stored() {
    let cluster = TempCluster::start();
    let db = TestDb::on_server(&cluster.url()).await;
    let github = FakeGithub::start().await;
    github.set_app_webhook(&serve_api(&db).await, TEST_WEBHOOK_SECRET);

    let before = github.send_app_delivery("ping", &ping(1)).await;
    assert_eq!(before.status_code, 202);
    cluster.stop();
    let mut refused = Vec::new();
    for n in 2..=4 {
        let d = github.send_app_delivery("ping", &ping(n)).await;
        assert_eq!(d.status_code, 503, "refused while the database is down");
        refused.push(d);
    }
    cluster.start_again();
    let after = eventually(
        "deliveries to be accepted again",
        Duration::from_secs(20),
        || async {
            let d = github.send_app_delivery("ping", &ping(5)).await;
            (d.status_code == 202).then_some(d)
        },
    )
    .await;
    for d in &refused {
        assert_eq!(stored(&db, &d.guid).await, 0);
    }

    sweep(&db, &github).await;
    let asked = github.redelivery_requests();
    let mut expected: Vec<i64> = refused.iter().map(|d| d.id).collect();
    let mut got = asked.clone();
    expected.sort_unstable();
    got.sort_unstable();
    assert_eq!(
        got, expected,
        "exactly the refused deliveries are redelivered"
    );
    for d in refused.iter().chain([&before, &after]) {
        eventually(
            "the delivery to be stored",
            Duration::from_secs(20),
            || async { (stored(&db, &d.guid).await == 1).then_some(()) },
        )
        .await;
    }
    let redelivered: Vec<_> = github
        .app_deliveries()
        .into_iter()
        .filter(|d| d.redelivery)
        .collect();
    assert_eq!(redelivered.len(), 3);
    assert!(redelivered.iter().all(|d| d.status_code == 202));

    // Everything is stored now: a second sweep asks for nothing.
    sweep(&db, &github).await;
    assert_eq!(github.redelivery_requests().len(), 3);
}
