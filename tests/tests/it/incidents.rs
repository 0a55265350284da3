//! Incidents from CI failures, end to end: signed `workflow_run` deliveries (the corpus payload,
//! re-signed, with ids and conclusions varied) go through the receiver and the worker into
//! incidents; context comes from the fake GitHub's jobs and logs; messages go to the fake Slack.

use axum::http::Method;
use repopal_tests::TestApp;
use repopal_tests::{
    Setup,
    app::ErrorEnvelope,
    fake_slack::Posted,
    monitored::CHANNELS,
    monitored::RunIds,
    shapes::{Created, Page},
};
use serde::Deserialize;
use serde_json::{Value, json};

/// A workflow run as the API lists it.
#[derive(Debug, Deserialize)]
struct Run {
    id: String,
    run_id: i64,
    status: String,
    conclusion: Option<String>,
    evaluation: Option<String>,
}

/// A workflow run's detail: the run and its jobs.
#[derive(Deserialize)]
struct RunDetail {
    jobs: Vec<Value>,
}

/// An in-app notification.
#[derive(Debug, Deserialize)]
struct Notification {
    id: String,
    kind: String,
    incident_id: Option<String>,
}

/// An incident as an action on it answers (the fields these tests read).
#[derive(Deserialize)]
struct IncidentState {
    status: String,
    acknowledged_by: Option<String>,
    resolved_at: Option<String>,
    resolution: Option<String>,
}

/// A started job to follow.
#[derive(Deserialize)]
struct JobStarted {
    job_id: String,
}

/// A job's state.
#[derive(Deserialize)]
struct Job {
    state: String,
}

/// An integration as the API lists it (the fields these tests read).
#[derive(Deserialize)]
struct Integration {
    id: String,
    status: String,
}

/// An entry of a list read only for its id (a webhook delivery).
#[derive(Deserialize)]
struct Listed {
    id: String,
}

/// An audit-log entry's action.
#[derive(Deserialize)]
struct AuditEntry {
    action: String,
}

fn kinds(incident: &Value) -> Vec<String> {
    incident["timeline"]
        .as_array()
        .expect("the incident has a timeline array")
        .iter()
        .map(|e| {
            e["kind"]
                .as_str()
                .expect("each timeline entry has a kind")
                .to_owned()
        })
        .collect()
}

fn texts(posted: &[Posted]) -> Vec<String> {
    posted.iter().map(|p| p.text.clone()).collect()
}

async fn count(m: &Setup, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(&m.app.db.pool)
        .await
        .expect("the count query runs")
}

