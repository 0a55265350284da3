//! The client's IP and user agent, for sessions, audit entries and rate limiting.

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{HeaderMap, request::Parts},
};
use common::identity::ClientMeta;

use crate::{error::ApiError, state::AppState};

/// The caller's network details.
#[derive(Debug, Clone)]
pub struct Client(pub ClientMeta);

/// The client IP: with a trusted proxy, the last `X-Forwarded-For` hop (the one that proxy added;
/// earlier hops are whatever the client sent), else the peer address.
pub fn client_ip(
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
    trust_proxy: bool,
) -> Option<IpAddr> {
    if trust_proxy {
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .next_back()
            .and_then(|v| v.trim().parse().ok());
        if forwarded.is_some() {
            return forwarded;
        }
    }
    peer.map(|p| p.ip())
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
        let ip = client_ip(&parts.headers, peer, state.api.auth.trust_proxy_headers)
            .map(|ip| ip.to_string());
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

    #[test]
    fn the_proxy_added_hop_wins_only_when_trusted() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "6.6.6.6, 10.0.0.5".parse().unwrap());
        let peer: SocketAddr = "10.0.0.1:1234".parse().unwrap();
        assert_eq!(
            client_ip(&h, Some(peer), true),
            Some("10.0.0.5".parse().unwrap())
        );
        assert_eq!(
            client_ip(&h, Some(peer), false),
            Some("10.0.0.1".parse().unwrap())
        );
        assert_eq!(client_ip(&HeaderMap::new(), None, true), None);
    }
}
