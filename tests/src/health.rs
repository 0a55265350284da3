//! The health setup: the installation setup (GitHub App installation with a hooked repository,
//! Slack, and the fake Argo CD every setup has) with health settings that keep scheduled checks out of the way (tests
//! make a check due explicitly and wait for its history row), and helpers for the API.

use std::time::Duration;

use axum::http::Method;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    fake_argocd::ARGOCD_TOKEN,
    fake_slack::{SLACK_CLIENT_ID, SLACK_CLIENT_SECRET},
    http::TestResponse,
    setup::Setup,
    shapes::{Created, Link, Page},
};

/// A check job as the timeout message prints it: key, status, run at, attempts, last result.
type CheckJobRow = (String, String, DateTime<Utc>, i32, Option<Value>);

/// Health settings for tests: a scheduled check never comes due by itself during a test (an hour,
/// and ten minutes after a failure), retries inside a check are quick, requests time out after 1 s.
pub const HEALTH_ENV: &[(&str, &str)] = &[
    ("HEALTH_CHECK_INTERVAL_SECS", "3600"),
    ("HEALTH_RETRY_BASE_SECS", "600"),
    ("HEALTH_ERROR_AFTER", "3"),
    ("HEALTH_INLINE_RETRIES", "2"),
    ("HEALTH_INLINE_RETRY_MS", "10"),
    ("HEALTH_MAX_INLINE_WAIT_SECS", "2"),
    ("HEALTH_REQUEST_TIMEOUT_SECS", "1"),
    ("SLACK_CLIENT_ID", SLACK_CLIENT_ID),
    ("SLACK_CLIENT_SECRET", SLACK_CLIENT_SECRET),
    (
        "SLACK_AUTHORIZE_URL",
        "https://slack.test/oauth/v2/authorize",
    ),
];

