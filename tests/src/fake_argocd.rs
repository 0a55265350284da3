//! A fake ArgoCD API server over real HTTP: `GET /api/v1/applications` (bearer token, the
//! `ApplicationList` shape, grpc-gateway error bodies) and `GET /healthz` (plain `ok`, used as a
//! generic HTTP probe target). Tests script faults for both routes and read what they got.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::{Value, json};

use crate::fake_faults::{self, Fault, Faults, Flavor};

/// The API token the fake accepts (a JWT-looking string, as ArgoCD's are).
pub const ARGOCD_TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.argocd-test-token.sig";

const APPLICATIONS: &str = "/api/v1/applications";
const HEALTHZ: &str = "/healthz";

struct Inner {
    faults: Faults,
    /// Requests per path, failed ones included.
    counts: HashMap<String, usize>,
    /// The `Authorization` header of the last `/healthz` request that had one.
    last_authorization: Option<String>,
    /// How many applications the list holds.
    applications: usize,
}

type Shared = Arc<Mutex<Inner>>;

#[derive(Clone)]
pub struct FakeArgo {
    /// Like `http://127.0.0.1:PORT`, no trailing slash.
    pub url: String,
    inner: Shared,
}

impl FakeArgo {
    pub async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner {
            faults: Faults::default(),
            counts: HashMap::new(),
            last_authorization: None,
            applications: 1,
        }));
        let app = Router::new()
            .route(APPLICATIONS, get(applications))
            .route(HEALTHZ, get(healthz))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake argocd");
        let addr: SocketAddr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url: format!("http://{addr}"),
            inner,
        }
    }

    /// Queues one-shot faults for the next requests (to either route).
    pub fn fault_next(&self, faults: &[Fault]) {
        self.lock().faults.push(faults);
    }

    /// Sets (or with `None` clears) a fault for every request once the queued ones are used up.
    pub fn set_fault(&self, fault: Option<Fault>) {
        self.lock().faults.set_persistent(fault);
    }

    /// Requests to `path` (e.g. `"/api/v1/applications"`, `"/healthz"`), failed ones included.
    pub fn count(&self, path: &str) -> usize {
        self.lock().counts.get(path).copied().unwrap_or(0)
    }

    /// The `Authorization` header of the last `/healthz` request that sent one.
    pub fn last_authorization(&self) -> Option<String> {
        self.lock().last_authorization.clone()
    }

    /// The applications list holds `n` applications (`guestbook`, then `app-002`, …); 1 at start.
    pub fn set_applications(&self, n: usize) {
        self.lock().applications = n;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().expect("fake argocd state")
    }
}

/// Counts the request (and notes its `Authorization` on `/healthz`), takes its fault under the
/// lock, then carries the fault out unlocked.
async fn record_and_fault(s: &Shared, path: &str, headers: &HeaderMap) -> Option<Response> {
    let fault = {
        let mut inner = s.lock().expect("state");
        *inner.counts.entry(path.to_owned()).or_default() += 1;
        if path == HEALTHZ
            && let Some(auth) = headers.get("authorization").and_then(|v| v.to_str().ok())
        {
            inner.last_authorization = Some(auth.to_owned());
        }
        inner.faults.next()
    };
    fake_faults::apply(fault, Flavor::ArgoCd).await
}

async fn healthz(State(s): State<Shared>, headers: HeaderMap) -> Response {
    if let Some(response) = record_and_fault(&s, HEALTHZ, &headers).await {
        return response;
    }
    "ok".into_response()
}

fn application(name: &str) -> Value {
    json!({
        "metadata": {"name": name, "namespace": "argocd"},
        "spec": {
            "project": "default",
            "source": {
                "repoURL": "https://github.com/argoproj/argocd-example-apps.git",
                "path": name,
                "targetRevision": "HEAD"
            },
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "default"}
        },
        "status": {"sync": {"status": "Synced"}, "health": {"status": "Healthy"}}
    })
}

async fn applications(State(s): State<Shared>, headers: HeaderMap) -> Response {
    if let Some(response) = record_and_fault(&s, APPLICATIONS, &headers).await {
        return response;
    }
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if token != Some(ARGOCD_TOKEN) {
        let message = "invalid session: token signature is invalid";
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": message, "code": 16, "message": message})),
        )
            .into_response();
    }
    let n = s.lock().expect("state").applications;
    let items: Vec<Value> = (1..=n)
        .map(|i| {
            if i == 1 {
                application("guestbook")
            } else {
                application(&format!("app-{i:03}"))
            }
        })
        .collect();
    Json(json!({"metadata": {"resourceVersion": "12345"}, "items": items})).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn token_faults_and_healthz() {
        let argo = FakeArgo::start().await;
        let client = reqwest::Client::new();
        let list = format!("{}{APPLICATIONS}", argo.url);
        let ok = client
            .get(&list)
            .bearer_auth(ARGOCD_TOKEN)
            .send()
            .await
            .expect("send");
        assert_eq!(ok.status().as_u16(), 200);
        let body: Value = ok.json().await.expect("json");
        assert_eq!(body["items"][0]["metadata"]["name"], "guestbook");
        let bad = client
            .get(&list)
            .bearer_auth("nope")
            .send()
            .await
            .expect("send");
        assert_eq!(bad.status().as_u16(), 401);

        argo.fault_next(&[Fault::Unavailable]);
        let down = client
            .get(&list)
            .bearer_auth(ARGOCD_TOKEN)
            .send()
            .await
            .expect("send");
        assert_eq!(down.status().as_u16(), 503);
        assert_eq!(argo.count(APPLICATIONS), 3);

        let health = client
            .get(format!("{}{HEALTHZ}", argo.url))
            .bearer_auth("probe-token")
            .send()
            .await
            .expect("send");
        assert_eq!(health.text().await.expect("text"), "ok");
        assert_eq!(
            argo.last_authorization().as_deref(),
            Some("Bearer probe-token")
        );
        assert_eq!(argo.count(HEALTHZ), 1);
    }
}
