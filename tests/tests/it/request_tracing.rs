//! One webhook can be followed in the logs: the request id it was received under is stored with
//! the job it enqueues, and that job's span carries it with the job id and queue.

use std::time::Duration;

use axum::{
    body::Body,
    http::{Method, Request},
};
use common::crypto::signature;
use repopal_tests::{
    TestApp,
    http::TEST_WEBHOOK_SECRET,
    log_capture::CapturedLogs,
    worker::{InProcessWorker, drain, test_worker_config},
};
use serde_json::Value;

#[tokio::test]
async fn a_webhooks_request_id_reaches_its_jobs_span() {
    let logs = CapturedLogs::install();
    let app = TestApp::builder().build().await;
    let body = br#"{"zen":"Keep it logically awesome.","hook_id":1}"#.to_vec();
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/webhooks/github")
        .header("content-type", "application/json")
        .header("user-agent", "GitHub-Hookshot/044aadd")
        .header("x-github-event", "ping")
        .header("x-github-delivery", "traced-delivery")
        .header("x-github-hook-id", "1")
        .header(
            "x-hub-signature-256",
            signature::sign(TEST_WEBHOOK_SECRET.as_bytes(), &body),
        )
        .body(Body::from(body))
        .expect("request");
    let res = app.request(req).await;
    assert_eq!(res.status, 202, "{}", res.text());
    let request_id = res
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("the response names its request id")
        .to_owned();
    assert!(!request_id.is_empty());

    // Stored with the job, in the same transaction as the delivery.
    let job_id: String = sqlx::query_scalar(
        "SELECT id FROM apalis.jobs WHERE job_type = 'process_webhook' \
         AND convert_from(job, 'UTF8')::jsonb -> '_meta' ->> 'request_id' = $1",
    )
    .bind(&request_id)
    .fetch_one(&app.db.pool)
    .await
    .expect("the process_webhook job carries the request id");

    let worker = InProcessWorker::start(app.db.pool.clone(), test_worker_config(&[]));
    drain(&app.db.pool, &["process_webhook"], Duration::from_secs(30)).await;
    worker.stop().await;
    let status: String = sqlx::query_scalar(
        "SELECT status FROM webhook_deliveries WHERE delivery_id = 'traced-delivery'",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(status, "processed");

    // Some line logged inside the job's span names the request, the job and the queue.
    let text = logs.text();
    let on_job_span = text
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter_map(|line| line.get("span").cloned())
        .filter(|span| span["name"] == "job")
        .find(|span| span["job_id"] == job_id.as_str());
    let span = on_job_span.unwrap_or_else(|| panic!("no log line on job {job_id}'s span"));
    assert_eq!(span["queue"], "process_webhook");
    assert_eq!(span["request_id"], request_id.as_str(), "{span}");
    // And the request that received it logged under the same id.
    assert!(
        text.lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .any(|line| line["span"]["name"] == "request"
                && line["span"]["request_id"] == request_id.as_str()),
        "the receiving request's span carries the id too"
    );
}
