//! The GitHub webhook receiver: signatures (including GitHub's test vector), headers, every corpus
//! payload, JSON and form bodies, per-hook secrets, duplicates, size limit, processing, and the
//! deliveries admin API.

use std::{path::PathBuf, time::Duration};

use serde::Deserialize;
use serde_json::Value;

use axum::{
    body::Body,
    http::{Method, Request},
};
use common::crypto::{
    keyring::{Binding, SealedColumn},
    signature,
};
use repopal_tests::{
    TestApp,
    app::ErrorEnvelope,
    http::{TEST_WEBHOOK_SECRET, TestResponse},
    shapes::Page,
    worker::{InProcessWorker, drain, test_worker_config},
};

/// A listed webhook delivery: RepoPal's id and GitHub's delivery id.
#[derive(Debug, Deserialize)]
struct Delivery {
    id: uuid::Uuid,
    delivery_id: String,
}

fn corpus() -> Vec<(String, PathBuf)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/github/webhooks");
    let mut out = Vec::new();
    for event in std::fs::read_dir(&root)
        .expect("the webhook corpus directory is readable")
        .flatten()
        .filter(|e| e.path().is_dir())
    {
        for file in std::fs::read_dir(event.path())
            .expect("each event directory is readable")
            .flatten()
        {
            out.push((
                event.file_name().to_string_lossy().into_owned(),
                file.path(),
            ));
        }
    }
    out.sort();
    assert!(out.len() >= 60, "the corpus is there: {}", out.len());
    out
}

/// One signed webhook delivery: its event, delivery id, body, the secret that signs it and any
/// extra headers.
struct SignedDelivery<'a> {
    event: &'a str,
    delivery: &'a str,
    body: Vec<u8>,
    secret: &'a str,
    extra: &'a [(&'a str, &'a str)],
}

async fn deliver(app: &TestApp, d: SignedDelivery<'_>) -> TestResponse {
    let SignedDelivery {
        event,
        delivery,
        body,
        secret,
        extra,
    } = d;
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/webhooks/github")
        .header("content-type", "application/json")
        .header("user-agent", "GitHub-Hookshot/044aadd")
        .header("x-github-event", event)
        .header("x-github-delivery", delivery)
        .header(
            "x-hub-signature-256",
            signature::sign(secret.as_bytes(), &body),
        );
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    app.request(
        req.body(Body::from(body))
            .expect("the webhook request is well-formed"),
    )
    .await
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(&app.db.pool)
        .await
        .expect("the count query runs")
}

#[tokio::test]
async fn every_corpus_payload_is_accepted_stored_once_and_routed() {
    let app = TestApp::builder().build().await;
    let files = corpus();
    for (i, (event, path)) in files.iter().enumerate() {
        let res = deliver(
            &app,
            SignedDelivery {
                event,
                delivery: &format!("delivery-{i}"),
                body: std::fs::read(path).unwrap(),
                secret: TEST_WEBHOOK_SECRET,
                extra: &[],
            },
        )
        .await;
        assert_eq!(
            res.status,
            202,
            "{event} {}: {}",
            path.display(),
            res.text()
        );
        let body = res.json();
        assert_eq!(body["data"]["duplicate"], false);
        assert!(body["data"]["job_id"].is_string());
    }
    assert_eq!(
        count(&app, "SELECT count(*) FROM webhook_deliveries").await,
        files.len() as i64
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM apalis.jobs WHERE job_type = 'process_webhook'"
        )
        .await,
        files.len() as i64
    );

    let worker = InProcessWorker::start(app.db.pool.clone(), test_worker_config(&[]));
    drain(&app.db.pool, &["process_webhook"], Duration::from_secs(60)).await;
    worker.stop().await;
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM webhook_deliveries WHERE status NOT IN ('processed', 'ignored')"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM webhook_deliveries WHERE event = 'ping' AND status = 'processed'"
        )
        .await,
        3
    );
    let ignored: String = sqlx::query_scalar(
        "SELECT status_detail FROM webhook_deliveries WHERE event = 'pull_request' LIMIT 1",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert!(
        ignored.starts_with("no handler for pull_request."),
        "{ignored}"
    );
    // The installation events kept the installation's state.
    let (login, deleted): (Option<String>, bool) =
        sqlx::query_as("SELECT account_login, deleted_at IS NOT NULL FROM github_installations ORDER BY updated_at DESC LIMIT 1")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert!(login.is_some());
    let _ = deleted;
    assert!(count(&app, "SELECT count(*) FROM github_installations").await >= 1);
}

