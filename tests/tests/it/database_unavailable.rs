//! While Postgres is unreachable or refuses connections: requests that need it answer 503
//! `database_unavailable` with `Retry-After` quickly, a session killed mid-request is retried, and
//! a process names the cause in one log line and keeps retrying.

use std::time::{Duration, Instant};

use axum::{
    body::Body,
    http::{Method, Request},
};
use common::{
    config::{ApiConfig, Config},
    domain::JobStatus,
    jobs::{self, Probe, ProbeBehaviour},
    repo,
};
use repopal_tests::{
    TempCluster, TestApp, TestDb,
    http::{TEST_WEBHOOK_SECRET, TestResponse, test_env},
    process::spawn,
    worker::eventually,
};
use sqlx::{Connection, PgConnection};

/// The API over a pool built as `repopal-api serve` builds it (its 1 s connection wait).
fn api_on(db: TestDb) -> TestApp {
    let env = test_env(&db.url);
    let config = Config::from_source(&env).expect("config");
    let api = ApiConfig::from_source(&env).expect("api config");
    let pool = common::db::pool_with(&config.database, api.db_acquire_timeout).expect("pool");
    let router = TestApp::router_for(pool, &db.url);
    TestApp { db, router }
}

fn ping_delivery(delivery: &str) -> Request<Body> {
    let body = serde_json::to_vec(
        &serde_json::json!({"zen": "Keep it logically awesome.", "hook_id": 1, "hook": {"id": 1}}),
    )
    .expect("json");
    Request::builder()
        .method(Method::POST)
        .uri("/api/v1/webhooks/github")
        .header("content-type", "application/json")
        .header("user-agent", "GitHub-Hookshot/044aadd")
        .header("x-github-event", "ping")
        .header("x-github-delivery", delivery)
        .header("x-github-hook-id", "1")
        .header(
            "x-hub-signature-256",
            common::crypto::signature::sign(TEST_WEBHOOK_SECRET.as_bytes(), &body),
        )
        .body(Body::from(body))
        .expect("request")
}

fn assert_unavailable(res: &TestResponse, what: &str) {
    assert_eq!(res.status, 503, "{what}: {}", res.text());
    assert_eq!(
        res.json()["error"]["code"],
        "database_unavailable",
        "{what}"
    );
    assert_eq!(res.json()["success"], false);
    assert!(
        res.headers.get("retry-after").is_some(),
        "{what}: Retry-After"
    );
}

#[tokio::test]
async fn requests_answer_503_database_unavailable_quickly_while_postgres_is_down() {
    let cluster = TempCluster::start();
    let app = api_on(TestDb::on_server(&cluster.url()).await);
    let admin = app.register("outage@example.com", Some("Outage")).await;
    let orgs = || async {
        app.caller(Some(&admin))
            .send(Method::GET, "/api/v1/orgs", None)
            .await
    };
    assert_eq!(orgs().await.status, 200);

    cluster.stop();
    // Generous bound: the point is "not after the old 5 s pool wait" (figures belong in the bench).
    let quick = Duration::from_secs(4);
    for round in 0..3 {
        let started = Instant::now();
        let res = orgs().await;
        assert_unavailable(&res, "GET /api/v1/orgs");
        assert!(
            started.elapsed() < quick,
            "round {round}: {:?}",
            started.elapsed()
        );

        let started = Instant::now();
        let res = app.request(ping_delivery(&format!("down-{round}"))).await;
        assert_unavailable(&res, "a webhook delivery");
        assert!(started.elapsed() < quick, "{:?}", started.elapsed());

        let res = app
            .caller(None)
            .send(
                Method::POST,
                "/api/v1/auth/login",
                Some(serde_json::json!({"email": "outage@example.com", "password": "wrong password here"})),
            )
            .await;
        assert_unavailable(&res, "login");
    }
    let ready = app.get("/readyz").await;
    assert_unavailable(&ready, "/readyz");
    assert_eq!(
        ready.json()["error"]["details"]["cause"],
        "connection_refused"
    );
    assert_eq!(app.get("/healthz").await.status, 200);

    cluster.start_again();
    eventually(
        "requests to succeed again",
        Duration::from_secs(20),
        || async { (orgs().await.status == 200).then_some(()) },
    )
    .await;
    assert_eq!(app.get("/readyz").await.status, 200);
}

