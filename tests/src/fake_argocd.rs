//! A fake ArgoCD API server over real HTTP (or HTTPS with a self-signed certificate):
//! `GET /api/v1/applications` (bearer token, the `ApplicationList` shape, `appNamespace` filter,
//! grpc-gateway error bodies), `GET /api/version` and `GET /healthz` (plain `ok`, used as a
//! generic HTTP probe target). Tests script faults and each application's status, and read what
//! the fake got.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{
    Json, Router,
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::{Value, json};

use crate::fake_faults::{self, Fault, Faults, Flavor};

/// The API token the fake accepts (a JWT-looking string, as ArgoCD's are).
pub const ARGOCD_TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.argocd-test-token.sig";

const APPLICATIONS: &str = "/api/v1/applications";
const VERSION: &str = "/api/version";
const HEALTHZ: &str = "/healthz";

/// What a test scripts for one application (by name): its health and sync status, and the
/// conditions and last operation that come with a broken one.
#[derive(Debug, Clone)]
pub struct AppStatus {
    pub health: &'static str,
    pub sync: &'static str,
    /// `operationState.message`, with phase `Failed` (or `Succeeded` when `None`).
    pub operation_message: Option<&'static str>,
    /// One condition `{type, message}`.
    pub condition: Option<(&'static str, &'static str)>,
}

impl AppStatus {
    pub fn healthy() -> Self {
        Self {
            health: "Healthy",
            sync: "Synced",
            operation_message: None,
            condition: None,
        }
    }

    pub fn degraded() -> Self {
        Self {
            health: "Degraded",
            sync: "Synced",
            operation_message: Some(
                "one or more objects failed to apply: Deployment/guestbook-ui: ImagePullBackOff",
            ),
            condition: Some((
                "SyncError",
                "Failed sync attempt to 53e28ff: one or more objects failed to apply",
            )),
        }
    }

    pub fn out_of_sync() -> Self {
        Self {
            health: "Healthy",
            sync: "OutOfSync",
            operation_message: None,
            condition: None,
        }
    }
}

struct Inner {
    faults: Faults,
    /// Requests per path, failed ones included.
    counts: HashMap<String, usize>,
    /// The `Authorization` header of the last `/healthz` request that had one.
    last_authorization: Option<String>,
    /// How many applications the list holds.
    applications: usize,
    /// Scripted statuses by application name (others are Healthy and Synced).
    statuses: HashMap<String, AppStatus>,
    /// The `appNamespace` of the last applications request, if it had one.
    last_app_namespace: Option<String>,
}

type Shared = Arc<Mutex<Inner>>;

#[derive(Clone)]
pub struct FakeArgo {
    /// Like `http://127.0.0.1:PORT`, no trailing slash.
    pub url: String,
    inner: Shared,
}

impl FakeArgo {
    fn state() -> (Shared, Router) {
        let inner = Arc::new(Mutex::new(Inner {
            faults: Faults::default(),
            counts: HashMap::new(),
            last_authorization: None,
            applications: 1,
            statuses: HashMap::new(),
            last_app_namespace: None,
        }));
        let app = Router::new()
            .route(APPLICATIONS, get(applications))
            .route(VERSION, get(version))
            .route(HEALTHZ, get(healthz))
            .with_state(inner.clone());
        (inner, app)
    }

    pub async fn start() -> Self {
        let (inner, app) = Self::state();
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

    /// The same server over HTTPS with a certificate for `127.0.0.1` that no CA signed (made
    /// afresh here); returns it with the certificate's PEM, to trust as a CA bundle.
    pub async fn start_self_signed() -> (Self, String) {
        let (inner, app) = Self::state();
        let (listener, pem) = crate::tls::self_signed_listener().await;
        let addr = listener.local_addr();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (
            Self {
                url: format!("https://{addr}"),
                inner,
            },
            pem,
        )
    }

    /// Scripts the status of the application `name` (`guestbook` is the first).
    pub fn set_status(&self, name: &str, status: AppStatus) {
        self.lock().statuses.insert(name.to_owned(), status);
    }

    /// The `appNamespace` of the last applications request, if it had one.
    pub fn last_app_namespace(&self) -> Option<String> {
        self.lock().last_app_namespace.clone()
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

async fn version(State(s): State<Shared>, headers: HeaderMap) -> Response {
    if let Some(response) = record_and_fault(&s, VERSION, &headers).await {
        return response;
    }
    Json(json!({
        "Version": "v2.13.2+dc43124",
        "BuildDate": "2024-12-11T18:37:15Z",
        "GitCommit": "dc43124058130db9a747d141d86d7c2f4aac7bf9",
        "GitTreeState": "clean",
        "GoVersion": "go1.22.9",
        "Compiler": "gc",
        "Platform": "linux/amd64",
        "KustomizeVersion": "v5.4.3 2024-07-19T16:40:33Z",
        "HelmVersion": "v3.15.4+gfa9efb0",
        "KubectlVersion": "v0.31.0",
        "JsonnetVersion": "v0.20.0"
    }))
    .into_response()
}

fn application(name: &str, status: &AppStatus) -> Value {
    let (phase, message) = match status.operation_message {
        Some(m) => ("Failed", m),
        None => ("Succeeded", "successfully synced (all tasks run)"),
    };
    let conditions: Vec<Value> = status
        .condition
        .iter()
        .map(|(kind, message)| json!({"type": kind, "message": message, "lastTransitionTime": "2026-11-30T20:58:03Z"}))
        .collect();
    json!({
        "metadata": {"name": name, "namespace": "argocd", "uid": format!("uid-{name}"),
                     "resourceVersion": "123456", "creationTimestamp": "2026-11-01T10:00:00Z"},
        "spec": {
            "project": "default",
            "source": {
                "repoURL": "https://github.com/argoproj/argocd-example-apps.git",
                "path": name,
                "targetRevision": "HEAD"
            },
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "default"}
        },
        "status": {
            "sync": {"status": status.sync, "revision": "53e28ff20cc530b9ada2173fbbd64d48338583ba",
                     "comparedTo": {"source": {"repoURL": "https://github.com/argoproj/argocd-example-apps.git",
                                               "path": name, "targetRevision": "HEAD"},
                                    "destination": {"server": "https://kubernetes.default.svc", "namespace": "default"}}},
            "health": {"status": status.health},
            "conditions": conditions,
            "operationState": {
                "operation": {"sync": {"revision": "53e28ff20cc530b9ada2173fbbd64d48338583ba"}},
                "phase": phase,
                "message": message,
                "startedAt": "2026-11-30T20:57:55Z",
                "finishedAt": "2026-11-30T20:58:03Z"
            },
            "reconciledAt": "2026-11-30T21:00:00Z",
            "sourceType": "Directory"
        }
    })
}

async fn applications(
    State(s): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
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
    let mut inner = s.lock().expect("state");
    inner.last_app_namespace = query
        .get("appNamespace")
        .filter(|ns| !ns.is_empty())
        .cloned();
    let items: Vec<Value> = (1..=inner.applications)
        .map(|i| {
            let name = if i == 1 {
                "guestbook".to_owned()
            } else {
                format!("app-{i:03}")
            };
            let status = inner
                .statuses
                .get(&name)
                .cloned()
                .unwrap_or_else(AppStatus::healthy);
            application(&name, &status)
        })
        // Every fake application lives in `argocd`: another namespace lists none.
        .filter(|_| {
            inner
                .last_app_namespace
                .as_deref()
                .is_none_or(|ns| ns == "argocd")
        })
        .collect();
    drop(inner);
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
