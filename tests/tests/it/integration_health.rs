//! Scheduled health checks: the state machine against a fake Argo CD that fails, times out and
//! rate-limits; the computed delays; notifications only into `error` and back to `active`;
//! recovery actions (installation token re-minted, vanished hook reinstalled, expired Slack token
//! refreshed, refused credential → `reauth_required`); one check per due time across three real
//! worker processes.

use repopal_tests::TestApp;
use std::time::Duration;

use axum::http::Method;
use chrono::{DateTime, Utc};
use repopal_tests::{
    fake_argocd::FakeArgo,
    fake_faults::Fault,
    monitored::INSTALLATION,
    monitored::RunIds,
    process::spawn,
    shapes::{Created, Page},
    worker::eventually,
};
use serde_json::{Value, json};
use uuid::Uuid;

fn at(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .unwrap_or_else(|| panic!("a timestamp, got {v}"))
        .parse()
        .expect("RFC 3339")
}

/// Seconds from the last check to the next one.
fn delay_secs(health: &Value) -> i64 {
    (at(&health["next_check_at"]) - at(&health["last_check_at"])).num_seconds()
}

#[tokio::test]
async fn the_state_machine_degrades_errors_disables_and_recovers_with_computed_delays() {
    let h = TestApp::builder().health().await;
    let worker = h.start_worker();
    let id = h.create_argocd("Argo").await;
    // Health alerts also go to the Slack integration's alert channel.
    let slacks: Page<Created> = h
        .as_admin()
        .call(Method::GET, "integrations?type=slack", None, 200)
        .await;
    let slack = slacks.items[0].id;
    let _: Value = h
        .as_admin()
        .call(
            Method::PATCH,
            &format!("integrations/{slack}"),
            Some(json!({"config": {"alert_channel": "#ops"}})),
            200,
        )
        .await;

    // Created → checked at once.
    let first = h.check_now(id).await;
    assert_eq!(first["ok"], true, "{first}");
    assert_eq!(first["details"]["applications"], 1);
    let health = h.health(id).await;
    assert_eq!(health["status"], "active");
    assert!(
        (3600..=3601).contains(&delay_secs(&health)),
        "healthy: the interval"
    );

    // Argo CD answers 500 from now on: degraded, degraded, error.
    h.argo.set_fault(Some(Fault::ServerError));
    let calls = h.argo.count("/api/v1/applications");
    let c1 = h.check_now(id).await;
    assert_eq!(
        (c1["ok"].clone(), c1["attempts"].clone()),
        (json!(false), json!(3)),
        "1 + 2 retries inside the check: {c1}"
    );
    assert_eq!(h.argo.count("/api/v1/applications") - calls, 3);
    assert_eq!(
        (c1["status_before"].as_str(), c1["status_after"].as_str()),
        (Some("active"), Some("degraded"))
    );
    let health = h.health(id).await;
    assert_eq!(health["consecutive_failures"], 1);
    let d = delay_secs(&health);
    assert!(
        (480..=600).contains(&d),
        "first failure: 600 s minus up to 20% jitter, got {d}"
    );
    assert!(
        health["last_error"].as_str().unwrap().contains("500"),
        "{health}"
    );

    let c2 = h.check_now(id).await;
    assert_eq!(c2["status_after"], "degraded");
    let d = delay_secs(&h.health(id).await);
    assert!(
        (960..=1200).contains(&d),
        "second failure: doubled, got {d}"
    );
    assert!(
        h.notifications()
            .await
            .iter()
            .all(|n| n["integration_id"].is_null()),
        "no message while degraded"
    );

    let c3 = h.check_now(id).await;
    assert_eq!(
        (c3["status_before"].as_str(), c3["status_after"].as_str()),
        (Some("degraded"), Some("error"))
    );
    let d = delay_secs(&h.health(id).await);
    assert!(
        (1920..=2400).contains(&d),
        "third failure: doubled again, got {d}"
    );
    let c4 = h.check_now(id).await;
    assert_eq!(c4["status_after"], "error");
    let d = delay_secs(&h.health(id).await);
    assert!(
        (2880..=3600).contains(&d),
        "capped at the interval, got {d}"
    );
    let alerts: Vec<Value> = h
        .notifications()
        .await
        .into_iter()
        .filter(|n| n["integration_id"] == json!(id.to_string()))
        .collect();
    assert_eq!(
        alerts.len(),
        1,
        "one notification on entering error: {alerts:?}"
    );
    assert_eq!(alerts[0]["kind"], "integration_error");

    // Argo CD is back: active, announced once.
    h.argo.set_fault(None);
    let back = h.check_now(id).await;
    assert_eq!(
        (
            back["status_before"].as_str(),
            back["status_after"].as_str()
        ),
        (Some("error"), Some("active"))
    );
    let health = h.health(id).await;
    assert_eq!(
        (
            health["consecutive_failures"].clone(),
            health["failing_since"].clone()
        ),
        (json!(0), Value::Null)
    );
    let kinds: Vec<String> = h
        .notifications()
        .await
        .iter()
        .filter(|n| n["integration_id"] == json!(id.to_string()))
        .map(|n| n["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["integration_recovered", "integration_error"]);
    let alerts = eventually("two Slack alerts", Duration::from_secs(30), || async {
        let posted: Vec<_> = h
            .slack
            .posted()
            .into_iter()
            .filter(|p| p.channel == "#ops")
            .collect();
        (posted.len() >= 2).then_some(posted)
    })
    .await;
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    assert!(
        alerts[0].text.starts_with(
            ":red_circle: The argocd integration \"Argo\" is failing: Argo CD answered 500"
        ),
        "{alerts:?}"
    );
    assert_eq!(
        alerts[1].text,
        ":large_green_circle: The argocd integration \"Argo\" is healthy again."
    );

    // Failing for longer than HEALTH_DISABLE_AFTER_DAYS (3): disabled, and no more checks.
    h.argo.set_fault(Some(Fault::Unavailable));
    assert_eq!(h.check_now(id).await["status_after"], "degraded");
    sqlx::query("UPDATE integrations SET failing_since = now() - interval '4 days' WHERE id = $1")
        .bind(id)
        .execute(&h.app.db.pool)
        .await
        .unwrap();
    let off = h.check_now(id).await;
    assert_eq!(off["status_after"], "disabled");
    let health = h.health(id).await;
    assert_eq!(health["next_check_at"], Value::Null);
    assert_eq!(
        common::integrations::check_due(&h.app.db.pool)
            .await
            .unwrap(),
        0,
        "a disabled integration is not checked"
    );

    // Every transition is in the history and the integration's log.
    let transitions: Page = h
        .as_admin()
        .call(
            Method::GET,
            &format!("integrations/{id}/health/history?transitions=true"),
            None,
            200,
        )
        .await;
    let pairs: Vec<(String, String)> = transitions
        .items
        .iter()
        .map(|c| {
            (
                c["status_before"].as_str().unwrap().into(),
                c["status_after"].as_str().unwrap().into(),
            )
        })
        .collect();
    let expect = [
        ("degraded", "disabled"),
        ("active", "degraded"),
        ("error", "active"),
        ("degraded", "error"),
        ("active", "degraded"),
    ];
    assert_eq!(pairs, expect.map(|(a, b)| (a.to_owned(), b.to_owned())));
    let logs: Page = h
        .as_admin()
        .call(Method::GET, &format!("integrations/{id}/logs"), None, 200)
        .await;
    let transitions_logged = logs
        .items
        .iter()
        .filter(|e| e["action"] == "integration.health_transition")
        .count();
    assert_eq!(transitions_logged, 5);

    // Enabling again starts afresh and checks at once.
    h.argo.set_fault(None);
    let enabled: Value = h
        .as_admin()
        .call(
            Method::POST,
            &format!("integrations/{id}/enable"),
            Some(json!({})),
            200,
        )
        .await;
    assert_eq!(enabled["status"], "active");
    let due = at(&enabled["next_check_at"]);
    let again = h.wait_for_check(id, due).await;
    assert_eq!(
        (again["ok"].clone(), again["status_after"].clone()),
        (json!(true), json!("active"))
    );

    // Metrics count every request the checks made.
    let metrics: Value = h
        .as_admin()
        .call(
            Method::GET,
            &format!("integrations/{id}/metrics"),
            None,
            200,
        )
        .await;
    let m = &metrics;
    assert_eq!(
        m["api_calls"].as_i64(),
        Some(h.argo.count("/api/v1/applications") as i64)
    );
    assert_eq!(
        m["api_errors"], 18,
        "six failed checks of three requests each: {m}"
    );
    assert_eq!(m["health_status"], "active");
    let text = h.app.metrics().await.text();
    assert!(
        text.contains(&format!(
            "repopal_integration_up{{org_id=\"{}\",integration_id=\"{id}\",type=\"argocd\"}} 1",
            h.org
        )),
        "{text}"
    );
    worker.stop().await;
}

#[tokio::test]
async fn retry_after_is_honoured_inside_a_check_or_by_the_next_check() {
    let h = TestApp::builder()
        .env("HEALTH_RETRY_BASE_SECS", "5")
        .health()
        .await;
    let worker = h.start_worker();
    let id = h.create_argocd("Argo").await;
    h.check_now(id).await;

    // A short Retry-After is waited for inside the check, then the retry succeeds.
    h.argo.fault_next(&[Fault::RateLimited(1)]);
    let c = h.check_now(id).await;
    assert_eq!(
        (c["ok"].clone(), c["attempts"].clone()),
        (json!(true), json!(2)),
        "{c}"
    );
    assert!(
        c["latency_ms"].as_i64().unwrap() >= 1000,
        "waited the second Argo CD asked for: {c}"
    );

    // A short one every time: the retries stop at HEALTH_INLINE_RETRIES however often it comes.
    h.argo.set_fault(Some(Fault::RateLimited(1)));
    let c = h.check_now(id).await;
    assert_eq!(
        (c["ok"].clone(), c["attempts"].clone()),
        (json!(false), json!(3)),
        "{c}"
    );
    h.argo.set_fault(None);

    // A long one ends the check at once; the next check comes after it, not after the backoff.
    h.argo.set_fault(Some(Fault::RateLimited(120)));
    let c = h.check_now(id).await;
    assert_eq!(
        (c["ok"].clone(), c["attempts"].clone()),
        (json!(false), json!(1)),
        "{c}"
    );
    let health = h.health(id).await;
    let d = delay_secs(&health);
    assert!(
        (119..=121).contains(&d),
        "Retry-After 120 s beats the 5 s backoff, got {d}"
    );

    // A server slower than the request timeout is a failure too (timed out, retried).
    h.argo.set_fault(Some(Fault::Slow(3000)));
    let c = h.check_now(id).await;
    assert_eq!(
        (c["ok"].clone(), c["attempts"].clone()),
        (json!(false), json!(3)),
        "{c}"
    );
    assert!(c["error"].as_str().unwrap().contains("timed out"), "{c}");
    worker.stop().await;
}

#[tokio::test]
async fn recovery_actions_refresh_tokens_reinstall_hooks_and_stop_on_refused_credentials() {
    let h = TestApp::builder().health().await;
    let worker = h.start_worker();

    // GitHub App installation: a revoked installation token is replaced by a new one.
    // Linking the installation created its integration; its first check is an interval away.
    let app = h.installation_integration().await;
    let health = h.health(app).await;
    assert_eq!(health["last_check_at"], Value::Null);
    assert!(health["next_check_at"].is_string());
    let first = h.check_now(app).await;
    assert_eq!(first["ok"], true, "{first}");
    assert_eq!(first["details"]["hooks_checked"], 1);
    let mints = h.github.count(&format!(
        "POST /app/installations/{INSTALLATION}/access_tokens"
    ));
    h.github.revoke_installation_tokens();
    let c = h.check_now(app).await;
    assert_eq!(
        (c["ok"].clone(), c["action"].clone()),
        (json!(true), json!("token_refreshed")),
        "{c}"
    );
    assert!(
        h.github.count(&format!(
            "POST /app/installations/{INSTALLATION}/access_tokens"
        )) > mints
    );

    // The repository's hook was deleted on GitHub: the ping finds it gone and it is reinstalled.
    let hooks = h.github.hooks();
    assert_eq!(hooks.len(), 1);
    h.github.drop_hook(hooks[0].id);
    let c = h.check_now(app).await;
    assert_eq!(
        (c["ok"].clone(), c["action"].clone()),
        (json!(true), json!("hook_reinstall")),
        "{c}"
    );
    assert_eq!(c["details"]["hooks_reinstalled"], json!([h.full_name]));
    let old = hooks[0].id;
    eventually("a new hook installed", Duration::from_secs(30), || async {
        let hooks = h.github.hooks();
        (hooks.len() == 1 && hooks[0].id != old).then_some(())
    })
    .await;
    let next = h.check_now(app).await;
    assert_eq!(
        (next["ok"].clone(), next["action"].clone()),
        (json!(true), Value::Null),
        "the new hook answers: {next}"
    );

    // Slack with token rotation: an expired token is refreshed during the check.
    let slack = h.connect_slack("rotating-code", true).await;
    let c = h.check_now(slack).await;
    assert_eq!(c["ok"], true, "{c}");
    let token = h.slack.issued_tokens().last().cloned().unwrap();
    h.slack.expire_token(&token);
    let c = h.check_now(slack).await;
    assert_eq!(
        (
            c["ok"].clone(),
            c["action"].clone(),
            c["status_after"].clone()
        ),
        (json!(true), json!("token_refreshed"), json!("active")),
        "{c}"
    );
    assert_eq!(h.slack.refresh_tokens_used(), 1);

    // A credential Slack refuses outright: reauth_required, and no more checks.
    let token = h.slack.issued_tokens().last().cloned().unwrap();
    h.slack.revoke_token(&token);
    let auth_tests = h.slack.count("auth.test");
    let c = h.check_now(slack).await;
    assert_eq!(
        (c["ok"].clone(), c["status_after"].clone()),
        (json!(false), json!("reauth_required")),
        "{c}"
    );
    assert_eq!(
        h.slack.count("auth.test") - auth_tests,
        1,
        "a refused credential is not retried"
    );
    let health = h.health(slack).await;
    assert_eq!(health["next_check_at"], Value::Null);
    let pool = &h.app.db.pool;
    let jobs_for = |id: Uuid| async move {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM apalis.jobs WHERE job_type = 'check_integration' AND idempotency_key LIKE 'check:' || $1 || ':%'")
            .bind(id.to_string())
            .fetch_one(pool)
            .await
            .unwrap()
    };
    let before = jobs_for(slack).await;
    sqlx::query("UPDATE integrations SET next_check_at = now() WHERE id = $1")
        .bind(slack)
        .execute(pool)
        .await
        .unwrap();
    common::integrations::check_due(pool).await.unwrap();
    assert_eq!(
        jobs_for(slack).await,
        before,
        "no more checks until new credentials"
    );
    worker.stop().await;
}

#[tokio::test]
async fn three_worker_processes_check_each_due_time_once() {
    let argo = FakeArgo::start().await;
    let h = TestApp::builder()
        .env("HEALTH_CHECK_INTERVAL_SECS", "1")
        .health()
        .await;
    let db = &h.app.db;
    let ids = [
        h.create_argocd("Argo A").await,
        h.create_argocd("Argo B").await,
    ];
    let http = h
        .create(
            "http",
            "Probe",
            json!({"url": format!("{}/healthz", argo.url)}),
            json!({}),
        )
        .await;
    let mut env: Vec<(&str, String)> = h.env().iter().map(|(k, v)| (*k, v.clone())).collect();
    env.extend([
        ("DATABASE_URL", db.url.clone()),
        (
            "ENCRYPTION_KEYS",
            repopal_tests::http::TEST_ENCRYPTION_KEYS.to_owned(),
        ),
        ("WORKER_HEARTBEAT_SECS", "1".into()),
        ("WORKER_SHUTDOWN_TIMEOUT_SECS", "4".into()),
        ("WORKER_POLL_INTERVAL_MS", "100".into()),
        ("SCHEDULER_TICK_SECS", "1".into()),
        // The fake Argo CD and the probe target listen on 127.0.0.1.
        ("OUTBOUND_ALLOWED_CIDRS", "127.0.0.1/32".into()),
    ]);
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let workers: Vec<_> = (0..3)
        .map(|_| spawn("repopal-worker", &[], &pairs))
        .collect();

    // Every integration checked at least five times, by whichever worker got each due time.
    for id in ids.iter().chain([&http]) {
        eventually("five scheduled checks", Duration::from_secs(60), || async {
            let n: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM integration_checks WHERE integration_id = $1",
            )
            .bind(id)
            .fetch_one(&db.pool)
            .await
            .ok()?;
            (n >= 5).then_some(())
        })
        .await;
    }
    for w in &workers {
        w.signal(nix::sys::signal::Signal::SIGTERM);
    }
    for mut w in workers {
        let _ = tokio::time::timeout(Duration::from_secs(20), w.child.wait()).await;
    }
    // One job per due time, and each ran its requests once: the fake saw exactly the checks' attempts.
    // Each checked due time had exactly one job (keyed by the due time), which finished.
    let (checks, with_one_job): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE (SELECT count(*) FROM apalis.jobs j
              WHERE j.job_type = 'check_integration' AND j.status = 'Done'
                AND j.idempotency_key = 'check:' || c.integration_id || ':' || extract(epoch FROM c.due_at)::bigint) = 1)
         FROM integration_checks c WHERE c.integration_id = ANY($1)",
    )
    .bind(&ids[..])
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        checks, with_one_job,
        "every due time was checked by exactly one job"
    );
    let attempts: i64 = sqlx::query_scalar(
        "SELECT coalesce(sum(attempts), 0) FROM integration_checks WHERE integration_id = ANY($1)",
    )
    .bind(&ids[..])
    .fetch_one(&db.pool)
    .await
    .unwrap();
    // The workers' scheduler also syncs each Argo CD integration once (its first due time), with
    // one request of its own.
    let syncs: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM integrations WHERE id = ANY($1) AND last_sync_at IS NOT NULL",
    )
    .bind(&ids[..])
    .fetch_one(&db.pool)
    .await
    .expect("count syncs");
    assert_eq!(
        (attempts + syncs) as usize,
        h.argo.count("/api/v1/applications"),
        "no check ran twice"
    );
    let probe_checks: i64 =
        sqlx::query_scalar("SELECT count(*) FROM integration_checks WHERE integration_id = $1")
            .bind(http)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(probe_checks as usize, argo.count("/healthz"));
    let ran_by: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT lock_by) FROM apalis.jobs WHERE job_type = 'check_integration' AND lock_by IS NOT NULL",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(
        ran_by >= 2,
        "the checks were spread over the workers ({ran_by})"
    );
}