#[tokio::test]
async fn a_redelivery_is_answered_200_duplicate_and_enqueues_nothing() {
    let app = TestApp::builder().build().await;
    let body = br#"{"zen":"Keep it logically awesome.","hook_id":1}"#.to_vec();
    let same_guid = || SignedDelivery {
        event: "ping",
        delivery: "same-guid",
        body: body.clone(),
        secret: TEST_WEBHOOK_SECRET,
        extra: &[("x-github-hook-id", "1")],
    };
    let first = deliver(&app, same_guid()).await;
    assert_eq!(first.status, 202);
    let again = deliver(&app, same_guid()).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["data"]["duplicate"], true);
    assert_eq!(
        count(&app, "SELECT count(*) FROM webhook_deliveries").await,
        1
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM apalis.jobs WHERE job_type = 'process_webhook'"
        )
        .await,
        1
    );

    // Concurrent redeliveries: still exactly one row and one job.
    let sends = (0..10).map(|_| {
        deliver(
            &app,
            SignedDelivery {
                event: "ping",
                delivery: "burst-guid",
                body: body.clone(),
                secret: TEST_WEBHOOK_SECRET,
                extra: &[],
            },
        )
    });
    let results = futures::future::join_all(sends).await;
    assert_eq!(results.iter().filter(|r| r.status == 202).count(), 1);
    assert_eq!(results.iter().filter(|r| r.status == 200).count(), 9);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM apalis.jobs WHERE job_type = 'process_webhook'"
        )
        .await,
        2
    );
}

