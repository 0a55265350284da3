//! The client's IP and user agent, for sessions, audit entries and rate limiting.

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{HeaderMap, request::Parts},
};
use common::identity::ClientMeta;
use ipnet::IpNet;

use crate::{error::ApiError, state::AppState};

/// The caller's network details.
#[derive(Debug, Clone)]
pub struct Client(pub ClientMeta);

/// The client IP. Starts from the peer address; while the current hop is a trusted proxy, steps to
/// the next `X-Forwarded-For` address from the right (the one that proxy added). The first address
/// that is not a trusted proxy is the client, so a client's own `X-Forwarded-For` entries are only
/// ever read past proxies the operator listed.
pub fn client_ip(
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    let mut current = peer?.ip().to_canonical();
    if trusted.is_empty() {
        return Some(current);
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut from_right = hops.into_iter().rev();
    while trusted.iter().any(|net| net.contains(&current)) {
        // A proxy that added nothing (or something unreadable) is itself the last address known.
        let Some(next) = from_right.next().and_then(parse_hop) else {
            break;
        };
        current = next;
    }
    Some(current)
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`[v6]:port`, `v4:port`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

impl FromRequestParts<AppState> for Client {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        let ip =
            client_ip(&parts.headers, peer, &state.api.trusted_proxies).map(|ip| ip.to_string());
        let user_agent = parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(256).collect());
        Ok(Self(ClientMeta { ip, user_agent }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xff(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", v.parse().unwrap());
        h
    }

    #[test]
    fn forwarded_hops_are_read_only_past_trusted_proxies() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let peer: SocketAddr = "10.0.0.1:1234".parse().unwrap();
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        // Proxy chain 10.0.0.5 -> 10.0.0.1: the first untrusted hop from the right is the client.
        assert_eq!(
            client_ip(&xff("6.6.6.6, 7.7.7.7, 10.0.0.5"), Some(peer), &trusted),
            ip("7.7.7.7")
        );
        assert_eq!(client_ip(&xff("6.6.6.6"), Some(peer), &[]), ip("10.0.0.1"));
        let outsider: SocketAddr = "203.0.113.9:1".parse().unwrap();
        assert_eq!(
            client_ip(&xff("6.6.6.6"), Some(outsider), &trusted),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_ip(&xff("garbage"), Some(peer), &trusted),
            ip("10.0.0.1")
        );
        assert_eq!(
            client_ip(&HeaderMap::new(), Some(peer), &trusted),
            ip("10.0.0.1")
        );
        assert_eq!(
            client_ip(&xff("[2001:db8::1]:443"), Some(peer), &trusted),
            ip("2001:db8::1")
        );
        assert_eq!(client_ip(&HeaderMap::new(), None, &trusted), None);
        let mapped: SocketAddr = "[::ffff:10.0.0.1]:80".parse().unwrap();
        assert_eq!(
            client_ip(&xff("7.7.7.7"), Some(mapped), &trusted),
            ip("7.7.7.7")
        );
    }
}
