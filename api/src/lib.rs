//! The RepoPal HTTP API: router assembly and the layers every request goes through.

pub mod error;
pub mod metrics;
pub mod routes;
pub mod state;

use std::sync::Arc;

use axum::{Router, http::StatusCode, middleware};
use common::config::{ApiConfig, Config};
use sqlx::PgPool;
use axum::response::IntoResponse;
use tower_http::{
    catch_panic::CatchPanicLayer,
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    timeout::TimeoutLayer,
    trace::TraceLayer,
};
use utoipa::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};
use utoipa_swagger_ui::SwaggerUi;

pub use state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "RepoPal API", description = "Keeps GitHub, Slack and other connections alive and turns CI failures into incidents."),
    components(schemas(error::ErrorEnvelope, error::ErrorBody)),
    tags((name = "health", description = "Probes and metrics"))
)]
struct ApiDoc;

/// Builds the shared state (installing the metrics recorder once per process).
pub fn state(pool: PgPool, config: Config, api: ApiConfig) -> AppState {
    AppState { pool, config: Arc::new(config), api: Arc::new(api), metrics: metrics::handle() }
}

/// The routes and the OpenAPI document generated from them.
fn routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(routes::health::healthz))
        .routes(routes!(routes::health::readyz))
        .routes(routes!(routes::metrics::metrics))
        .split_for_parts()
}

/// The OpenAPI document, as served at `/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().1
}

/// The complete application.
pub fn app(state: AppState) -> Router {
    let (router, api) = routes();
    let timeout = state.api.request_timeout;
    let body_limit = state.api.body_limit_bytes;
    // Layers run outside-in in the reverse order of the calls below.
    router
        .merge(SwaggerUi::new("/docs").url("/openapi.json", api))
        .route_layer(middleware::from_fn(metrics::tag_route))
        .fallback(|| async { error::ApiError::not_found() })
        .with_state(state)
        .layer(CatchPanicLayer::custom(|_panic: Box<dyn std::any::Any + Send>| {
            error::ApiError::internal(&"request handler panicked").into_response()
        }))
        .layer(RequestBodyLimitLayer::new(body_limit))
        .layer(TimeoutLayer::with_status_code(StatusCode::GATEWAY_TIMEOUT, timeout))
        .layer(middleware::from_fn(error::envelope_errors))
        .layer(middleware::from_fn(metrics::track))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::extract::Request| {
            let request_id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
            tracing::info_span!("request", method = %req.method(), uri = %req.uri().path(), request_id)
        }))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// Serves `app` on `0.0.0.0:port` until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve(
    state: AppState,
    port: u16,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", port)).await?;
    tracing::info!(addr = %listener.local_addr()?, "repopal-api listening");
    axum::serve(listener, app(state)).with_graceful_shutdown(shutdown).await?;
    Ok(())
}
