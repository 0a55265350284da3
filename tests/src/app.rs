//! The one way to build a test app: `TestApp::builder()`, with options for extra configuration and
//! for the prepared setups (a repository monitored through a GitHub App installation, the same with
//! integration-health settings and a fake Argo CD, a repository reached through a user's GitHub
//! connection), and typed calls: `Caller::call::<Out>(method, path, body, expected_status)` asserts
//! the status and decodes the envelope's `data`.

use axum::{
    body::Body,
    http::{Method, Request},
};
use serde::{Deserialize, de::DeserializeOwned};
use serde_json::Value;

use crate::{
    TestApp, auth::Session, http::TestResponse, oauth_monitored::REPO_SCOPES, setup::Setup,
};

/// What `TestApp::builder()` will set up; finish with `build` (the app alone) or with one of the
/// prepared [`Setup`]s: `monitored_repo`, `health` or `oauth_repo`.
#[derive(Debug, Clone)]
pub struct TestAppBuilder {
    env: Vec<(&'static str, String)>,
    repositories: usize,
}

impl Default for TestAppBuilder {
    fn default() -> Self {
        Self {
            env: Vec::new(),
            repositories: 1,
        }
    }
}

/// The kind of GitHub token an OAuth-connected setup holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthToken {
    /// A token that never expires (GitHub's default).
    NonExpiring,
    /// An expiring token with a single-use refresh token.
    Expiring,
}

impl TestAppBuilder {
    /// One more configuration variable (a later one wins over an earlier one and over a setup's).
    pub fn env(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.env.retain(|(k, _)| *k != key);
        self.env.push((key, value.into()));
        self
    }

    /// Several configuration variables.
    pub fn envs<V: AsRef<str>>(self, pairs: &[(&'static str, V)]) -> Self {
        pairs.iter().fold(self, |b, (k, v)| b.env(k, v.as_ref()))
    }

    /// How many repositories the fake GitHub App installation has (`acme/repo-00001`…; the first
    /// is the monitored one). One by default.
    pub fn repositories(mut self, n: usize) -> Self {
        self.repositories = n;
        self
    }

    fn pairs(&self) -> Vec<(&'static str, &str)> {
        self.env.iter().map(|(k, v)| (*k, v.as_str())).collect()
    }

    /// The API alone on a fresh database.
    pub async fn build(self) -> TestApp {
        TestApp::with_env(&self.pairs()).await
    }

    /// An organisation whose admin installed the GitHub App, with one repository monitored and
    /// mapped to Slack channels, and a Slack integration.
    pub async fn monitored_repo(self) -> Setup {
        Setup::installation(self.repositories, &self.pairs()).await
    }

    /// `monitored_repo` with the integration-health test settings (`health::HEALTH_ENV`).
    pub async fn health(self) -> Setup {
        Setup::with_health_env(&self.pairs()).await
    }

    /// An organisation whose repository is reached through a user's GitHub connection, served over
    /// real HTTP.
    pub async fn oauth_repo(self, token: OAuthToken) -> Setup {
        Setup::connection(token == OAuthToken::Expiring, REPO_SCOPES, &self.pairs()).await
    }

    /// `oauth_repo` with a non-expiring token granted only `scopes`.
    pub async fn oauth_repo_with_scopes(self, scopes: &str) -> Setup {
        Setup::connection(false, scopes, &self.pairs()).await
    }
}

/// An error answer: `{"success": false, "error": {"code", "message", "details"}}`.
#[derive(Debug, Clone, Deserialize)]
pub struct ErrorEnvelope {
    pub success: bool,
    pub error: ErrorBody,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    #[serde(default)]
    pub details: Value,
}

/// Calls the API as one user (or anonymously), from one client address; a relative path is under
/// `base`.
#[derive(Clone)]
pub struct Caller<'a> {
    app: &'a TestApp,
    token: Option<&'a str>,
    ip: &'a str,
    base: String,
}

/// The client address calls come from unless a test says otherwise (`Caller::from_ip`).
pub const DEFAULT_CLIENT_IP: &str = "192.0.2.1";

impl TestApp {
    /// How every test app is built.
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder::default()
    }

    /// Calls as `session`, or anonymously with `None`; paths are absolute.
    pub fn caller<'a>(&'a self, session: Option<&'a Session>) -> Caller<'a> {
        Caller {
            app: self,
            token: session.map(|s| s.access_token.as_str()),
            ip: DEFAULT_CLIENT_IP,
            base: String::new(),
        }
    }

    /// Calls with `token` as the bearer token, as given (a stale, forged, refresh or other
    /// app's token); paths are absolute.
    pub fn caller_with_token<'a>(&'a self, token: &'a str) -> Caller<'a> {
        Caller {
            app: self,
            token: Some(token),
            ip: DEFAULT_CLIENT_IP,
            base: String::new(),
        }
    }
}

impl<'a> Caller<'a> {
    /// The same caller with relative paths under `/api/v1/orgs/{org}/`.
    pub fn in_org(mut self, org: &str) -> Self {
        self.base = format!("/api/v1/orgs/{org}/");
        self
    }

    /// The same caller, seen by the server as connecting from `ip` (per-address rate limits).
    pub fn from_ip(mut self, ip: &'a str) -> Self {
        self.ip = ip;
        self
    }

    fn path(&self, path: &str) -> String {
        if path.starts_with('/') {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        }
    }

    /// The raw response to a JSON request (as the server sees it: from this caller's address,
    /// with its bearer token).
    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> TestResponse {
        let peer: std::net::SocketAddr = format!("{}:40000", self.ip).parse().expect("ip");
        let mut req = Request::builder()
            .method(method)
            .uri(self.path(path))
            .header("user-agent", "repopal-tests/1.0")
            .extension(axum::extract::ConnectInfo(peer));
        if let Some(t) = self.token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let req = match body {
            Some(b) => req
                .header("content-type", "application/json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        };
        self.app.request(req.expect("request")).await
    }

    /// Asserts the answer's status and decodes its envelope's `data` into `Out`; an answer without
    /// `data` (an error, or an empty body) decodes whole, e.g. into [`ErrorEnvelope`].
    pub async fn call<Out: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        expected_status: u16,
    ) -> Out {
        let res = self.send(method.clone(), path, body).await;
        assert_eq!(
            res.status.as_u16(),
            expected_status,
            "{method} {}: {}",
            self.path(path),
            res.text()
        );
        decode(&res)
    }
}

/// The envelope's `data` as `Out` (the whole body when it has no `data`; `null` when empty).
pub fn decode<Out: DeserializeOwned>(res: &TestResponse) -> Out {
    let body = if res.body.is_empty() {
        Value::Null
    } else {
        res.json()
    };
    let value = match body.get("data") {
        Some(data) => data.clone(),
        None => body,
    };
    serde_json::from_value(value.clone())
        .unwrap_or_else(|e| panic!("answer does not decode ({e}): {value}"))
}

impl Setup {
    /// The org admin, with paths under the organisation.
    pub fn as_admin(&self) -> Caller<'_> {
        self.app.caller(Some(&self.admin)).in_org(&self.org)
    }
}
