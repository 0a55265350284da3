//! The one test-app builder: its configuration reaches the app, `call::<Out>` asserts the status
//! and decodes the envelope's `data`, an error answer decodes into the error envelope, relative
//! paths go under the organisation, and an unexpected status fails the test.

use axum::http::Method;
use repopal_tests::{TestApp, app::ErrorEnvelope};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
struct Me {
    email: String,
    organizations: Vec<Value>,
}

#[derive(Debug, Deserialize)]
struct Page {
    items: Vec<Value>,
}

#[tokio::test]
async fn typed_calls_decode_data_and_errors() {
    let app = TestApp::builder().build().await;
    let session = app.register("typed@example.com", Some("Typed")).await;
    let me: Me = app
        .caller(Some(&session))
        .call(Method::GET, "/api/v1/auth/me", None, 200)
        .await;
    assert_eq!(me.email, "typed@example.com");
    assert_eq!(me.organizations.len(), 1);

    let refused: ErrorEnvelope = app
        .caller(None)
        .call(Method::GET, "/api/v1/auth/me", None, 401)
        .await;
    assert!(!refused.success);
    assert_eq!(refused.error.code, "unauthorized");

    let incidents: Page = app
        .caller(Some(&session))
        .in_org(&session.first_org())
        .call(Method::GET, "incidents", None, 200)
        .await;
    assert!(incidents.items.is_empty());
}

#[tokio::test]
#[should_panic(expected = "GET /api/v1/auth/me")]
async fn an_unexpected_status_fails_the_call() {
    let app = TestApp::builder().build().await;
    let _: Value = app
        .caller(None)
        .call(Method::GET, "/api/v1/auth/me", None, 200)
        .await;
}

#[tokio::test]
async fn builder_configuration_reaches_the_app() {
    // By default `/metrics` is served on the API's port; with its own listener it is not.
    let shared = TestApp::builder().build().await;
    assert_eq!(shared.metrics().await.status, 200);
    let own = TestApp::builder()
        .env("METRICS_ADDR", "127.0.0.1:0")
        .build()
        .await;
    assert_eq!(own.metrics().await.status, 404);
}
