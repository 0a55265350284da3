//! Effects happen once across crashes: a real worker SIGKILLed after the provider accepted an
//! effect and before the ledger committed it does not repeat the effect when the job runs again.

use repopal_tests::TestApp;
use std::time::Duration;

use axum::http::Method;
use serde_json::Value;

use nix::sys::signal::Signal;
use repopal_tests::{
    Setup,
    monitored::RunIds,
    monitored::{CHANNELS, QUEUES},
    process::{Proc, spawn},
    shapes::{Created, Page},
    worker::{drain, eventually},
};

/// The real worker binary with the setup's fakes and fast crash recovery.
fn worker(m: &Setup) -> Proc {
    let mut env = repopal_tests::http::test_env(&m.app.db.url);
    for (k, v) in m.env() {
        env.insert((*k).to_owned(), v.clone());
    }
    for (k, v) in [
        ("WORKER_HEARTBEAT_SECS", "1"),
        ("WORKER_MISSED_HEARTBEATS", "3"),
        ("WORKER_POLL_INTERVAL_MS", "100"),
        ("WORKER_SHUTDOWN_TIMEOUT_SECS", "2"),
        ("JOB_RETRY_BASE_MS", "20"),
        ("JOB_RETRY_MAX_SECS", "1"),
        ("SCHEDULER_TICK_SECS", "3600"),
    ] {
        env.insert(k.to_owned(), v.to_owned());
    }
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    spawn("repopal-worker", &[], &pairs)
}

#[tokio::test]
async fn a_slack_post_interrupted_after_slack_accepted_it_is_not_repeated() {
    let m = TestApp::builder().monitored_repo().await;
    // Slack accepts every post but the worker never hears back.
    m.slack.hold_answers(true);
    let failure = m.workflow_run(RunIds::first(880_001, 41), "main", "failure");
    m.deliver("workflow_run", "effects-once-1", &failure).await;

    let mut victim = worker(&m);
    eventually(
        "Slack to accept a post whose answer is held back",
        Duration::from_secs(60),
        || async { (m.slack.held() >= 1).then_some(()) },
    )
    .await;
    victim.signal(Signal::SIGKILL);
    let _ = victim.child.wait().await;
    let accepted_before_the_crash = m.slack.posted().len();
    assert!(accepted_before_the_crash >= 1);
    m.slack.hold_answers(false);

    let survivor = worker(&m);
    drain(&m.app.db.pool, QUEUES, Duration::from_secs(90)).await;

    let posted = m.slack.posted();
    for channel in CHANNELS {
        let to_channel: Vec<_> = posted.iter().filter(|p| p.channel == channel).collect();
        assert_eq!(
            to_channel.len(),
            1,
            "one message in {channel}: {posted:?}\n{}",
            survivor.log_text()
        );
        assert!(to_channel[0].text.contains("Incident opened"));
        // The one message carries RepoPal's key in its metadata.
        let history = m.slack.history(channel);
        assert_eq!(history.len(), 1, "{history:?}");
        assert_eq!(history[0]["metadata"]["event_type"], "repopal_message");
        assert!(
            history[0]["metadata"]["event_payload"]["idempotency_key"]
                .as_str()
                .is_some_and(|k| k.starts_with("slack:"))
        );
    }
    assert!(
        m.slack.count("conversations.history") >= accepted_before_the_crash,
        "every interrupted post was looked up before posting again"
    );
    assert!(
        survivor
            .log_text()
            .contains("an earlier attempt already posted this message"),
        "{}",
        survivor.log_text()
    );
}

