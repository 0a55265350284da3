//! The API's foundation: envelopes, stable error codes, request ids, limits, probes, metrics and
//! the generated OpenAPI document.

use axum::{
    body::Body,
    http::{Method, Request, StatusCode},
};
use common::jobs::{self, Probe, ProbeBehaviour};
use repopal_tests::TestApp;

#[tokio::test]
async fn probes_answer_in_the_success_envelope() {
    let app = TestApp::builder().build().await;
    for path in ["/healthz", "/readyz"] {
        let res = app.get(path).await;
        assert_eq!(res.status, StatusCode::OK, "{path}");
        assert_eq!(
            res.json(),
            serde_json::json!({"success": true, "data": {"status": "ok"}})
        );
    }
}

#[tokio::test]
async fn unknown_routes_and_methods_get_the_error_envelope() {
    let app = TestApp::builder().build().await;
    let res = app.get("/nope").await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let body = res.json();
    assert_eq!(body["success"], false);
    assert_eq!(body["error"]["code"], "not_found");
    assert!(body["error"]["message"].is_string());
    assert!(body["error"].as_object().unwrap().contains_key("details"));

    let req = Request::builder()
        .method(Method::DELETE)
        .uri("/healthz")
        .body(Body::empty())
        .unwrap();
    let res = app.request(req).await;
    assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.json()["error"]["code"], "method_not_allowed");
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_413_in_the_envelope() {
    let app = TestApp::builder().build().await;
    let big = format!("{{\"email\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/auth/login")
        .header("content-type", "application/json")
        .header("content-length", big.len())
        .body(Body::from(big))
        .unwrap();
    let res = app.request(req).await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(res.json()["error"]["code"], "payload_too_large");
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_keeps_a_given_one() {
    let app = TestApp::builder().build().await;
    let res = app.get("/healthz").await;
    let generated = res
        .headers
        .get("x-request-id")
        .expect("generated request id")
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(generated.len(), 36, "a UUID: {generated}");

    let req = Request::builder()
        .uri("/nope")
        .header("x-request-id", "abc-123")
        .body(Body::empty())
        .unwrap();
    let res = app.request(req).await;
    assert_eq!(res.headers.get("x-request-id").unwrap(), "abc-123");
}

#[tokio::test]
async fn metrics_show_requests_by_route_and_status_and_jobs_by_queue_and_outcome() {
    let app = TestApp::builder().build().await;
    app.get("/healthz").await;
    app.get("/nope").await;
    let mut conn = app.db.pool.acquire().await.unwrap();
    jobs::push(
        &mut conn,
        &Probe {
            key: "m".into(),
            sleep_ms: 0,
            behaviour: ProbeBehaviour::Succeed,
        },
    )
    .await
    .unwrap();
    drop(conn);

    let res = app.metrics().await;
    assert_eq!(res.status, StatusCode::OK);
    let text = res.text();
    assert!(
        text.contains("http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"}"),
        "{text}"
    );
    assert!(
        text.contains(
            "http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",status=\"200\""
        ),
        "{text}"
    );
    assert!(text.contains("status=\"404\""), "{text}");
    assert!(
        text.contains("repopal_jobs{queue=\"probe\",outcome=\"pending\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("repopal_jobs{queue=\"noop\",outcome=\"dead\"} 0"),
        "{text}"
    );
}

#[tokio::test]
async fn openapi_is_generated_and_swagger_ui_is_served_locally() {
    let app = TestApp::builder().build().await;
    let res = app.get("/openapi.json").await;
    assert_eq!(res.status, StatusCode::OK);
    let doc = res.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in ["/healthz", "/readyz", "/metrics"] {
        assert!(doc["paths"][path]["get"].is_object(), "{path} documented");
    }
    assert!(doc["components"]["schemas"]["ErrorEnvelope"].is_object());

    let res = app.get("/docs/").await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(
        res.text().contains("swagger-ui"),
        "the vendored Swagger UI page"
    );
    let res = app.get("/docs/swagger-ui-bundle.js").await;
    assert_eq!(
        res.status,
        StatusCode::OK,
        "assets are embedded, not fetched"
    );
}
