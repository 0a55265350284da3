//! The one prepared setup `TestApp::builder()` returns for tests that need an organisation with a
//! monitored repository: the app, the fakes it talks to (GitHub, Slack, Argo CD), the org admin, and
//! the repository, reached either through a GitHub App installation (`monitored_repo`, `health`) or
//! through a user's GitHub connection (`oauth_repo`). How each is reached is in `monitored.rs` and
//! `oauth_monitored.rs`; the integration-health helpers are in `health.rs`.

use std::time::Duration;

use axum::http::Method;
use common::repo::jobs::JobRow;
use serde_json::Value;

use crate::{
    TestApp,
    auth::Session,
    fake_argocd::FakeArgo,
    fake_github::FakeGithub,
    fake_slack::FakeSlack,
    shapes::Page,
    worker::{
        InProcessWorker, drain, drain_allowing_dead, drain_expecting_dead, test_worker_config,
    },
};

/// How the setup's repository is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepoAccess {
    /// Through the GitHub App installation `monitored::INSTALLATION`.
    Installation,
    /// Through a user's GitHub connection (a repository hook, no installation).
    Connection,
}

pub struct Setup {
    pub github: FakeGithub,
    pub slack: FakeSlack,
    pub argo: FakeArgo,
    pub app: TestApp,
    pub admin: Session,
    pub org: String,
    /// RepoPal's id of the repository, its GitHub id and full name.
    pub repo: String,
    pub repo_github_id: i64,
    pub full_name: String,
    /// The GitHub connection the repository is reached through (`RepoAccess::Connection` only;
    /// empty otherwise).
    pub connection: String,
    pub access: RepoAccess,
    pub(crate) env: Vec<(&'static str, String)>,
}

impl Setup {
    /// The fakes started and the app built on a fresh database with their URLs, then `extra`.
    pub(crate) async fn with_fakes(
        access: RepoAccess,
        fixed: Vec<(&'static str, String)>,
        extra: &[(&'static str, &str)],
    ) -> Self {
        let github = FakeGithub::start().await;
        let slack = FakeSlack::start().await;
        let argo = FakeArgo::start().await;
        let mut env = github.env();
        env.push(("SLACK_API_URL", slack.url.clone()));
        env.push((
            "SLACK_AUTHORIZE_URL",
            format!("{}/oauth/v2/authorize", slack.url.trim_end_matches("/api")),
        ));
        env.extend(fixed);
        env.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let app = TestApp::with_env(&pairs).await;
        let (email, name) = match access {
            RepoAccess::Installation => ("incidents-admin@example.com", "Kilo"),
            RepoAccess::Connection => ("oauth-admin@example.com", "Oscar"),
        };
        let admin = app.register(email, Some(name)).await;
        let org = admin.first_org();
        Self {
            github,
            slack,
            argo,
            app,
            admin,
            org,
            repo: String::new(),
            repo_github_id: 0,
            full_name: String::new(),
            connection: String::new(),
            access,
            env,
        }
    }

    /// Reads the first repository the sync found.
    pub(crate) async fn take_first_repository(&mut self) -> Value {
        let repos: Page = self
            .as_admin()
            .call(Method::GET, "repositories", None, 200)
            .await;
        let repo = repos.items.into_iter().next().expect("a synced repository");
        self.repo = repo["id"].as_str().expect("a synced repository").to_owned();
        self.repo_github_id = repo["github_id"].as_i64().expect("github id");
        self.full_name = repo["full_name"].as_str().expect("name").to_owned();
        repo
    }

    /// This setup's configuration (fake URLs and the extra settings).
    pub fn env(&self) -> &[(&'static str, String)] {
        &self.env
    }

    /// A worker with this setup's configuration, running until stopped.
    pub fn start_worker(&self) -> InProcessWorker {
        let pairs: Vec<(&str, &str)> = self.env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        InProcessWorker::start_with(self.app.db.pool.clone(), test_worker_config(&[]), &pairs)
    }

    /// Every queue this setup's repository's life touches.
    pub fn queues(&self) -> &'static [&'static str] {
        match self.access {
            RepoAccess::Installation => crate::monitored::QUEUES,
            RepoAccess::Connection => crate::oauth_monitored::QUEUES,
        }
    }

    /// Runs a worker until every queue of this setup is empty (no job may die).
    pub async fn run_jobs(&self) {
        let worker = self.start_worker();
        drain(&self.app.db.pool, self.queues(), Duration::from_secs(60)).await;
        worker.stop().await;
    }

    /// Like [`Self::run_jobs`], for a test that expects jobs to die (e.g. Slack refusing a token):
    /// returns the dead jobs.
    pub async fn run_jobs_expecting_dead(&self) -> Vec<JobRow> {
        let worker = self.start_worker();
        let dead =
            drain_expecting_dead(&self.app.db.pool, self.queues(), Duration::from_secs(60)).await;
        worker.stop().await;
        dead
    }

    /// Like [`Self::run_jobs_expecting_dead`], when whether a job dies depends on timing: the dead
    /// jobs, possibly none.
    pub async fn run_jobs_allowing_dead(&self) -> Vec<JobRow> {
        let worker = self.start_worker();
        let dead =
            drain_allowing_dead(&self.app.db.pool, self.queues(), Duration::from_secs(60)).await;
        worker.stop().await;
        dead
    }
}