#[tokio::test]
async fn a_workflow_rerun_interrupted_after_github_accepted_it_is_not_repeated() {
    let m = TestApp::builder().monitored_repo().await;
    let run_id = 880_002;
    m.run_completes(
        "effects-once-rerun",
        &m.workflow_run(RunIds::first(run_id, 12), "main", "failure"),
    )
    .await;
    let runs: Page<Created> = m
        .as_admin()
        .call(Method::GET, "workflow-runs", None, 200)
        .await;
    let id = runs.items.first().expect("a stored run").id;
    // GitHub applies the re-run but the worker never hears back.
    m.github.hold_reruns(true);
    let _: Value = m
        .as_admin()
        .call(
            Method::POST,
            &format!("workflow-runs/{id}/rerun"),
            Some(serde_json::json!({"failed_only": false})),
            202,
        )
        .await;

    let mut victim = worker(&m);
    eventually(
        "GitHub to accept the re-run",
        Duration::from_secs(60),
        || async { (m.github.held_reruns() >= 1).then_some(()) },
    )
    .await;
    victim.signal(Signal::SIGKILL);
    let _ = victim.child.wait().await;
    m.github.hold_reruns(false);

    let survivor = worker(&m);
    drain(&m.app.db.pool, QUEUES, Duration::from_secs(90)).await;
    let post = format!("POST /repos/{}/actions/runs/{run_id}/rerun", m.full_name);
    assert_eq!(m.github.count(&post), 1, "{}", survivor.log_text());
    assert_eq!(m.github.run_attempt(run_id), 2, "re-run exactly once");
    assert!(
        survivor
            .log_text()
            .contains("an earlier attempt of this job already re-ran the workflow"),
        "{}",
        survivor.log_text()
    );
}

#[tokio::test]
async fn a_hook_created_just_before_a_crash_is_adopted_not_created_again() {
    let m = TestApp::builder().monitored_repo().await;
    let base = format!("repositories/{}", m.repo);
    let _: Value = m
        .as_admin()
        .call(Method::POST, &format!("{base}/disconnect"), None, 202)
        .await;
    m.run_jobs().await;
    assert!(m.github.hooks().is_empty());
    let creations = format!("POST /repos/{}/hooks", m.full_name);
    let created_before = m.github.count(&creations);

    // GitHub creates the hook but the worker never hears back.
    m.github.hold_hook_creations(true);
    let _: Value = m
        .as_admin()
        .call(Method::POST, &format!("{base}/connect"), None, 202)
        .await;
    let mut victim = worker(&m);
    eventually(
        "GitHub to create the hook",
        Duration::from_secs(60),
        || async { (m.github.held_hook_creations() >= 1).then_some(()) },
    )
    .await;
    victim.signal(Signal::SIGKILL);
    let _ = victim.child.wait().await;
    m.github.hold_hook_creations(false);

    let survivor = worker(&m);
    drain(&m.app.db.pool, QUEUES, Duration::from_secs(90)).await;
    assert_eq!(
        m.github.count(&creations) - created_before,
        1,
        "created once: {}",
        survivor.log_text()
    );
    let hooks = m.github.hooks();
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    let stored: Vec<i64> = sqlx::query_scalar("SELECT hook_id FROM github_repository_hooks")
        .fetch_all(&m.app.db.pool)
        .await
        .expect("hooks");
    assert_eq!(stored, vec![hooks[0].id]);
    let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM github_pending_hook_secrets")
        .fetch_one(&m.app.db.pool)
        .await
        .expect("pending");
    assert_eq!(pending, 0, "the pending secret became the hook's");
    let state: String =
        sqlx::query_scalar("SELECT hook_state FROM repositories WHERE id = $1::uuid")
            .bind(&m.repo)
            .fetch_one(&m.app.db.pool)
            .await
            .expect("hook state");
    assert_eq!(state, "active");
    assert!(
        survivor
            .log_text()
            .contains("adopted the hook an interrupted attempt created"),
        "{}",
        survivor.log_text()
    );
    // The adopted secret is the one GitHub signs with: a delivery signed with it is accepted.
    let body = serde_json::to_vec(&m.workflow_run(RunIds::first(880_003, 3), "main", "success"))
        .expect("json");
    let req = axum::http::Request::builder()
        .method(axum::http::Method::POST)
        .uri("/api/v1/webhooks/github")
        .header("content-type", "application/json")
        .header("x-github-event", "workflow_run")
        .header("x-github-delivery", "adopted-hook-delivery")
        .header("x-github-hook-id", hooks[0].id.to_string())
        .header(
            "x-hub-signature-256",
            common::crypto::signature::sign(hooks[0].secret.as_bytes(), &body),
        )
        .body(axum::body::Body::from(body))
        .expect("request");
    let res = m.app.request(req).await;
    assert!(res.status.is_success(), "{} {}", res.status, res.text());
}
