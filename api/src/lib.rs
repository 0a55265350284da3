//! The RepoPal HTTP API: router assembly and the layers every request goes through.

pub mod contract;
pub mod contract_shapes;
pub mod cookies;
pub mod error;
pub mod extract;
pub mod fields;
pub mod flow_cookie;
pub mod inflight;
pub mod list;
pub mod metrics;
pub mod pagination;
pub mod rate_limit;
pub mod request_formats;
pub mod routes;
pub mod security;
pub mod state;
pub mod views;

use std::sync::Arc;

use axum::response::IntoResponse;
use axum::{Router, extract::DefaultBodyLimit, http::StatusCode, middleware};
use common::config::{ApiConfig, Config};
use sqlx::PgPool;
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
    components(schemas(error::ErrorEnvelope, error::ErrorBody, common::domain::IncidentSource)),
    modifiers(&BearerAuth),
    tags(
        (name = "health", description = "Probes and metrics"),
        (name = "auth", description = "Accounts, sessions and GitHub login"),
        (name = "orgs", description = "Organisations, members, roles and the audit log"),
        (name = "webhooks", description = "GitHub webhook receiver and deliveries"),
        (name = "github", description = "GitHub App installations and repositories"),
        (name = "jobs", description = "Background jobs a client or an organisation caused, and their state"),
        (name = "incidents", description = "Workflow runs, incidents and notifications"),
        (name = "integrations", description = "Integrations: catalogue, credentials, connection tests, health"),
        (name = "analytics", description = "Trends: run failure rates and durations, incident MTTA/MTTR, frequent failures, repository health"),
    )
)]
struct ApiDoc;

/// Declares the `bearer` security scheme (access tokens from login).
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Builds the shared state (installing the metrics recorder once per process).
///
/// Fails when the GitHub App key in the configuration is unusable.
pub fn state(pool: PgPool, config: Config, api: ApiConfig) -> Result<AppState, common::Error> {
    let services = Arc::new(common::services::Services::build(pool, Arc::new(config))?);
    let identity = common::identity::Identity::new(&services, api.auth.clone());
    let auth_limiter = rate_limit::limiter(api.auth.rate_limit_per_minute);
    let webhook_bytes = inflight::InflightBytes::new(api.webhook_max_inflight_bytes);
    let webhooks = common::webhooks::WebhookReceiver::new(
        services.pool.clone(),
        api.github_webhook_secret.clone(),
        services.keyring.clone(),
    );
    let state_keys = Arc::new(common::crypto::purpose_keys::StateKeys::derive(
        &api.auth.jwt_signing_key,
    ));
    Ok(AppState {
        services,
        state_keys,
        api: Arc::new(api),
        metrics: metrics::handle(),
        identity,
        auth_limiter,
        webhook_bytes,
        webhooks,
    })
}