#[tokio::test]
async fn a_slack_post_that_meets_an_expired_rotating_token_refreshes_it_and_posts() {
    let h = TestApp::builder().health().await;
    sqlx::query("DELETE FROM integrations WHERE kind = 'slack'")
        .execute(&h.app.db.pool)
        .await
        .unwrap();
    let slack = h.connect_slack("rotating-code", true).await;
    // No health check of it in this test: only the posts can meet the expired token.
    sqlx::query("UPDATE integrations SET next_check_at = NULL WHERE id = $1")
        .bind(slack)
        .execute(&h.app.db.pool)
        .await
        .unwrap();
    let token = h.slack.issued_tokens().last().cloned().unwrap();
    h.slack.expire_token(&token);

    // A failing run opens an incident: both channels' posts meet the expired token first.
    h.run_completes(
        "d-1",
        &h.workflow_run(RunIds::first(1, 1), "main", "failure"),
    )
    .await;
    assert_eq!(
        h.slack.refresh_tokens_used(),
        1,
        "refreshed once for both posts"
    );
    let posted = h.slack.posted();
    assert_eq!(posted.len(), 2, "{posted:?}");
    let health = h.health(slack).await;
    assert_eq!(health["status"], "active", "{health}");
    let history: Page = h
        .as_admin()
        .call(
            Method::GET,
            &format!("integrations/{slack}/health/history"),
            None,
            200,
        )
        .await;
    assert!(
        history.items.is_empty(),
        "no check did it: {:?}",
        history.items
    );
}