#[tokio::test]
async fn a_webhook_write_whose_session_is_killed_is_retried_and_stored_once() {
    let app = api_on(TestDb::new().await);
    // Hold the delivery's row in an open transaction so the API's write waits on it.
    let mut blocker = PgConnection::connect(&app.db.url).await.expect("connect");
    let mut tx = blocker.begin().await.expect("begin");
    repo::webhook_deliveries::insert_batch(
        &mut tx,
        &[repo::webhook_deliveries::NewDelivery {
            hook_id: "1".into(),
            signed_by_hook: None,
            delivery_id: "killed-session".into(),
            event: "ping".into(),
            action: None,
            installation_id: None,
            repository_id: None,
            payload: b"{}".to_vec(),
        }],
    )
    .await
    .expect("insert");

    let router = app.router.clone();
    let request = tokio::spawn(async move {
        repopal_tests::http::send(&router, ping_delivery("killed-session")).await
    });
    let waiting = || async {
        sqlx::query_scalar::<_, i32>(
            "SELECT pid FROM pg_stat_activity
             WHERE application_name LIKE 'repopal-%' AND wait_event_type = 'Lock' AND datname = current_database()",
        )
        .fetch_optional(&app.db.pool)
        .await
        .ok()
        .flatten()
    };
    let victim = eventually("the API's write to wait", Duration::from_secs(20), waiting).await;
    let killed: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(victim)
        .fetch_one(&app.db.pool)
        .await
        .expect("terminate");
    assert!(killed);
    // The retry takes a fresh session and waits on the same row.
    let retry = eventually(
        "the write to be retried",
        Duration::from_secs(20),
        || async { waiting().await.filter(|pid| *pid != victim) },
    )
    .await;
    assert_ne!(retry, victim);
    tx.rollback().await.expect("rollback");

    let res = request.await.expect("request task");
    assert!(
        res.status.is_success(),
        "retried and stored, never 502: {} {}",
        res.status,
        res.text()
    );
    let stored: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM webhook_deliveries WHERE delivery_id = 'killed-session'",
    )
    .fetch_one(&app.db.pool)
    .await
    .expect("count");
    assert_eq!(stored, 1);
}

const REFUSED_LINE: &str = "Postgres refuses repopal-worker: too many connections (SQLSTATE 53300)";

#[tokio::test]
async fn refused_connections_are_named_once_reported_by_readyz_and_retried() {
    let cluster = TempCluster::start_with(&[
        // Room for one worker process today (a LISTEN connection per queue), all of it taken below.
        ("max_connections", "60"),
        ("superuser_reserved_connections", "0"),
        ("max_wal_senders", "0"),
    ]);
    let db = TestDb::on_server(&cluster.url()).await;
    // Take every connection slot.
    let mut held = Vec::new();
    let refusal = loop {
        match PgConnection::connect(&db.url).await {
            Ok(conn) => held.push(conn),
            Err(e) => break e,
        }
        assert!(held.len() < 100, "the cluster never refused a connection");
    };
    assert_eq!(
        refusal
            .as_database_error()
            .and_then(|e| e.code())
            .as_deref(),
        Some("53300")
    );

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
    eventually(
        "the worker to name the cause",
        Duration::from_secs(30),
        || async { worker.log_text().contains(REFUSED_LINE).then_some(()) },
    )
    .await;
    // Its claim streams keep failing to connect and retry with backoff meanwhile.
    eventually("claim stream retries", Duration::from_secs(60), || async {
        (worker.log_text().matches("claim stream retrying").count() >= 20).then_some(())
    })
    .await;

    let env = test_env(&db.url);
    let config = Config::from_source(&env).expect("config");
    let api = ApiConfig::from_source(&env).expect("api config");
    let pool = common::db::pool_with(&config.database, api.db_acquire_timeout).expect("pool");
    let router = TestApp::router_for(pool, &db.url);
    let ready = repopal_tests::http::send(
        &router,
        Request::builder()
            .uri("/readyz")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(ready.status, 503, "{}", ready.text());
    assert_eq!(ready.json()["error"]["code"], "database_unavailable");
    assert_eq!(
        ready.json()["error"]["details"]["cause"],
        "too_many_connections"
    );
    assert_eq!(ready.json()["error"]["details"]["sqlstate"], "53300");

    drop(held);
    let mut admin = eventually("a free slot", Duration::from_secs(20), || async {
        db.pool.acquire().await.ok()
    })
    .await;
    let job = jobs::push(
        &mut admin,
        &Probe {
            key: "after-refusal".into(),
            sleep_ms: 0,
            behaviour: ProbeBehaviour::Succeed,
        },
    )
    .await
    .expect("push");
    drop(admin);
    eventually("the probe to run", Duration::from_secs(60), || async {
        repo::jobs::find(&db.pool, &job)
            .await
            .ok()
            .flatten()
            .filter(|r| r.status == JobStatus::Done)
    })
    .await;
    let log = worker.log_text();
    assert_eq!(log.matches(REFUSED_LINE).count(), 1, "named once:\n{log}");
    assert!(
        log.contains("Postgres accepts repopal-worker again"),
        "{log}"
    );
}
