//! A tiny HTTP server on a chosen loopback address that counts every request it gets and answers either `200 ok` or a `302` to a fixed `Location`: the target (or the bouncer) of SSRF attack tests.

use std::{
    net::{IpAddr, SocketAddr},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use axum::{
    Router,
    extract::State,
    http::{StatusCode, header::LOCATION},
    response::{IntoResponse, Response},
};

#[derive(Clone)]
struct Shared {
    hits: Arc<AtomicUsize>,
    redirect_to: Option<String>,
}

/// A running fake; it stops with the test's runtime.
#[derive(Clone)]
pub struct FakeTarget {
    pub addr: SocketAddr,
    /// `http://ADDR` (no trailing slash).
    pub url: String,
    hits: Arc<AtomicUsize>,
}

async fn answer(State(s): State<Shared>) -> Response {
    s.hits.fetch_add(1, Ordering::SeqCst);
    match &s.redirect_to {
        Some(to) => (StatusCode::FOUND, [(LOCATION, to.clone())]).into_response(),
        None => "ok".into_response(),
    }
}

impl FakeTarget {
    /// Answers `200 ok` on `addr` (port 0 for any free one).
    pub async fn start(addr: SocketAddr) -> Option<Self> {
        Self::serve(addr, None).await
    }

    /// Answers `302 Location: to` on `addr`.
    pub async fn redirecting(addr: SocketAddr, to: &str) -> Option<Self> {
        Self::serve(addr, Some(to.to_owned())).await
    }

    /// Two plain targets on the same free port of two addresses (`None` when no port was free
    /// on both after a few tries).
    pub async fn pair(a: IpAddr, b: IpAddr) -> (Self, Self) {
        for _ in 0..50 {
            let first = Self::start(SocketAddr::new(a, 0)).await.expect("bind");
            if let Some(second) = Self::start(SocketAddr::new(b, first.addr.port())).await {
                return (first, second);
            }
        }
        panic!("no port free on both {a} and {b}");
    }

    async fn serve(addr: SocketAddr, redirect_to: Option<String>) -> Option<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await.ok()?;
        let addr = listener.local_addr().ok()?;
        let hits = Arc::new(AtomicUsize::new(0));
        let app = Router::new().fallback(answer).with_state(Shared {
            hits: hits.clone(),
            redirect_to,
        });
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Some(Self {
            addr,
            url: format!("http://{addr}"),
            hits,
        })
    }

    /// Requests received so far.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}