impl Setup {
    /// The installation setup with `HEALTH_ENV`, overridden by `extra`.
    pub(crate) async fn with_health_env(extra: &[(&'static str, &str)]) -> Self {
        let mut env: Vec<(&'static str, &str)> = HEALTH_ENV
            .iter()
            .filter(|(k, _)| !extra.iter().any(|(e, _)| e == k))
            .copied()
            .collect();
        env.extend_from_slice(extra);
        Self::installation(1, &env).await
    }

    /// Creates an integration; panics unless 201. Returns its id.
    pub async fn create(&self, kind: &str, name: &str, config: Value, credentials: Value) -> Uuid {
        let body =
            json!({"type": kind, "name": name, "config": config, "credentials": credentials});
        let created: Created = self
            .as_admin()
            .call(Method::POST, "integrations", Some(body), 201)
            .await;
        created.id
    }

    /// An Argo CD integration against the fake, with its valid token.
    pub async fn create_argocd(&self, name: &str) -> Uuid {
        self.create(
            "argocd",
            name,
            json!({"server_url": self.argo.url}),
            json!({"token": ARGOCD_TOKEN}),
        )
        .await
    }

    /// The `github_app` integration created when the installation was linked.
    pub async fn installation_integration(&self) -> Uuid {
        let list: Page = self
            .as_admin()
            .call(Method::GET, "integrations?type=github_app", None, 200)
            .await;
        let items = &list.items;
        assert_eq!(
            items.len(),
            1,
            "one integration per installation: {items:?}"
        );
        assert_eq!(
            items[0]["config"]["installation_id"],
            crate::monitored::INSTALLATION
        );
        items[0]["id"].as_str().expect("id").parse().expect("uuid")
    }

    pub async fn health(&self, id: Uuid) -> Value {
        self.as_admin()
            .call(Method::GET, &format!("integrations/{id}/health"), None, 200)
            .await
    }

    /// Makes the integration's next check due at the next whole second (or a second after its
    /// last checked one, so every due time is new: a due time whose job already ran can never be
    /// chosen again), enqueues its job as the scheduler's fan-out would, and waits (a worker must be
    /// running) for its history row, which it returns.
    pub async fn check_now(&self, id: Uuid) -> Value {
        let pool = &self.app.db.pool;
        // Under the row lock (a running check holds it until its result is written), so the last
        // recorded due time is read after any check in flight has committed.
        let mut tx = pool.begin().await.expect("transaction");
        sqlx::query("SELECT 1 FROM integrations WHERE id = $1 FOR UPDATE")
            .bind(id)
            .execute(&mut *tx)
            .await
            .expect("lock");
        let due: DateTime<Utc> = sqlx::query_scalar(
            "UPDATE integrations SET next_check_at = greatest(
                 date_trunc('second', clock_timestamp()) + interval '1 second',
                 (SELECT max(due_at) FROM integration_checks WHERE integration_id = $1) + interval '1 second')
             WHERE id = $1 RETURNING next_check_at",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .expect("make due");
        tx.commit().await.expect("commit");
        let mut conn = pool.acquire().await.expect("connection");
        common::integrations::schedule_check(&mut conn, common::domain::IntegrationId(id), due)
            .await
            .expect("enqueue the check");
        self.wait_for_check(id, due).await
    }

    /// Waits for the scheduled check of `due` and returns it as the API shows it.
    pub async fn wait_for_check(&self, id: Uuid, due: DateTime<Utc>) -> Value {
        let pool = &self.app.db.pool;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let n: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM integration_checks WHERE integration_id = $1 AND due_at = $2",
            )
            .bind(id)
            .bind(due)
            .fetch_one(pool)
            .await
            .expect("count checks");
            if n == 1 {
                break;
            }
            if tokio::time::Instant::now() > deadline {
                let state: (Option<DateTime<Utc>>, String, bool) = sqlx::query_as(
                    "SELECT next_check_at, status, enabled FROM integrations WHERE id = $1",
                )
                .bind(id)
                .fetch_one(pool)
                .await
                .expect("integration");
                let jobs: Vec<CheckJobRow> = sqlx::query_as(
                    "SELECT idempotency_key, status, run_at, attempts, last_result FROM apalis.jobs
                     WHERE idempotency_key LIKE 'check:' || $1 || ':%' ORDER BY run_at",
                )
                .bind(id.to_string())
                .fetch_all(pool)
                .await
                .expect("jobs");
                panic!("no check for due {due} after 30 s; integration {state:?}; jobs {jobs:#?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let path = format!("integrations/{id}/health/history?limit=1");
        let history: Page = self.as_admin().call(Method::GET, &path, None, 200).await;
        history
            .items
            .into_iter()
            .next()
            .expect("the check's history row")
    }

    /// Starts "Add to Slack": the query of Slack's authorize URL (`client_id`, `state`, …), plus
    /// `cookie`: the `name=value` of the browser cookie the callback needs.
    pub async fn slack_authorize(&self) -> std::collections::HashMap<String, String> {
        let res = self
            .as_admin()
            .send(Method::GET, "slack/authorize", None)
            .await;
        assert_eq!(res.status, 200, "{}", res.text());
        let cookie = res.cookie("repopal_slack").expect("the Slack flow cookie");
        let link: Link = crate::app::decode(&res);
        let url = url::Url::parse(&link.url).expect("url");
        let mut q: std::collections::HashMap<String, String> =
            url.query_pairs().into_owned().collect();
        q.insert("host".into(), url.host_str().unwrap_or_default().to_owned());
        q.insert("cookie".into(), cookie);
        q
    }

    /// Slack's redirect back to RepoPal with `code` and `state`, in a browser presenting `cookie`.
    pub async fn slack_callback(
        &self,
        code: &str,
        state: &str,
        cookie: Option<&str>,
    ) -> TestResponse {
        self.app
            .browser_get(
                &format!("/api/v1/slack/callback?code={code}&state={state}"),
                cookie,
            )
            .await
    }

    /// Connects a Slack workspace through OAuth (Slack grants `code`); returns the integration id.
    pub async fn connect_slack(&self, code: &str, rotation: bool) -> Uuid {
        let q = self.slack_authorize().await;
        self.slack.authorize_code(code, rotation);
        let res = self
            .slack_callback(code, &q["state"], Some(&q["cookie"]))
            .await;
        assert!(res.status.is_success(), "{}", res.text());
        res.json()["data"]["id"]
            .as_str()
            .expect("id")
            .parse()
            .expect("uuid")
    }

    /// Runs the token job's fan-out now and waits for the refreshes it enqueues (a worker must be
    /// running).
    pub async fn run_token_refresh(&self) {
        let pool = &self.app.db.pool;
        let mut conn = pool.acquire().await.expect("connection");
        common::jobs::push(&mut conn, &common::jobs::RefreshDueTokens {})
            .await
            .expect("enqueue");
        crate::worker::drain(
            pool,
            &["refresh_due_tokens", "refresh_integration_token"],
            Duration::from_secs(30),
        )
        .await;
    }

    /// The in-app notifications of the org admin.
    pub async fn notifications(&self) -> Vec<Value> {
        let page: Page = self
            .app
            .caller(Some(&self.admin))
            .call(Method::GET, "/api/v1/notifications", None, 200)
            .await;
        page.items
    }
}