/// The routes, the `/metrics` route (mounted only where configured) and the OpenAPI document.
fn routes() -> (Router<AppState>, Router<AppState>, serde_json::Value) {
    use routes::{
        analytics, audit_logs, auth, auth_sessions, github_app, github_login, health, incidents,
        integration_actions, integration_applications, integration_health, integration_types,
        integrations, jobs, members, notifications, oauth_connections, orgs, passwords,
        repositories, repository_context, slack_connect, webhook_deliveries, webhooks,
        workflow_runs,
    };
    // GitHub sends deliveries of up to 25 MB (the receiver reads its body itself, within
    // `WEBHOOK_BODY_LIMIT` and the in-flight budget); every other route keeps `BODY_LIMIT_BYTES`.
    let receiver = OpenApiRouter::new().routes(routes!(webhooks::github));
    let (metrics, metrics_doc) = OpenApiRouter::new()
        .routes(routes!(routes::metrics::metrics))
        .split_for_parts();
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(auth::register))
        .routes(routes!(auth::login))
        .routes(routes!(auth::refresh))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::me, auth::update_me))
        .routes(routes!(passwords::change_password))
        .routes(routes!(passwords::forgot_password))
        .routes(routes!(passwords::reset_password))
        .routes(routes!(passwords::verify_email))
        .routes(routes!(auth_sessions::sessions))
        .routes(routes!(auth_sessions::end_session))
        .routes(routes!(github_login::authorize))
        .routes(routes!(github_login::callback))
        .routes(routes!(github_login::disconnect))
        .routes(routes!(orgs::create, orgs::list_mine))
        .routes(routes!(orgs::get, orgs::update, orgs::delete))
        .routes(routes!(members::list))
        .routes(routes!(members::invite, members::list_invitations))
        .routes(routes!(members::revoke_invitation))
        .routes(routes!(members::change_role, members::remove))
        .routes(routes!(members::accept))
        .routes(routes!(audit_logs::list))
        .routes(routes!(webhook_deliveries::list))
        .routes(routes!(webhook_deliveries::replay))
        .routes(routes!(github_app::install_link))
        .routes(routes!(github_app::setup))
        .routes(routes!(repositories::list))
        .routes(routes!(repositories::get, repositories::update))
        .routes(routes!(repositories::connect))
        .routes(routes!(repositories::disconnect))
        .routes(routes!(repositories::test))
        .routes(routes!(repositories::status))
        .routes(routes!(repositories::sync))
        .routes(routes!(repository_context::list))
        .routes(routes!(repository_context::workflows))
        .routes(routes!(repository_context::diff))
        .routes(routes!(repository_context::logs))
        .routes(routes!(workflow_runs::list))
        .routes(routes!(workflow_runs::stats))
        .routes(routes!(workflow_runs::get))
        .routes(routes!(workflow_runs::rerun))
        .routes(routes!(analytics::workflows))
        .routes(routes!(analytics::incidents))
        .routes(routes!(analytics::failures))
        .routes(routes!(analytics::repositories))
        .routes(routes!(incidents::list))
        .routes(routes!(incidents::get))
        .routes(routes!(incidents::acknowledge))
        .routes(routes!(incidents::resolve))
        .routes(routes!(incidents::reopen))
        .routes(routes!(incidents::comment))
        .routes(routes!(notifications::list))
        .routes(routes!(notifications::read))
        .routes(routes!(notifications::read_all))
        .routes(routes!(integrations::create, integrations::list))
        .routes(routes!(
            integrations::get,
            integrations::update,
            integrations::delete
        ))
        .routes(routes!(integration_actions::enable))
        .routes(routes!(integration_actions::disable))
        .routes(routes!(integration_actions::replace_credentials))
        .routes(routes!(integration_actions::test))
        .routes(routes!(integration_actions::sync))
        .routes(routes!(integration_actions::logs))
        .routes(routes!(integration_applications::list))
        .routes(routes!(integration_health::health))
        .routes(routes!(integration_health::history))
        .routes(routes!(integration_health::metrics))
        .routes(routes!(integration_types::list))
        .routes(routes!(integration_types::get))
        .routes(routes!(slack_connect::authorize))
        .routes(routes!(slack_connect::callback))
        .routes(routes!(jobs::list))
        .routes(routes!(jobs::get))
        .routes(routes!(oauth_connections::authorize))
        .routes(routes!(oauth_connections::callback))
        .routes(routes!(oauth_connections::list))
        .routes(routes!(oauth_connections::delete))
        .routes(routes!(oauth_connections::refresh))
        .routes(routes!(oauth_connections::my_job))
        .merge(receiver)
        .split_for_parts();
    // A file path spans segments: axum's wildcard serves it, documented as `{path}`.
    let (_, file_doc) = OpenApiRouter::new()
        .routes(routes!(repository_context::file))
        .split_for_parts();
    let router = router.route(
        "/api/v1/orgs/{org_id}/repositories/{repo_id}/files/{*path}",
        axum::routing::get(repository_context::file),
    );
    doc.merge(file_doc);
    doc.merge(metrics_doc);
    (router, metrics, contract::complete(doc))
}

