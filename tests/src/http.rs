//! The router, driven in-process, and a small response type for assertions.

use axum::{
    Router,
    body::Body,
    http::{HeaderMap, Method, Request, StatusCode},
};
use common::config::{ApiConfig, Config};
use serde_json::Value;
use tower::ServiceExt;

use crate::TestDb;

pub const TEST_WEBHOOK_SECRET: &str = "test-webhook-secret-Qm7Vx2Kp9Lr4Zt8Wn3Hb";
/// A fixed test keyring (32 random bytes); never used outside tests.
pub const TEST_ENCRYPTION_KEYS: &str = "k1:3TKzmA4wcXL3tI5Sif0zKxGHR7/nlp1UtrBawwpG7J4=";
pub const TEST_JWT_KEY: &str = "test-jwt-key-Vq8ZxN2mRk7Lw4Hp9Ty3Jd6Fs1";
/// The bearer token `/metrics` wants in tests.
pub const TEST_METRICS_TOKEN: &str = "test-metrics-token-Hn4Rz8Wq2Xk6Pv9Lc3Tb";

/// The API on a fresh database.
pub struct TestApp {
    pub db: TestDb,
    pub router: Router,
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl TestResponse {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The status and the envelope's error code (empty when there is none).
    pub fn error_code(&self) -> (u16, String) {
        let code = serde_json::from_slice::<Value>(&self.body)
            .ok()
            .and_then(|v| v["error"]["code"].as_str().map(str::to_owned))
            .unwrap_or_default();
        (self.status.as_u16(), code)
    }

    /// The `name=value` pair of the cookie this response sets under `name` (as a browser would
    /// send it back), if it sets one.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.set_cookie(name)
            .map(|v| v.split(';').next().unwrap_or_default().trim().to_owned())
    }

    /// The whole `Set-Cookie` value for the cookie `name` (with its attributes).
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(axum::http::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }
}

/// Configuration for tests: everything defaulted except what is required.
pub fn test_env(db_url: &str) -> std::collections::HashMap<String, String> {
    [
        ("DATABASE_URL", db_url),
        ("GITHUB_WEBHOOK_SECRET", TEST_WEBHOOK_SECRET),
        ("ENCRYPTION_KEYS", TEST_ENCRYPTION_KEYS),
        ("JWT_SIGNING_KEY", TEST_JWT_KEY),
        ("REQUEST_TIMEOUT_SECS", "5"),
        ("AUTH_RATE_LIMIT_PER_MINUTE", "1000"),
        ("PUBLIC_URL", "http://repopal.test"),
        // The fakes (Argo CD, HTTP probe targets) listen on 127.0.0.1; nothing else is opened.
        ("OUTBOUND_ALLOWED_CIDRS", "127.0.0.1/32"),
        ("METRICS_TOKEN", TEST_METRICS_TOKEN),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

impl TestApp {
    /// The API on a fresh database with extra configuration (e.g. a fake GitHub's URLs); tests
    /// build it through `TestApp::builder()`.
    pub(crate) async fn with_env(extra: &[(&str, &str)]) -> Self {
        let db = TestDb::new().await;
        let mut env = test_env(&db.url);
        for (k, v) in extra {
            env.insert((*k).to_owned(), (*v).to_owned());
        }
        let router = Self::router_from_env(db.pool.clone(), &env);
        Self { db, router }
    }

    /// A router over any pool (e.g. one pointing at a server that will go down).
    pub fn router_for(pool: sqlx::PgPool, db_url: &str) -> Router {
        Self::router_from_env(pool, &test_env(db_url))
    }

    fn router_from_env(
        pool: sqlx::PgPool,
        env: &std::collections::HashMap<String, String>,
    ) -> Router {
        let config = Config::from_source(env).expect("test config");
        let api = ApiConfig::from_source(env).expect("test api config");
        repopal_api::app(repopal_api::state(pool, config, api).expect("app state"))
    }

    pub async fn request(&self, req: Request<Body>) -> TestResponse {
        send(&self.router, req).await
    }

    /// A GET from a browser that presents `cookie` (`name=value`), or no cookie at all: the way a
    /// provider's redirect arrives.
    pub async fn browser_get(&self, path: &str, cookie: Option<&str>) -> TestResponse {
        let peer: std::net::SocketAddr = "192.0.2.1:40000".parse().expect("ip");
        let mut req = Request::builder()
            .method(Method::GET)
            .uri(path)
            .header("user-agent", "repopal-tests-browser/1.0")
            .extension(axum::extract::ConnectInfo(peer));
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        self.request(req.body(Body::empty()).expect("request"))
            .await
    }

    /// `GET /metrics` with the test metrics token.
    pub async fn metrics(&self) -> TestResponse {
        self.request(
            Request::builder()
                .method(Method::GET)
                .uri("/metrics")
                .header("authorization", format!("Bearer {TEST_METRICS_TOKEN}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.request(
            Request::builder()
                .method(Method::GET)
                .uri(path)
                .body(Body::empty())
                .expect("request"),
        )
        .await
    }
}

pub async fn send(router: &Router, req: Request<Body>) -> TestResponse {
    let response = router
        .clone()
        .oneshot(req)
        .await
        .expect("router never fails");
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body")
        .to_vec();
    TestResponse {
        status,
        headers,
        body,
    }
}