#[tokio::test]
async fn a_missing_or_wrong_signature_is_401_and_nothing_is_stored() {
    let app = TestApp::builder().build().await;
    let body = br#"{"zen":"x"}"#.to_vec();
    let wrong = deliver(
        &app,
        SignedDelivery {
            event: "ping",
            delivery: "d1",
            body: body.clone(),
            secret: "not-the-secret-at-all",
            extra: &[],
        },
    )
    .await;
    assert_eq!(
        (
            wrong.status.as_u16(),
            wrong.json()["error"]["code"].as_str()
        ),
        (401, Some("invalid_signature"))
    );
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/webhooks/github")
        .header("content-type", "application/json")
        .header("x-github-event", "ping")
        .header("x-github-delivery", "d2")
        .body(Body::from(body.clone()))
        .unwrap();
    let missing = app.request(req).await;
    assert_eq!(
        (
            missing.status.as_u16(),
            missing.json()["error"]["code"].as_str()
        ),
        (401, Some("missing_signature"))
    );
    let tampered = {
        let mut req = Request::builder()
            .method(Method::POST)
            .uri("/api/v1/webhooks/github")
            .header("content-type", "application/json")
            .header("x-github-event", "ping")
            .header("x-github-delivery", "d3")
            .header(
                "x-hub-signature-256",
                signature::sign(TEST_WEBHOOK_SECRET.as_bytes(), &body),
            );
        req = req.header("x-github-hook-id", "5");
        app.request(req.body(Body::from(br#"{"zen":"y"}"#.to_vec())).unwrap())
            .await
    };
    assert_eq!(tampered.status, 401);
    assert_eq!(
        count(&app, "SELECT count(*) FROM webhook_deliveries").await,
        0
    );
    assert_eq!(count(&app, "SELECT count(*) FROM apalis.jobs").await, 0);
}

#[tokio::test]
async fn event_and_delivery_headers_are_required() {
    let app = TestApp::builder().build().await;
    let body = br#"{"zen":"x"}"#.to_vec();
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/webhooks/github")
        .header("content-type", "application/json")
        .header("x-github-delivery", "d1")
        .header(
            "x-hub-signature-256",
            signature::sign(TEST_WEBHOOK_SECRET.as_bytes(), &body),
        )
        .body(Body::from(body.clone()))
        .unwrap();
    let res = app.request(req).await;
    assert_eq!(
        (res.status.as_u16(), res.json()["error"]["code"].as_str()),
        (400, Some("missing_header"))
    );
    let bad = deliver(
        &app,
        SignedDelivery {
            event: "ping",
            delivery: "d2",
            body: b"not json".to_vec(),
            secret: TEST_WEBHOOK_SECRET,
            extra: &[],
        },
    )
    .await;
    assert_eq!(
        (bad.status.as_u16(), bad.json()["error"]["code"].as_str()),
        (400, Some("invalid_payload"))
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM webhook_deliveries").await,
        0
    );
}

/// GitHub's documented test vector verifies (also over HTTP through the receiver, with the
/// vector's body and signature), but its secret is far too weak to configure: start-up refuses it.
#[tokio::test]
async fn githubs_signature_test_vector_verifies_and_its_weak_secret_is_refused() {
    let vector = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    assert!(common::crypto::signature::verify(
        b"It's a Secret to Everybody",
        b"Hello, World!",
        vector
    ));
    assert!(!common::crypto::signature::verify(
        b"It's a Secret to Everybody",
        b"Hello, World!",
        &vector.replacen('7', "8", 1)
    ));
    let mut env = repopal_tests::http::test_env("postgres://localhost/unused");
    env.insert(
        "GITHUB_WEBHOOK_SECRET".into(),
        "It's a Secret to Everybody".into(),
    );
    let err = common::config::ApiConfig::from_source(&env)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("GITHUB_WEBHOOK_SECRET is malformed"),
        "{err}"
    );

    // Over HTTP with the configured secret: a correct signature passes (the body is not JSON,
    // so it is refused after verification), a wrong one is 401.
    let app = TestApp::builder().build().await;
    let req = |sig: String| {
        Request::builder()
            .method(Method::POST)
            .uri("/api/v1/webhooks/github")
            .header("content-type", "application/json")
            .header("x-github-event", "ping")
            .header("x-github-delivery", "vector")
            .header("x-hub-signature-256", sig)
            .body(Body::from("Hello, World!"))
            .unwrap()
    };
    let good = common::crypto::signature::sign(
        repopal_tests::http::TEST_WEBHOOK_SECRET.as_bytes(),
        b"Hello, World!",
    );
    let ok = app.request(req(good.clone())).await;
    assert_eq!(
        (ok.status.as_u16(), ok.json()["error"]["code"].as_str()),
        (400, Some("invalid_payload"))
    );
    let bad = app
        .request(req(good.replacen("sha256=", "sha256=0", 1)))
        .await;
    assert_eq!(bad.status, 401);
}

#[tokio::test]
async fn form_encoded_deliveries_are_verified_over_the_raw_body() {
    let app = TestApp::builder().build().await;
    let json = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/github/webhooks/ping/payload.json"),
    )
    .unwrap();
    let form = format!(
        "payload={}",
        url::form_urlencoded::byte_serialize(&json).collect::<String>()
    );
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/webhooks/github")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-github-event", "ping")
        .header("x-github-delivery", "form-1")
        .header(
            "x-hub-signature-256",
            signature::sign(TEST_WEBHOOK_SECRET.as_bytes(), form.as_bytes()),
        )
        .body(Body::from(form))
        .unwrap();
    let res = app.request(req).await;
    assert_eq!(res.status, 202, "{}", res.text());
    let stored: Vec<u8> = sqlx::query_scalar("SELECT payload FROM webhook_deliveries")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(stored, json, "the JSON document is stored as sent");
}

