//! An organisation with a GitHub App installation, one monitored repository mapped to Slack
//! channels, and a Slack integration, all set up through the API and the worker against fake
//! GitHub and Slack servers; plus signed `workflow_run` deliveries made from the corpus payload.

use std::time::Duration;

use axum::{
    body::Body,
    http::{Method, Request},
};
use common::repo::jobs::JobRow;
use serde_json::{Value, json};

use crate::{
    TestApp,
    auth::Session,
    fake_github::{FakeAccount, FakeGithub},
    fake_slack::{FakeSlack, SLACK_BOT_TOKEN},
    http::{TEST_WEBHOOK_SECRET, TestResponse},
    worker::{
        InProcessWorker, drain, drain_allowing_dead, drain_expecting_dead, test_worker_config,
    },
};

pub const INSTALLATION: i64 = 27182;
/// The channels the repository is mapped to.
pub const CHANNELS: [&str; 2] = ["C0INCIDENTS", "#ci-alerts"];

/// Every queue incident processing touches.
pub const QUEUES: &[&str] = &[
    "process_webhook",
    "sync_repositories",
    "repository_webhook",
    "incident_context",
    "notify_slack",
    "rerun_workflow",
];

pub struct Monitored {
    pub github: FakeGithub,
    pub slack: FakeSlack,
    pub app: TestApp,
    pub admin: Session,
    pub org: String,
    /// RepoPal's id of the monitored repository, its GitHub id and full name.
    pub repo: String,
    pub repo_github_id: i64,
    pub full_name: String,
    env: Vec<(&'static str, String)>,
}

/// The GitHub user who installed the App (and may install it again from the console).
pub fn installer() -> FakeAccount {
    FakeAccount {
        id: 4242,
        login: "ci-owner".into(),
        name: "CI Owner".into(),
        email: "ci-owner@example.com".into(),
        email_verified: true,
    }
}

impl Monitored {
    /// Everything set up, with `extra` environment (e.g. `INCIDENT_NOTIFY_WINDOW_SECS`).
    pub async fn start(extra: &[(&'static str, &str)]) -> Self {
        Self::start_with_repositories(1, extra).await
    }

    /// The same with `n` repositories on the installation (`acme/repo-00001`…); the first is the
    /// monitored one.
    pub async fn start_with_repositories(n: usize, extra: &[(&'static str, &str)]) -> Self {
        let github = FakeGithub::start().await;
        github.set_repositories(n);
        github.admin_installation(&installer(), INSTALLATION);
        github.authorize("setup-code", installer());
        let slack = FakeSlack::start().await;
        let mut env = github.env();
        env.push(("SLACK_API_URL", slack.url.clone()));
        env.push((
            "SLACK_AUTHORIZE_URL",
            format!("{}/oauth/v2/authorize", slack.url.trim_end_matches("/api")),
        ));
        env.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let app = TestApp::with_env(&pairs).await;
        let admin = app
            .register("incidents-admin@example.com", Some("Kilo"))
            .await;
        let org = admin.first_org();
        let me = Self {
            github,
            slack,
            app,
            admin,
            org,
            repo: String::new(),
            repo_github_id: 0,
            full_name: String::new(),
            env,
        };
        me.install().await;
        me.run_jobs().await;
        let repos = me
            .admin_call(Method::GET, "repositories", None)
            .await
            .json();
        let repo = &repos["data"]["items"][0];
        let mut me = me;
        me.repo = repo["id"].as_str().expect("a synced repository").to_owned();
        me.repo_github_id = repo["github_id"].as_i64().expect("github id");
        me.full_name = repo["full_name"].as_str().expect("name").to_owned();
        let path = format!("repositories/{}/connect", me.repo);
        assert_eq!(me.admin_call(Method::POST, &path, None).await.status, 202);
        let path = format!("repositories/{}", me.repo);
        let patch = me
            .admin_call(
                Method::PATCH,
                &path,
                Some(json!({"slack_channels": CHANNELS})),
            )
            .await;
        assert_eq!(patch.status, 200, "{}", patch.text());
        let created = me
            .admin_call(
                Method::POST,
                "integrations",
                Some(json!({"type": "slack", "name": "Slack", "credentials": {"bot_token": SLACK_BOT_TOKEN}})),
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.text());
        me.run_jobs().await;
        me
    }

    async fn install(&self) {
        let link = self.admin_call(Method::GET, "github/install", None).await;
        let cookie = link.cookie("repopal_install");
        let link = link.json();
        let url = url::Url::parse(link["data"]["url"].as_str().expect("install url")).expect("url");
        let state = url
            .query_pairs()
            .find(|(k, _)| k == "state")
            .expect("state")
            .1
            .into_owned();
        let res = self
            .app
            .browser_get(
                &format!("/api/v1/github/setup?installation_id={INSTALLATION}&setup_action=install&state={state}&code=setup-code"),
                cookie.as_deref(),
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.text());
    }

    /// `{method} /api/v1/orgs/{org}/{path}` as the org admin.
    pub async fn admin_call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> TestResponse {
        self.app
            .call(
                method,
                &format!("/api/v1/orgs/{}/{path}", self.org),
                Some(&self.admin.access_token),
                body,
            )
            .await
    }

    /// A worker with this setup's configuration, running until stopped.
    pub fn start_worker(&self) -> InProcessWorker {
        let pairs: Vec<(&str, &str)> = self.env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        InProcessWorker::start_with(self.app.db.pool.clone(), test_worker_config(&[]), &pairs)
    }

    /// This setup's configuration (fake URLs and the extra settings).
    pub fn env(&self) -> &[(&'static str, String)] {
        &self.env
    }

    /// Runs a worker until every incident-related queue is empty.
    pub async fn run_jobs(&self) {
        let pairs: Vec<(&str, &str)> = self.env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let worker =
            InProcessWorker::start_with(self.app.db.pool.clone(), test_worker_config(&[]), &pairs);
        drain(&self.app.db.pool, QUEUES, Duration::from_secs(60)).await;
        worker.stop().await;
    }

    /// Like [`Self::run_jobs`], for a test that expects jobs to die (e.g. Slack refusing a token):
    /// returns the dead jobs.
    pub async fn run_jobs_expecting_dead(&self) -> Vec<JobRow> {
        let pairs: Vec<(&str, &str)> = self.env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let worker =
            InProcessWorker::start_with(self.app.db.pool.clone(), test_worker_config(&[]), &pairs);
        let dead = drain_expecting_dead(&self.app.db.pool, QUEUES, Duration::from_secs(60)).await;
        worker.stop().await;
        dead
    }

    /// Like [`Self::run_jobs_expecting_dead`], when whether a job dies depends on timing: the dead
    /// jobs, possibly none.
    pub async fn run_jobs_allowing_dead(&self) -> Vec<JobRow> {
        let pairs: Vec<(&str, &str)> = self.env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let worker =
            InProcessWorker::start_with(self.app.db.pool.clone(), test_worker_config(&[]), &pairs);
        let dead = drain_allowing_dead(&self.app.db.pool, QUEUES, Duration::from_secs(60)).await;
        worker.stop().await;
        dead
    }

    /// The corpus `workflow_run.completed` payload for this repository, App installation and
    /// workflow, with the run's id, number, attempt, branch and conclusion set.
    pub fn workflow_run(
        &self,
        run_id: i64,
        run_number: i64,
        attempt: i64,
        branch: &str,
        conclusion: &str,
    ) -> Value {
        let mut p: Value = serde_json::from_str(include_str!(
            "../fixtures/github/webhooks/workflow_run/completed.payload.json"
        ))
        .expect("fixture");
        p["installation"] =
            json!({"id": INSTALLATION, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMjcxODI="});
        p["repository"]["id"] = json!(self.repo_github_id);
        p["repository"]["full_name"] = json!(self.full_name);
        let run = &mut p["workflow_run"];
        run["id"] = json!(run_id);
        run["run_number"] = json!(run_number);
        run["run_attempt"] = json!(attempt);
        run["head_branch"] = json!(branch);
        run["conclusion"] = json!(conclusion);
        run["status"] = json!("completed");
        run["html_url"] = json!(format!(
            "https://github.com/{}/actions/runs/{run_id}",
            self.full_name
        ));
        p
    }

    /// Sends `payload` as GitHub would (signed with the App's webhook secret).
    pub async fn deliver(&self, event: &str, delivery: &str, payload: &Value) -> TestResponse {
        let body = serde_json::to_vec(payload).expect("json");
        let req = Request::builder()
            .method(Method::POST)
            .uri("/api/v1/webhooks/github")
            .header("content-type", "application/json")
            .header("user-agent", "GitHub-Hookshot/044aadd")
            .header("x-github-event", event)
            .header("x-github-delivery", delivery)
            .header(
                "x-hub-signature-256",
                common::crypto::signature::sign(TEST_WEBHOOK_SECRET.as_bytes(), &body),
            )
            .body(Body::from(body))
            .expect("request");
        let res = self.app.request(req).await;
        assert!(res.status.is_success(), "{}", res.text());
        res
    }

    /// Delivers a completed run and processes it.
    pub async fn run_completes(&self, delivery: &str, payload: &Value) {
        self.deliver("workflow_run", delivery, payload).await;
        self.run_jobs().await;
    }

    /// The organisation's incidents (newest first).
    pub async fn incidents(&self) -> Vec<Value> {
        let res = self.admin_call(Method::GET, "incidents", None).await;
        assert_eq!(res.status, 200, "{}", res.text());
        res.json()["data"]["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    pub async fn incident(&self, id: &str) -> Value {
        let res = self
            .admin_call(Method::GET, &format!("incidents/{id}"), None)
            .await;
        assert_eq!(res.status, 200, "{}", res.text());
        res.json()["data"].clone()
    }
}
