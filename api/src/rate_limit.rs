//! Per-address rate limit on the credential routes (governor): 429 `rate_limited` with
//! `Retry-After` when a client exceeds `AUTH_RATE_LIMIT_PER_MINUTE`. IPv6 clients are counted per
//! /64 (one customer's allocation), so rotating addresses inside it does not buy new allowances.

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
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

/// The routes that take or mint credentials: guessing passwords or tokens happens here. Routes
/// of a signed-in user (`/auth/me`, `/auth/sessions`) are not limited: a team behind one NAT
/// would share the bucket in normal use.
pub const LIMITED: &[&str] = &[
    "/api/v1/auth/login",
    "/api/v1/auth/register",
    "/api/v1/auth/refresh-token",
    "/api/v1/auth/forgot-password",
    "/api/v1/auth/reset-password",
    "/api/v1/auth/verify-email",
    "/api/v1/auth/change-password",
    "/api/v1/auth/oauth/github/callback",
    "/api/v1/oauth/github/callback",
    "/api/v1/slack/callback",
    "/api/v1/github/setup",
];

/// `per_minute` requests per minute per address, with the whole minute's allowance as burst.
pub fn limiter(per_minute: u32) -> AuthLimiter {
    let n = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
    Arc::new(RateLimiter::keyed(Quota::per_minute(n)))
}

/// The bucket of an address: IPv4 as is, IPv6 by its /64 prefix.
pub fn bucket(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(prefix))
        }
        v4 => v4,
    }
}

pub async fn limit_auth(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !LIMITED.contains(&req.uri().path()) {
        return next.run(req).await;
    }
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let ip = client_ip(req.headers(), peer, &state.api.trusted_proxies)
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    // Forget idle clients now and then so the table stays small.
    if state.auth_limiter.len() > 10_000 {
        state.auth_limiter.retain_recent();
    }
    match state.auth_limiter.check_key(&bucket(ip)) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_addresses_share_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:1:2:3".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(bucket(a), bucket(b));
        assert_ne!(bucket(a), bucket(c));
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        assert_eq!(bucket(v4), v4);
        assert_eq!(bucket("::ffff:192.0.2.7".parse().unwrap()), v4);
    }
}