/// Largest webhook delivery accepted (GitHub's own cap).
pub const WEBHOOK_BODY_LIMIT: usize = 25 * 1024 * 1024;

/// The OpenAPI document, as served at `/openapi.json` (completed by `contract`).
pub fn openapi() -> serde_json::Value {
    routes().2
}

/// The router of the separate metrics listener (`METRICS_ADDR`): `/metrics` only.
pub fn metrics_app(state: AppState) -> Router {
    let (_, metrics, _) = routes();
    let router = metrics
        .fallback(|| async { error::ApiError::not_found() })
        .with_state(state.clone());
    security::headers(router, &state)
}

/// The complete application.
pub fn app(state: AppState) -> Router {
    let (mut router, metrics_route, api) = routes();
    // `/metrics` lists every tenant's ids: public only behind METRICS_TOKEN, and never when it has
    // its own listener (METRICS_ADDR).
    if state.api.metrics_token.is_some() && state.api.metrics_addr.is_none() {
        router = router.merge(metrics_route);
    }
    let timeout = state.api.request_timeout;
    let body_limit = state.api.body_limit_bytes;
    let limiter_state = state.clone();
    let outer_state = state.clone();
    // Layers run outside-in in the reverse order of the calls below.
    let router = router
        .merge(SwaggerUi::new("/docs").external_url_unchecked("/openapi.json", api))
        .merge(views::router())
        .route_layer(middleware::from_fn(metrics::tag_route))
        .layer(DefaultBodyLimit::max(body_limit))
        .fallback(|| async { error::ApiError::not_found() })
        .with_state(state)
        .layer(CatchPanicLayer::custom(|_panic: Box<dyn std::any::Any + Send>| {
            error::ApiError::internal(&"request handler panicked").into_response()
        }))
        // The hard cap for any body, before it is read; per-route limits above are stricter.
        .layer(RequestBodyLimitLayer::new(WEBHOOK_BODY_LIMIT.max(body_limit)))
        .layer(TimeoutLayer::with_status_code(StatusCode::GATEWAY_TIMEOUT, timeout))
        .layer(middleware::from_fn_with_state(limiter_state, rate_limit::limit_auth))
        .layer(middleware::from_fn(extract::refuse_nul_in_uri))
        .layer(middleware::from_fn_with_state(
            outer_state.clone(),
            views::land_on_console,
        ))
        .layer(middleware::from_fn(error::envelope_errors))
        .layer(middleware::from_fn(metrics::track))
        .layer(middleware::from_fn(request_id_scope))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::extract::Request| {
            let request_id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
            tracing::info_span!("request", method = %req.method(), uri = %req.uri().path(), request_id)
        }))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid));
    security::headers(security::cors(router, &outer_state.api), &outer_state)
}

/// Runs the request with its `X-Request-Id` in scope, so every job it enqueues carries it.
async fn request_id_scope(
    req: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    common::jobs::with_request_id(id, next.run(req)).await
}

/// Serves `app` on `0.0.0.0:port` (and `/metrics` on `METRICS_ADDR` when set) until `shutdown`
/// resolves, then finishes in-flight requests.
pub async fn serve(
    state: AppState,
    port: u16,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", port)).await?;
    tracing::info!(addr = %listener.local_addr()?, "repopal-api listening");
    let metrics = match state.api.metrics_addr {
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr).await?;
            tracing::info!(addr = %listener.local_addr()?, "repopal-api metrics listening");
            let app = metrics_app(state.clone());
            Some(tokio::spawn(
                async move { axum::serve(listener, app).await },
            ))
        }
        None => None,
    };
    let (stop_watch, watch_rx) = tokio::sync::watch::channel(false);
    let watcher = tokio::spawn(common::db_status::watch(
        state.services.pool.clone(),
        "repopal-api",
        watch_rx,
    ));
    let app = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    let _ = stop_watch.send(true);
    let _ = watcher.await;
    if let Some(metrics) = metrics {
        metrics.abort();
    }
    served
}
