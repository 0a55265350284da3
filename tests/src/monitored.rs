//! The installation setup: an organisation with a GitHub App installation, one monitored
//! repository mapped to Slack channels, and a Slack integration, all set up through the API and the
//! worker against fake GitHub and Slack servers; plus signed `workflow_run` deliveries made from the
//! corpus payload.

use axum::{
    body::Body,
    http::{Method, Request},
};
use serde_json::{Value, json};

use crate::{
    fake_github::FakeAccount,
    fake_slack::SLACK_BOT_TOKEN,
    http::{TEST_WEBHOOK_SECRET, TestResponse},
    setup::{RepoAccess, Setup},
    shapes::{Created, Page},
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

/// A workflow run's id, number and attempt, as GitHub numbers them.
#[derive(Debug, Clone, Copy)]
pub struct RunIds {
    pub run: i64,
    pub number: i64,
    pub attempt: i64,
}

impl RunIds {
    /// A run's first attempt.
    pub fn first(run: i64, number: i64) -> Self {
        Self::attempt(run, number, 1)
    }

    /// A given attempt of a run.
    pub fn attempt(run: i64, number: i64, attempt: i64) -> Self {
        Self {
            run,
            number,
            attempt,
        }
    }
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

impl Setup {
    /// Everything set up with `n` repositories on the installation (`acme/repo-00001`…); the
    /// first is the monitored one.
    pub(crate) async fn installation(n: usize, extra: &[(&'static str, &str)]) -> Self {
        let mut me = Self::with_fakes(RepoAccess::Installation, Vec::new(), extra).await;
        me.github.set_repositories(n);
        me.github.admin_installation(&installer(), INSTALLATION);
        me.github.authorize("setup-code", installer());
        me.install().await;
        me.run_jobs().await;
        me.take_first_repository().await;
        let admin = me.as_admin();
        let path = format!("repositories/{}/connect", me.repo);
        let _: Value = admin.call(Method::POST, &path, None, 202).await;
        let path = format!("repositories/{}", me.repo);
        let channels = json!({"slack_channels": CHANNELS});
        let _: Value = admin.call(Method::PATCH, &path, Some(channels), 200).await;
        let slack = json!({"type": "slack", "name": "Slack", "credentials": {"bot_token": SLACK_BOT_TOKEN}});
        let _: Created = admin
            .call(Method::POST, "integrations", Some(slack), 201)
            .await;
        me.run_jobs().await;
        me
    }

    async fn install(&self) {
        let link = self
            .as_admin()
            .send(Method::GET, "github/install", None)
            .await;
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

    /// The corpus `workflow_run.completed` payload for this repository, App installation and
    /// workflow, with the run's id, number, attempt, branch and conclusion set.
    pub fn workflow_run(&self, ids: RunIds, branch: &str, conclusion: &str) -> Value {
        let RunIds {
            run: run_id,
            number: run_number,
            attempt,
        } = ids;
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
        let page: Page = self
            .as_admin()
            .call(Method::GET, "incidents", None, 200)
            .await;
        page.items
    }

    pub async fn incident(&self, id: &str) -> Value {
        self.as_admin()
            .call(Method::GET, &format!("incidents/{id}"), None, 200)
            .await
    }
}
