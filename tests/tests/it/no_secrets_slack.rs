//! The Slack bot token never appears in a log line or a response: the whole incident flow (setup,
//! a failure, Slack posts, a Slack that refuses a token) runs with every log line captured.

use axum::http::Method;
use repopal_tests::TestApp;
use repopal_tests::shapes::Page;
use repopal_tests::{fake_slack::SLACK_BOT_TOKEN, log_capture::CapturedLogs, monitored::RunIds};
use serde_json::{Value, json};

#[tokio::test]
async fn the_slack_bot_token_never_reaches_logs_or_responses() {
    let logs = CapturedLogs::install();
    let refused = "xoxb-0000-refused-token-value";

    let m = TestApp::builder().monitored_repo().await;
    m.run_completes(
        "n-1",
        &m.workflow_run(RunIds::first(1, 1), "main", "failure"),
    )
    .await;
    assert_eq!(m.slack.posted().len(), 2);
    // A token Slack refuses: its error travels through the job, the integration and the logs.
    sqlx::query("DELETE FROM integrations")
        .execute(&m.app.db.pool)
        .await
        .unwrap();
    let created: Value = m
        .as_admin()
        .call(
            Method::POST,
            "integrations",
            Some(json!({"type": "slack", "name": "Slack", "credentials": {"bot_token": refused}})),
            201,
        )
        .await;
    // The refused post dies, unless the integration's first health check marked it refused
    // first (then the post is skipped): which one happens depends on timing.
    m.deliver(
        "workflow_run",
        "n-2",
        &m.workflow_run(RunIds::first(2, 2), "main", "success"),
    )
    .await;
    let dead = m.run_jobs_allowing_dead().await;
    assert!(
        dead.iter().all(|j| j.queue == "notify_slack"),
        "only the refused Slack posts die: {dead:?}"
    );
    let listed: Page = m
        .as_admin()
        .call(Method::GET, "integrations?type=slack", None, 200)
        .await;
    assert_eq!(listed.items[0]["status"], "reauth_required");

    // Every answer whole (a success envelope holds nothing but `data`).
    let mut responses = vec![created.to_string()];
    for path in [
        "integrations",
        "incidents",
        "audit-logs",
        "workflow-runs",
        "webhook-deliveries",
    ] {
        let res: Value = m.as_admin().call(Method::GET, path, None, 200).await;
        responses.push(res.to_string());
    }
    let incident = m.incidents().await[0]["id"].as_str().unwrap().to_owned();
    let shown: Value = m
        .as_admin()
        .call(Method::GET, &format!("incidents/{incident}"), None, 200)
        .await;
    responses.push(shown.to_string());
    let logs = logs.text();
    assert!(logs.contains("slack notification"), "the flow was logged");
    for secret in [SLACK_BOT_TOKEN, refused] {
        assert!(!logs.contains(secret), "a log line holds a Slack token");
        for r in &responses {
            assert!(!r.contains(secret), "a response holds a Slack token: {r}");
        }
    }
}
