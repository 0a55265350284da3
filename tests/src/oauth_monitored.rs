//! The connection setup: an organisation whose repository is reached only through a user's GitHub
//! connection (no App installation): the API served over real HTTP (its address is `PUBLIC_URL`, so the fake
//! GitHub's immediate ping of a new hook reaches the receiver), the connect flow, the connection
//! sync, and deliveries signed with the repository hook's own secret.

use std::net::SocketAddr;

use axum::{
    body::Body,
    http::{Method, Request},
};
use serde_json::{Value, json};

use crate::{
    fake_github::FakeAccount,
    http::TestResponse,
    setup::{RepoAccess, Setup},
};

/// Every queue an OAuth-connected repository's life touches.
pub const QUEUES: &[&str] = &[
    "process_webhook",
    "sync_connection_repositories",
    "repository_webhook",
    "incident_context",
    "notify_slack",
    "refresh_oauth_token",
    "check_repository_hooks",
];

/// Scopes GitHub grants a "Connect GitHub" authorization.
pub const REPO_SCOPES: &str = "repo,admin:repo_hook,read:user";

pub fn connector() -> FakeAccount {
    FakeAccount {
        id: 7001,
        login: "oauth-dev".into(),
        name: "OAuth Dev".into(),
        email: "oauth-dev@example.com".into(),
        email_verified: true,
    }
}

impl Setup {
    /// Served app, connected user, synced repository (not yet monitored). `expiring` connects
    /// with an expiring token (and a single-use refresh token); GitHub grants `scopes`
    /// (non-expiring tokens only).
    pub(crate) async fn connection(
        expiring: bool,
        scopes: &str,
        extra: &[(&'static str, &str)],
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr: SocketAddr = listener.local_addr().expect("addr");
        let public_url = vec![("PUBLIC_URL", format!("http://{addr}"))];
        let mut me = Self::with_fakes(RepoAccess::Connection, public_url, extra).await;
        me.github.set_repositories(1);
        let served = me
            .app
            .router
            .clone()
            .into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, served).await;
        });
        me.connection = me.connect_github(expiring, scopes).await;
        let body = json!({"connection_id": me.connection});
        let _: Value = me
            .as_admin()
            .call(Method::POST, "repositories/sync", Some(body), 202)
            .await;
        me.run_jobs().await;
        let repo = me.take_first_repository().await;
        assert_eq!(repo["access"], "connection");
        me
    }

    /// The "Connect GitHub" flow as the admin; the connection's id.
    async fn connect_github(&self, expiring: bool, scopes: &str) -> String {
        if expiring {
            self.github.authorize_expiring("connect-code", connector());
        } else {
            self.github
                .authorize_with_scopes("connect-code", connector(), scopes);
        }
        let start = self
            .app
            .caller(Some(&self.admin))
            .send(Method::GET, "/api/v1/oauth/github/authorize", None)
            .await;
        assert_eq!(start.status, 200, "{}", start.text());
        let url = url::Url::parse(start.json()["data"]["url"].as_str().expect("url")).expect("url");
        let state = url
            .query_pairs()
            .find(|(k, _)| k == "state")
            .expect("state")
            .1
            .into_owned();
        let cookie = start.cookie("repopal_oauth").or_else(|| {
            start.headers.get("set-cookie").and_then(|v| {
                v.to_str()
                    .ok()
                    .and_then(|c| c.split(';').next())
                    .map(str::to_owned)
            })
        });
        let req = Request::builder()
            .uri(format!(
                "/api/v1/oauth/github/callback?code=connect-code&state={state}"
            ))
            .header("cookie", cookie.expect("flow cookie"))
            .body(Body::empty())
            .expect("request");
        let res = self.app.request(req).await;
        assert_eq!(res.status, 200, "{}", res.text());
        res.json()["data"]["id"]
            .as_str()
            .expect("connection id")
            .to_owned()
    }

    /// Connects the repository (its hook installed by the worker).
    pub async fn monitor(&self) {
        let path = format!("repositories/{}/connect", self.repo);
        let _: Value = self.as_admin().call(Method::POST, &path, None, 202).await;
        self.run_jobs().await;
    }

    /// The corpus `workflow_run.completed` payload for this repository, as a repository hook
    /// sends it (no `installation`).
    pub fn hook_workflow_run(&self, run_id: i64, conclusion: &str) -> Value {
        let mut p: Value = serde_json::from_str(include_str!(
            "../fixtures/github/webhooks/workflow_run/completed.payload.json"
        ))
        .expect("fixture");
        if let Some(o) = p.as_object_mut() {
            o.remove("installation");
        }
        p["repository"]["id"] = json!(self.repo_github_id);
        p["repository"]["full_name"] = json!(self.full_name);
        let run = &mut p["workflow_run"];
        run["id"] = json!(run_id);
        run["run_number"] = json!(run_id);
        run["run_attempt"] = json!(1);
        run["head_branch"] = json!("main");
        run["conclusion"] = json!(conclusion);
        run["status"] = json!("completed");
        p
    }

    /// Sends `payload` as the repository's hook would: signed with that hook's secret.
    pub async fn deliver_from_hook(
        &self,
        event: &str,
        delivery: &str,
        payload: &Value,
    ) -> TestResponse {
        let hook = self
            .github
            .hooks()
            .into_iter()
            .find(|h| h.repo == self.full_name)
            .expect("the repository's hook");
        let body = serde_json::to_vec(payload).expect("json");
        let req = Request::builder()
            .method(Method::POST)
            .uri("/api/v1/webhooks/github")
            .header("content-type", "application/json")
            .header("user-agent", "GitHub-Hookshot/044aadd")
            .header("x-github-event", event)
            .header("x-github-delivery", delivery)
            .header("x-github-hook-id", hook.id.to_string())
            .header(
                "x-hub-signature-256",
                common::crypto::signature::sign(hook.secret.as_bytes(), &body),
            )
            .body(Body::from(body))
            .expect("request");
        self.app.request(req).await
    }
}
