//! Per-IP rate limit on the `/api/v1/auth/` endpoints (governor): 429 `rate_limited` with
//! `Retry-After` when a client exceeds `AUTH_RATE_LIMIT_PER_MINUTE`.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    num::NonZeroU32,
    sync::Arc,
};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::StatusCode,
    middleware::Next,
    response::{IntoResponse, Response},
};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter, clock::Clock};

use crate::{error::ApiError, extract::client_ip, state::AppState};

pub type AuthLimiter = Arc<DefaultKeyedRateLimiter<IpAddr>>;

/// `per_minute` requests per minute per IP, with the whole minute's allowance as burst.
pub fn limiter(per_minute: u32) -> AuthLimiter {
    let n = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
    Arc::new(RateLimiter::keyed(Quota::per_minute(n)))
}

pub async fn limit_auth(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with("/api/v1/auth/") {
        return next.run(req).await;
    }
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let ip = client_ip(req.headers(), peer, state.api.auth.trust_proxy_headers)
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    // Forget idle clients now and then so the table stays small.
    if state.auth_limiter.len() > 10_000 {
        state.auth_limiter.retain_recent();
    }
    match state.auth_limiter.check_key(&ip) {
        Ok(()) => next.run(req).await,
        Err(not_until) => {
            let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
            let mut error = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "Too many requests; slow down.",
            );
            error.retry_after = Some(wait.as_secs().max(1));
            error.into_response()
        }
    }
}