#[tokio::test]
async fn a_repository_hook_is_verified_with_its_own_secret() {
    let app = TestApp::builder().build().await;
    let owner = app.register("hooks@example.com", Some("Juliet")).await;
    let org = owner.first_org();
    let keyring = common::crypto::keyring::Keyring::parse(
        &secrecy::SecretString::from(repopal_tests::http::TEST_ENCRYPTION_KEYS.to_owned()),
        None,
    )
    .unwrap();
    let hook_secret = "per-hook-secret-4242";
    let sealed = keyring
        .seal(
            Binding::new(SealedColumn::RepositoryHookSecret, "4242"),
            &secrecy::SecretString::from(hook_secret.to_owned()),
        )
        .unwrap();
    sqlx::query("INSERT INTO github_repository_hooks (hook_id, org_id, repository_id, secret_sealed) VALUES (4242, $1::uuid, 35129377, $2)")
        .bind(&org)
        .bind(&sealed)
        .execute(&app.db.pool)
        .await
        .unwrap();
    let body =
        br#"{"zen":"Design for failure.","hook_id":4242,"repository":{"id":35129377}}"#.to_vec();
    let ok = deliver(
        &app,
        SignedDelivery {
            event: "ping",
            delivery: "hook-1",
            body: body.clone(),
            secret: hook_secret,
            extra: &[("x-github-hook-id", "4242")],
        },
    )
    .await;
    assert_eq!(ok.status, 202, "{}", ok.text());
    let other = deliver(
        &app,
        SignedDelivery {
            event: "ping",
            delivery: "hook-2",
            body: body.clone(),
            secret: hook_secret,
            extra: &[("x-github-hook-id", "4243")],
        },
    )
    .await;
    assert_eq!(
        other.status, 401,
        "another hook's id does not unlock this secret"
    );
    let no_hook = deliver(
        &app,
        SignedDelivery {
            event: "ping",
            delivery: "hook-3",
            body,
            secret: hook_secret,
            extra: &[],
        },
    )
    .await;
    assert_eq!(no_hook.status, 401);

    // The delivery belongs to the hook's organisation: its admin sees it and can replay it.
    let admin = app.caller(Some(&owner)).in_org(&org);
    let list: Page<Delivery> = admin
        .call(Method::GET, "webhook-deliveries", None, 200)
        .await;
    let items = &list.items;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].delivery_id, "hook-1");
    let id = items[0].id;
    let _: Value = admin
        .call(
            Method::POST,
            &format!("webhook-deliveries/{id}/replay"),
            None,
            202,
        )
        .await;
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM apalis.jobs WHERE job_type = 'process_webhook'"
        )
        .await,
        2
    );
    assert_eq!(
        count(&app, "SELECT replay_count::bigint FROM webhook_deliveries").await,
        1
    );
    let filtered: Page<Delivery> = admin
        .call(Method::GET, "webhook-deliveries?event=push", None, 200)
        .await;
    assert!(filtered.items.is_empty());
    let _: ErrorEnvelope = admin
        .call(Method::GET, "webhook-deliveries?status=weird", None, 400)
        .await;
}

#[tokio::test]
async fn deliveries_above_25_mb_are_refused_with_413() {
    let app = TestApp::builder().build().await;
    let mut body = b"{\"zen\":\"".to_vec();
    body.resize(25 * 1024 * 1024 + 10, b'a');
    body.extend_from_slice(b"\"}");
    let res = deliver(
        &app,
        SignedDelivery {
            event: "ping",
            delivery: "big",
            body,
            secret: TEST_WEBHOOK_SECRET,
            extra: &[],
        },
    )
    .await;
    assert_eq!(
        (res.status.as_u16(), res.json()["error"]["code"].as_str()),
        (413, Some("payload_too_large"))
    );
    // Just under the cap is fine.
    let mut body = b"{\"zen\":\"".to_vec();
    body.resize(24 * 1024 * 1024, b'a');
    body.extend_from_slice(b"\"}");
    assert_eq!(
        deliver(
            &app,
            SignedDelivery {
                event: "ping",
                delivery: "large",
                body,
                secret: TEST_WEBHOOK_SECRET,
                extra: &[]
            }
        )
        .await
        .status,
        202
    );
}
