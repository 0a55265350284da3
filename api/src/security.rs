//! Response headers every answer carries (no sniffing, no referrer, no framing, HSTS on https,
//! `Cache-Control: no-store` outside the static docs) and CORS, closed unless origins are listed.

use std::time::Duration;

use axum::{
    Router,
    extract::Request,
    http::{HeaderName, HeaderValue, Method, header},
    middleware::{self, Next},
    response::Response,
};
use common::config::ApiConfig;
use tower_http::{
    cors::{AllowOrigin, CorsLayer},
    set_header::SetResponseHeaderLayer,
};

use crate::state::AppState;

const HSTS: &str = "max-age=31536000; includeSubDomains";

/// Adds the fixed security headers (outermost, so errors, 404s and timeouts get them too). The
/// console sets its own stricter CSP and a `same-origin` referrer policy (so its forms carry an
/// `Origin`); everything else gets `no-referrer` and `frame-ancestors 'none'`.
pub fn headers(router: Router, state: &AppState) -> Router {
    let router = router
        .layer(middleware::from_fn(no_store))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("frame-ancestors 'none'"),
        ));
    if state.services.config.public_url.scheme() == "https" {
        router.layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        ))
    } else {
        router
    }
}

/// `Cache-Control: no-store` on everything but the Swagger UI and the console's content-hashed
/// assets: API answers and pages carry tokens, secrets and tenant data that no shared or browser
/// cache should keep.
async fn no_store(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let docs = path.starts_with("/docs") || path.starts_with("/assets/");
    let mut response = next.run(req).await;
    if !docs {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// CORS for the listed origins only (`CORS_ALLOWED_ORIGINS`); with none listed there is no CORS
/// layer and no response ever carries `Access-Control-Allow-Origin`. Credentials (cookies) are
/// not allowed: the API authenticates with bearer tokens, which a page sends explicitly.
pub fn cors(router: Router, api: &ApiConfig) -> Router {
    let origins: Vec<HeaderValue> = api
        .cors_allowed_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    if origins.is_empty() {
        return router;
    }
    let layer = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([HeaderName::from_static("x-request-id"), header::RETRY_AFTER])
        .max_age(Duration::from_secs(600));
    router
        .layer(layer)
        .layer(middleware::from_fn(only_for_allowed_origins))
}

/// tower-http's CORS answers a preflight from any origin with the allowed methods and headers
/// (just not `Access-Control-Allow-Origin`); strip those too, so another origin learns nothing.
async fn only_for_allowed_origins(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    if !headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN) {
        for name in [
            header::ACCESS_CONTROL_ALLOW_METHODS,
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            header::ACCESS_CONTROL_MAX_AGE,
        ] {
            headers.remove(name);
        }
    }
    response
}