#[tokio::test]
async fn a_failure_opens_one_incident_with_github_context_slack_messages_and_admin_notifications() {
    let m = TestApp::builder().monitored_repo().await;
    m.github.set_run_jobs(
        9001,
        &[
            ("build", "failure", Some("Run tests")),
            ("lint", "success", None),
        ],
    );
    m.run_completes(
        "d-1",
        &m.workflow_run(RunIds::first(9001, 10), "main", "failure"),
    )
    .await;

    let list = m.incidents().await;
    assert_eq!(list.len(), 1, "{list:?}");
    let id = list[0]["id"].as_str().unwrap();
    let incident = m.incident(id).await;
    assert_eq!(incident["status"], "open");
    assert_eq!(incident["occurrence_count"], 1);
    assert_eq!(incident["branch"], "main");
    assert_eq!(incident["workflow_name"], "test");
    assert_eq!(
        incident["title"],
        format!("test failing on main in {}", m.full_name)
    );
    assert_eq!(
        incident["head_sha"],
        "3484a3fb816e0859fd6e1cea078d76385ff50625"
    );
    assert_eq!(
        incident["suspect_author"],
        "Matthias Fax <matfax@users.noreply.github.com>"
    );
    assert_eq!(incident["occurrences"].as_array().unwrap().len(), 1);
    assert_eq!(incident["occurrences"][0]["run_id"], 9001);
    assert_eq!(kinds(&incident), ["opened", "context"]);

    // Context: the jobs and failed step from GitHub, with links and the failed job's log tail.
    let context = &incident["context"];
    assert_eq!(
        context["summary"],
        "1 of 2 jobs failed: build (step \"Run tests\")"
    );
    let failed = &context["failed_jobs"][0];
    assert_eq!(failed["name"], "build");
    assert_eq!(failed["failed_steps"], json!(["Run tests"]));
    assert!(failed["html_url"].as_str().unwrap().ends_with("/job/90010"));
    let tail = failed["log_tail"].as_str().unwrap();
    assert!(
        tail.ends_with("Error: Run tests failed with exit code 1"),
        "{tail}"
    );
    assert_eq!(tail.lines().count(), 30, "only the tail is kept");
    let calls = m.github.calls();
    let jobs_call = format!(
        "GET /repos/{}/actions/runs/9001/attempts/1/jobs",
        m.full_name
    );
    let log_call = format!("GET /repos/{}/actions/jobs/90010/logs", m.full_name);
    assert!(
        calls.contains(&jobs_call) && calls.contains(&log_call),
        "{calls:?}"
    );
    assert!(
        !calls.iter().any(|c| c.ends_with("/jobs/90011/logs")),
        "no log fetched for the job that passed"
    );

    // The run and its jobs are listed.
    let admin = m.as_admin();
    let runs: Page<Run> = admin.call(Method::GET, "workflow-runs", None, 200).await;
    assert_eq!(runs.items.len(), 1);
    let run = &runs.items[0];
    assert_eq!(
        (
            run.run_id,
            run.conclusion.as_deref(),
            run.evaluation.as_deref()
        ),
        (9001, Some("failure"), Some("opened"))
    );
    let detail: RunDetail = admin
        .call(Method::GET, &format!("workflow-runs/{}", run.id), None, 200)
        .await;
    assert_eq!(detail.jobs.len(), 2);

    // Slack: one message per mapped channel, with the bot token the integration holds.
    let posted = m.slack.posted();
    let mut channels: Vec<&str> = posted.iter().map(|p| p.channel.as_str()).collect();
    channels.sort();
    let mut expected = CHANNELS.to_vec();
    expected.sort();
    assert_eq!(
        channels, expected,
        "one message per mapped channel (jobs run in any order)"
    );
    for p in &posted {
        assert!(
            p.text.starts_with(&format!(
                ":red_circle: Incident opened: test failing on main in {}",
                m.full_name
            )),
            "{}",
            p.text
        );
        assert!(
            p.text.contains("Suspect commit 3484a3f by Matthias Fax"),
            "{}",
            p.text
        );
        assert!(p.text.contains("actions/runs/9001"), "{}", p.text);
    }

    // The org's admin has an in-app notification and can mark it read.
    let me = m.app.caller(Some(&m.admin));
    let list: Page<Notification> = me
        .call(Method::GET, "/api/v1/notifications?unread=true", None, 200)
        .await;
    let items = &list.items;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0].kind, "opened");
    assert_eq!(items[0].incident_id.as_deref(), Some(id));
    let read = format!("/api/v1/notifications/{}/read", items[0].id);
    let () = me.call(Method::POST, &read, None, 204).await;
    let unread: Page<Notification> = me
        .call(Method::GET, "/api/v1/notifications?unread=true", None, 200)
        .await;
    assert_eq!(unread.items.len(), 0);

    // Opening is audit-logged.
    assert_eq!(
        count(
            &m,
            "SELECT count(*) FROM audit_logs WHERE action = 'incident.open'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_second_failure_groups_into_the_incident_and_a_later_success_resolves_it() {
    let m = TestApp::builder().monitored_repo().await;
    m.run_completes(
        "d-1",
        &m.workflow_run(RunIds::first(7001, 20), "main", "failure"),
    )
    .await;
    m.run_completes(
        "d-2",
        &m.workflow_run(RunIds::first(7002, 21), "main", "failure"),
    )
    .await;
    let list = m.incidents().await;
    assert_eq!(list.len(), 1, "same workflow and branch: one incident");
    let id = list[0]["id"].as_str().unwrap().to_owned();
    let incident = m.incident(&id).await;
    assert_eq!(incident["occurrence_count"], 2);
    let runs: Vec<i64> = incident["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["run_id"].as_i64().unwrap())
        .collect();
    assert_eq!(runs, [7001, 7002]);
    // The "still failing" message is throttled: the opening message used this window's slot.
    assert_eq!(m.slack.posted().len(), 2, "{:?}", texts(&m.slack.posted()));

    // A failure on another branch is a different incident.
    m.run_completes(
        "d-3",
        &m.workflow_run(RunIds::first(7003, 22), "feature-x", "failure"),
    )
    .await;
    assert_eq!(m.incidents().await.len(), 2);

    m.run_completes(
        "d-4",
        &m.workflow_run(RunIds::first(7004, 23), "main", "success"),
    )
    .await;
    let incident = m.incident(&id).await;
    assert_eq!(incident["status"], "resolved");
    assert_eq!(
        incident["resolution"],
        "test run #23 (attempt 1) succeeded on main"
    );
    assert!(incident["resolved_by"].is_null(), "resolved automatically");
    assert_eq!(kinds(&incident).last().unwrap(), "resolved");
    let posted = texts(&m.slack.posted());
    // 2 opened (main) + 2 opened (feature-x) + 2 resolved (main).
    assert_eq!(posted.len(), 6, "{posted:?}");
    let resolved: Vec<&String> = posted
        .iter()
        .filter(|t| t.starts_with(":large_green_circle: Resolved:"))
        .collect();
    assert_eq!(resolved.len(), 2, "{posted:?}");
    assert!(resolved[0].contains("test run #23 (attempt 1) succeeded on main"));
    // The other branch stays open.
    let open: Page = m
        .as_admin()
        .call(Method::GET, "incidents?status=open", None, 200)
        .await;
    assert_eq!(open.items[0]["branch"], "feature-x");

    // After resolution, a new failure opens a new incident.
    m.run_completes(
        "d-5",
        &m.workflow_run(RunIds::first(7005, 24), "main", "failure"),
    )
    .await;
    assert_eq!(m.incidents().await.len(), 3);
    assert_eq!(
        count(
            &m,
            "SELECT count(*) FROM audit_logs WHERE action = 'incident.auto_resolve'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn still_failing_messages_go_out_once_per_window() {
    let m = TestApp::builder()
        .env("INCIDENT_NOTIFY_WINDOW_SECS", "0")
        .monitored_repo()
        .await;
    m.run_completes(
        "d-1",
        &m.workflow_run(RunIds::first(8001, 5), "main", "failure"),
    )
    .await;
    m.run_completes(
        "d-2",
        &m.workflow_run(RunIds::first(8002, 6), "main", "timed_out"),
    )
    .await;
    let posted = texts(&m.slack.posted());
    assert_eq!(posted.len(), 4, "{posted:?}");
    assert!(
        posted[2].starts_with(":repeat: Still failing (2 occurrences): test failing on main"),
        "{posted:?}"
    );
    let notes: Page<Notification> = m
        .app
        .caller(Some(&m.admin))
        .call(Method::GET, "/api/v1/notifications", None, 200)
        .await;
    let kinds: Vec<&str> = notes.items.iter().map(|n| n.kind.as_str()).collect();
    assert_eq!(kinds, ["still_failing", "opened"]);
}

#[tokio::test]
async fn stale_and_inconclusive_results_change_nothing() {
    let m = TestApp::builder().monitored_repo().await;
    m.run_completes(
        "d-1",
        &m.workflow_run(RunIds::first(6010, 10), "main", "failure"),
    )
    .await;
    // An older run's success arriving late does not resolve the newer failure.
    m.run_completes(
        "d-2",
        &m.workflow_run(RunIds::first(6009, 9), "main", "success"),
    )
    .await;
    // Cancelled, skipped and neutral results change nothing.
    for (i, conclusion) in ["cancelled", "skipped", "neutral"].iter().enumerate() {
        let run = 6011 + i as i64;
        m.run_completes(
            &format!("d-c{i}"),
            &m.workflow_run(
                RunIds {
                    run,
                    number: 11 + i as i64,
                    attempt: 1,
                },
                "main",
                conclusion,
            ),
        )
        .await;
    }
    let list = m.incidents().await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["status"], "open");
    assert_eq!(list[0]["occurrence_count"], 1);
    let evaluations: Vec<(i64, String)> =
        sqlx::query_as("SELECT run_id, evaluation FROM workflow_runs ORDER BY run_id")
            .fetch_all(&m.app.db.pool)
            .await
            .unwrap();
    assert_eq!(
        evaluations,
        [
            (6009, "stale".to_owned()),
            (6010, "opened".to_owned()),
            (6011, "no_change".to_owned()),
            (6012, "no_change".to_owned()),
            (6013, "no_change".to_owned()),
        ]
    );

    // A higher attempt of the same run that succeeds resolves it.
    m.run_completes(
        "d-3",
        &m.workflow_run(RunIds::attempt(6010, 10, 2), "main", "success"),
    )
    .await;
    let list = m.incidents().await;
    assert_eq!(list[0]["status"], "resolved");
    assert_eq!(
        list[0]["resolution"],
        "test run #10 (attempt 2) succeeded on main"
    );
    // The older failure's attempt 1, delivered again under a new id, is stale now: nothing reopens.
    m.run_completes(
        "d-4",
        &m.workflow_run(RunIds::first(6008, 8), "main", "failure"),
    )
    .await;
    let list = m.incidents().await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["status"], "resolved");
}

#[tokio::test]
async fn duplicate_deliveries_and_reprocessing_never_duplicate_incidents_or_occurrences() {
    let m = TestApp::builder().monitored_repo().await;
    let payload = m.workflow_run(RunIds::first(5001, 3), "main", "failure");
    m.deliver("workflow_run", "dup-1", &payload).await;
    let again = m.deliver("workflow_run", "dup-1", &payload).await;
    assert_eq!(again.json()["data"]["duplicate"], true);
    // The same run through another path (a repository hook, or GitHub redelivering under a new id).
    m.deliver("workflow_run", "dup-2", &payload).await;
    m.run_jobs().await;
    // Replaying the processed delivery runs the worker's handler again (at-least-once).
    let admin = m.as_admin();
    let deliveries: Page<Listed> = admin
        .call(Method::GET, "webhook-deliveries", None, 200)
        .await;
    for d in &deliveries.items {
        let replay = format!("webhook-deliveries/{}/replay", d.id);
        let _: JobStarted = admin.call(Method::POST, &replay, None, 202).await;
    }
    m.run_jobs().await;

    assert_eq!(count(&m, "SELECT count(*) FROM incidents").await, 1);
    assert_eq!(
        count(&m, "SELECT count(*) FROM incident_occurrences").await,
        1
    );
    assert_eq!(count(&m, "SELECT count(*) FROM workflow_runs").await, 1);
    assert_eq!(m.incidents().await[0]["occurrence_count"], 1);
    assert_eq!(m.slack.posted().len(), 2, "one message per channel, once");
    assert_eq!(count(&m, "SELECT count(*) FROM notifications").await, 1);
    assert_eq!(
        count(
            &m,
            "SELECT count(*) FROM incident_events WHERE kind = 'opened'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn slack_down_never_blocks_the_incident_and_the_message_is_retried() {
    let m = TestApp::builder().monitored_repo().await;
    m.slack.go_down_for(3);
    m.deliver(
        "workflow_run",
        "down-1",
        &m.workflow_run(RunIds::first(4001, 1), "main", "failure"),
    )
    .await;
    m.run_jobs().await;
    assert_eq!(m.incidents().await.len(), 1, "the incident exists");
    let posted = m.slack.posted();
    assert_eq!(
        posted.len(),
        2,
        "each channel got its message once: {posted:?}"
    );
    assert_eq!(m.slack.attempts(), 5, "three failed posts were retried");
    let retried: i64 = count(
        &m,
        "SELECT coalesce(sum(attempts), 0)::bigint FROM apalis.jobs WHERE job_type = 'notify_slack'",
    )
    .await;
    assert_eq!(retried, 5, "the retries were the notify jobs' own");
}

#[tokio::test]
async fn people_acknowledge_resolve_reopen_comment_and_rerun_with_audit() {
    let m = TestApp::builder().monitored_repo().await;
    m.run_completes(
        "d-1",
        &m.workflow_run(RunIds::first(3001, 30), "main", "failure"),
    )
    .await;
    let id = m.incidents().await[0]["id"].as_str().unwrap().to_owned();
    let path = |action: &str| format!("incidents/{id}/{action}");

    let admin = m.as_admin();

    let ack: IncidentState = admin
        .call(Method::POST, &path("acknowledge"), Some(json!({})), 200)
        .await;
    assert_eq!(ack.status, "acknowledged");
    assert_eq!(
        ack.acknowledged_by.as_deref(),
        Some(m.admin.user_id.as_str())
    );
    let again: ErrorEnvelope = admin
        .call(Method::POST, &path("acknowledge"), Some(json!({})), 409)
        .await;
    assert_eq!(again.error.code, "invalid_transition");

    let _: Value = admin
        .call(
            Method::POST,
            &path("comments"),
            Some(json!({"body": "Looking into the flaky test."})),
            201,
        )
        .await;
    let _: ErrorEnvelope = admin
        .call(
            Method::POST,
            &path("comments"),
            Some(json!({"body": "  "})),
            422,
        )
        .await;

    let resolve: IncidentState = admin
        .call(
            Method::POST,
            &path("resolve"),
            Some(json!({"note": "Reverted the bad commit"})),
            200,
        )
        .await;
    assert_eq!(
        resolve.resolution.as_deref(),
        Some("Reverted the bad commit")
    );
    m.run_jobs().await;
    let resolved: Vec<String> = texts(&m.slack.posted())
        .into_iter()
        .filter(|t| t.starts_with(":large_green_circle:"))
        .collect();
    assert_eq!(resolved.len(), 2, "a manual resolve is announced too");

    let reopen: IncidentState = admin
        .call(Method::POST, &path("reopen"), Some(json!({})), 200)
        .await;
    assert_eq!(reopen.status, "open");
    assert!(reopen.resolved_at.is_none());

    let incident = m.incident(&id).await;
    assert_eq!(
        kinds(&incident),
        [
            "opened",
            "context",
            "acknowledged",
            "comment",
            "resolved",
            "reopened"
        ]
    );
    assert_eq!(
        incident["timeline"][3]["body"],
        "Looking into the flaky test."
    );
    assert_eq!(incident["timeline"][3]["actor_id"], m.admin.user_id);
    let audit: Page<AuditEntry> = admin.call(Method::GET, "audit-logs", None, 200).await;
    let actions: Vec<&str> = audit.items.iter().map(|e| e.action.as_str()).collect();
    for expected in [
        "incident.open",
        "incident.acknowledge",
        "incident.comment",
        "incident.resolve",
        "incident.reopen",
        "integration.create",
        "integration.credentials_decrypt",
    ] {
        assert!(
            actions.contains(&expected),
            "{expected} missing from {actions:?}"
        );
    }

    // Re-run only the failed jobs: 202 with a job id; the worker calls GitHub.
    let runs: Page<Run> = admin.call(Method::GET, "workflow-runs", None, 200).await;
    let run_id = &runs.items[0].id;
    let rerun: JobStarted = admin
        .call(
            Method::POST,
            &format!("workflow-runs/{run_id}/rerun"),
            Some(json!({"failed_only": true})),
            202,
        )
        .await;
    let job = rerun.job_id;
    m.run_jobs().await;
    assert_eq!(
        m.github.count(&format!(
            "POST /repos/{}/actions/runs/3001/rerun-failed-jobs",
            m.full_name
        )),
        1
    );
    let state: Job = admin
        .call(Method::GET, &format!("jobs/{job}"), None, 200)
        .await;
    assert_eq!(state.state, "succeeded");

    // Stats per repository and workflow.
    m.run_completes(
        "d-2",
        &m.workflow_run(RunIds::first(3002, 31), "main", "success"),
    )
    .await;
    let stats: Page = admin
        .call(Method::GET, "workflow-runs/stats", None, 200)
        .await;
    let row = &stats.items[0];
    assert_eq!(
        (row["runs"].as_i64(), row["failures"].as_i64()),
        (Some(2), Some(1))
    );
    assert_eq!(row["failure_rate"], 0.5);
    assert_eq!(row["workflow_name"], "test");
    assert!(row["median_duration_ms"].is_number(), "{row}");

    // A viewer reads but cannot act.
    let viewer = m.app.register("viewer@example.com", None).await;
    let _: Created = admin
        .call(
            Method::POST,
            "invitations",
            Some(json!({"email": "viewer@example.com", "role": "viewer"})),
            201,
        )
        .await;
    let token = m.app.mailed_token("viewer@example.com").await;
    m.app.accept_invitation(&viewer, &token).await;
    let as_viewer = m.app.caller(Some(&viewer)).in_org(&m.org);
    let _: IncidentState = as_viewer
        .call(Method::GET, &format!("incidents/{id}"), None, 200)
        .await;
    let _: ErrorEnvelope = as_viewer
        .call(Method::POST, &path("acknowledge"), Some(json!({})), 403)
        .await;
}

#[tokio::test]
async fn slack_integration_credentials_are_write_only_and_validated() {
    let m = TestApp::builder().monitored_repo().await;
    let admin = m.as_admin();
    let list: Value = admin
        .call(Method::GET, "integrations?type=slack", None, 200)
        .await;
    let text = list.to_string();
    assert!(
        !text.contains(repopal_tests::fake_slack::SLACK_BOT_TOKEN),
        "{text}"
    );
    let item = &list["items"][0];
    assert_eq!(item["type"], "slack");
    assert_eq!(item["credentials"], json!({"bot_token": "…bqgy"}));
    let sealed: String =
        sqlx::query_scalar("SELECT credentials_sealed FROM integrations WHERE kind = 'slack'")
            .fetch_one(&m.app.db.pool)
            .await
            .unwrap();
    assert!(!sealed.contains("xoxb"), "sealed at rest");

    let bad: Value = admin
        .call(Method::POST, "integrations", Some(json!({"type": "slack", "name": "Other", "credentials": {"bot_token": "not-a-token"}})), 422)
        .await;
    let text = bad.to_string();
    assert!(text.contains("credentials.bot_token"), "{text}");
    assert!(
        !text.contains("not-a-token"),
        "the rejected value is not echoed"
    );
    let not_an_object: Value = admin
        .call(
            Method::POST,
            "integrations",
            Some(json!({"type": "slack", "name": "Str", "credentials": "xoxb-given-as-a-string"})),
            422,
        )
        .await;
    let text = not_an_object.to_string();
    assert!(!text.contains("xoxb-given"), "{text}");
    let _: ErrorEnvelope = admin
        .call(
            Method::POST,
            "integrations",
            Some(json!({"type": "pagerduty", "name": "PD", "credentials": {}})),
            422,
        )
        .await;
    let taken: ErrorEnvelope = admin
        .call(Method::POST, "integrations", Some(json!({"type": "slack", "name": "Slack", "credentials": {"bot_token": "xoxb-1-2-3456789"}})), 409)
        .await;
    assert_eq!(taken.error.code, "integration_name_taken");

    // A refused token marks the integration reauth_required and the post is not retried.
    sqlx::query("DELETE FROM integrations")
        .execute(&m.app.db.pool)
        .await
        .unwrap();
    let _: Created = admin
        .call(Method::POST, "integrations", Some(json!({"type": "slack", "name": "Slack", "credentials": {"bot_token": "xoxb-0000-revoked-token"}})), 201)
        .await;
    m.deliver(
        "workflow_run",
        "d-1",
        &m.workflow_run(RunIds::first(2001, 1), "main", "failure"),
    )
    .await;
    // The integration's first health check may mark the token refused before a post tries it
    // (then the post is skipped), so how many posts die depends on timing.
    let dead = m.run_jobs_allowing_dead().await;
    // Slack's refusal is permanent: the posts that reached Slack end dead, nothing else does.
    assert!(dead.len() <= 2, "{dead:?}");
    for job in &dead {
        assert_eq!(job.queue, "notify_slack", "{dead:?}");
        assert!(
            job.last_result
                .as_ref()
                .is_some_and(|r| r.to_string().contains("invalid_auth")),
            "{dead:?}"
        );
    }
    assert_eq!(m.slack.posted().len(), 0);
    // Each channel's job ran once: the refusal is permanent. Once the integration is marked, later
    // posts are skipped, so Slack saw one or two attempts depending on timing.
    assert!(m.slack.attempts() <= 2, "{}", m.slack.attempts());
    // When the health check marked the token first, the fan-out found no usable Slack integration
    // and enqueued no post at all; either way every post job that exists ran exactly once.
    let posts = count(
        &m,
        "SELECT count(*) FROM apalis.jobs WHERE job_type = 'notify_slack'",
    )
    .await;
    assert!(posts == 0 || posts == 2, "{posts} notify_slack jobs");
    assert_eq!(
        count(
            &m,
            "SELECT coalesce(sum(attempts), 0)::bigint FROM apalis.jobs WHERE job_type = 'notify_slack'"
        )
        .await,
        posts
    );
    let list: Page<Integration> = admin
        .call(Method::GET, "integrations?type=slack", None, 200)
        .await;
    assert_eq!(list.items[0].status, "reauth_required");
}

#[tokio::test]
async fn another_organisation_sees_none_of_it_on_any_new_route() {
    let m = TestApp::builder().monitored_repo().await;
    m.run_completes(
        "d-1",
        &m.workflow_run(RunIds::first(1001, 1), "main", "failure"),
    )
    .await;
    let incident = m.incidents().await[0]["id"].as_str().unwrap().to_owned();
    let admin = m.as_admin();
    let runs: Page<Run> = admin.call(Method::GET, "workflow-runs", None, 200).await;
    let run = &runs.items[0].id;
    let integrations: Page<Integration> = admin.call(Method::GET, "integrations", None, 200).await;
    let integration = &integrations.items[0].id;
    let notes: Page<Notification> = m
        .app
        .caller(Some(&m.admin))
        .call(Method::GET, "/api/v1/notifications", None, 200)
        .await;
    let note = &notes.items[0].id;

    let other = m
        .app
        .register("other-admin@example.com", Some("Other"))
        .await;
    let mine = other.first_org();
    let theirs = &m.org;
    let as_other = m.app.caller(Some(&other));
    let body = Some(json!({}));
    let cases: Vec<(Method, String, Option<Value>)> = vec![
        (
            Method::GET,
            format!("/api/v1/orgs/{theirs}/incidents"),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/orgs/{theirs}/incidents/{incident}"),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/orgs/{mine}/incidents/{incident}"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/orgs/{mine}/incidents/{incident}/acknowledge"),
            body.clone(),
        ),
        (
            Method::POST,
            format!("/api/v1/orgs/{mine}/incidents/{incident}/resolve"),
            body.clone(),
        ),
        (
            Method::POST,
            format!("/api/v1/orgs/{mine}/incidents/{incident}/reopen"),
            body.clone(),
        ),
        (
            Method::POST,
            format!("/api/v1/orgs/{mine}/incidents/{incident}/comments"),
            Some(json!({"body": "hi"})),
        ),
        (
            Method::POST,
            format!("/api/v1/orgs/{theirs}/incidents/{incident}/comments"),
            Some(json!({"body": "hi"})),
        ),
        (
            Method::GET,
            format!("/api/v1/orgs/{theirs}/workflow-runs"),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/orgs/{theirs}/workflow-runs/stats"),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/orgs/{mine}/workflow-runs/{run}"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/orgs/{mine}/workflow-runs/{run}/rerun"),
            body.clone(),
        ),
        (
            Method::GET,
            format!("/api/v1/orgs/{theirs}/integrations"),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/orgs/{mine}/integrations/{integration}"),
            None,
        ),
        (
            Method::DELETE,
            format!("/api/v1/orgs/{mine}/integrations/{integration}"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/notifications/{note}/read"),
            None,
        ),
    ];
    for (method, path, body) in cases {
        let _: ErrorEnvelope = as_other.call(method, &path, body, 404).await;
    }
    for path in [
        "incidents",
        "workflow-runs",
        "workflow-runs/stats",
        "integrations",
    ] {
        let page: Page = as_other
            .call(
                Method::GET,
                &format!("/api/v1/orgs/{mine}/{path}"),
                None,
                200,
            )
            .await;
        assert!(page.items.is_empty(), "{path}: {:?}", page.items);
    }
    let notes: Page = as_other
        .call(Method::GET, "/api/v1/notifications", None, 200)
        .await;
    assert!(notes.items.is_empty(), "{:?}", notes.items);
    // Nothing changed for the owner.
    let still = m.incident(&incident).await;
    assert_eq!(
        (
            still["status"].as_str(),
            still["timeline"].as_array().unwrap().len()
        ),
        (Some("open"), 2)
    );
    let integrations: Page<Integration> = admin.call(Method::GET, "integrations", None, 200).await;
    assert_eq!(
        integrations.items.len(),
        2,
        "the Slack integration and the installation's"
    );
}

#[tokio::test]
async fn workflow_job_and_check_suite_deliveries_are_recorded_and_a_suite_completes_its_run() {
    let m = TestApp::builder().monitored_repo().await;
    // The run starts (no conclusion yet): recorded, no incident.
    let mut started = m.workflow_run(RunIds::first(6601, 40), "main", "failure");
    started["action"] = json!("in_progress");
    started["workflow_run"]["status"] = json!("in_progress");
    started["workflow_run"]["conclusion"] = Value::Null;
    m.run_completes("s-1", &started).await;
    assert_eq!(m.incidents().await.len(), 0);

    // One of its jobs fails (the corpus workflow_job payload).
    let mut job: Value = serde_json::from_str(include_str!(
        "../../fixtures/github/webhooks/workflow_job/completed.failure.with-organization.payload.json"
    ))
    .unwrap();
    job["installation"] = json!({"id": repopal_tests::monitored::INSTALLATION});
    job["repository"]["id"] = json!(m.repo_github_id);
    job["workflow_job"]["run_id"] = json!(6601);
    job["workflow_job"]["run_attempt"] = json!(1);
    m.deliver("workflow_job", "s-2", &job).await;
    m.run_jobs().await;
    let admin = m.as_admin();
    let runs: Page<Run> = admin.call(Method::GET, "workflow-runs", None, 200).await;
    let run = &runs.items[0];
    assert_eq!(run.status, "in_progress");
    let detail: RunDetail = admin
        .call(Method::GET, &format!("workflow-runs/{}", run.id), None, 200)
        .await;
    let jobs = detail.jobs;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0]["name"], "linters");
    assert_eq!(jobs[0]["conclusion"], "failure");
    assert_eq!(
        jobs[0]["failed_steps"],
        json!(["Run yarn run format-check"])
    );

    // The run's completed delivery is lost; its check suite's completion still completes the run.
    let mut suite: Value = serde_json::from_str(include_str!(
        "../../fixtures/github/webhooks/check_suite/completed.payload.json"
    ))
    .unwrap();
    suite["installation"] = json!({"id": repopal_tests::monitored::INSTALLATION});
    suite["repository"]["id"] = json!(m.repo_github_id);
    suite["check_suite"]["id"] = started["workflow_run"]["check_suite_id"].clone();
    suite["check_suite"]["conclusion"] = json!("failure");
    m.deliver("check_suite", "s-3", &suite).await;
    m.run_jobs().await;
    let list = m.incidents().await;
    assert_eq!(list.len(), 1, "the suite's failure opened the incident");
    assert_eq!(
        list[0]["occurrences"],
        Value::Null,
        "list items are summaries"
    );
    let runs: Page<Run> = admin
        .call(Method::GET, "workflow-runs?conclusion=failure", None, 200)
        .await;
    assert_eq!(runs.items[0].evaluation.as_deref(), Some("opened"));

    // Deliveries for a repository RepoPal does not monitor are kept and marked ignored.
    let mut other = m.workflow_run(RunIds::first(6602, 41), "main", "failure");
    other["repository"]["id"] = json!(999_999_999);
    m.run_completes("s-4", &other).await;
    let status: String = sqlx::query_scalar(
        "SELECT status_detail FROM webhook_deliveries WHERE delivery_id = 's-4'",
    )
    .fetch_one(&m.app.db.pool)
    .await
    .unwrap();
    assert_eq!(status, "workflow_run: repository not monitored");
    assert_eq!(m.incidents().await.len(), 1);

    // A payload RepoPal cannot read is kept and marked failed, with the reason.
    let mut broken = m.workflow_run(RunIds::first(6603, 42), "main", "failure");
    broken["workflow_run"]["run_number"] = json!("forty-two");
    m.run_completes("s-5", &broken).await;
    let (status, detail): (String, String) = sqlx::query_as(
        "SELECT status, status_detail FROM webhook_deliveries WHERE delivery_id = 's-5'",
    )
    .fetch_one(&m.app.db.pool)
    .await
    .unwrap();
    assert_eq!(status, "failed");
    assert!(
        detail.starts_with("workflow_run payload: invalid type"),
        "{detail}"
    );
}
