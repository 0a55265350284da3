//! Retention: each class of history is pruned at its `RETENTION_*` age by the `prune_history` job,
//! and nothing younger (or kept on purpose) is touched.

use std::time::Duration;

use axum::http::Method;
use chrono::{DateTime, Utc};
use common::jobs::{self, Job, PruneHistory};
use repopal_tests::{
    TestApp,
    app::ErrorEnvelope,
    auth::Session,
    shapes::{Created, Page},
    worker::{InProcessWorker, drain, test_worker_config},
};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

const DAY: i64 = 24 * 3600;

fn ago(days: i64, extra_secs: i64) -> DateTime<Utc> {
    Utc::now() - chrono::Duration::seconds(days * DAY + extra_secs)
}

/// A listed webhook delivery (only its id is read).
#[derive(Debug, Deserialize)]
struct Delivery {
    id: Uuid,
}

struct Seeded {
    org: Uuid,
    user: Uuid,
    integration: Uuid,
}

async fn seed(app: &TestApp) -> (Seeded, Session) {
    let session = app.register("keeper@example.com", Some("Keepers")).await;
    let org: Uuid = session.first_org().parse().expect("the org id is a UUID");
    let created: Created = app
        .caller(Some(&session))
        .in_org(&org.to_string())
        .call(
            Method::POST,
            "integrations",
            Some(json!({
                "type": "http",
                "name": "status page",
                "config": {"url": "https://status.example.com/health", "method": "GET", "expected_status": 200},
                "credentials": {},
            })),
            201,
        )
        .await;
    let seeded = Seeded {
        org,
        user: session.user_id.parse().expect("the user id is a UUID"),
        integration: created.id,
    };
    (seeded, session)
}

async fn delivery(app: &TestApp, org: Uuid, status: &str, received_at: DateTime<Utc>) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, delivery_id, event, org_id, payload, status, received_at)
         VALUES ($1, $2, 'ping', $3, '{\"zen\":\"keep it logically awesome\"}'::bytea, $4, $5)",
    )
    .bind(id)
    .bind(id.to_string())
    .bind(org)
    .bind(status)
    .bind(received_at)
    .execute(&app.db.pool)
    .await
    .expect("the webhook delivery row is inserted");
    id
}

async fn check(app: &TestApp, s: &Seeded, at: DateTime<Utc>) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO integration_checks (integration_id, org_id, source, checked_at, ok, latency_ms,
                                         attempts, status_before, status_after)
         VALUES ($1, $2, 'manual', $3, true, 12, 1, 'active', 'active') RETURNING id",
    )
    .bind(s.integration)
    .bind(s.org)
    .bind(at)
    .fetch_one(&app.db.pool)
    .await
    .expect("the integration check row is inserted")
}

async fn notification(app: &TestApp, s: &Seeded, at: DateTime<Utc>) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO notifications (user_id, org_id, kind, title, created_at)
         VALUES ($1, $2, 'incident_opened', 'CI is red', $3) RETURNING id",
    )
    .bind(s.user)
    .bind(s.org)
    .bind(at)
    .fetch_one(&app.db.pool)
    .await
    .expect("the notification row is inserted")
}

async fn audit_entry(app: &TestApp, s: &Seeded, at: DateTime<Utc>) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO audit_logs (org_id, actor_user_id, action, status, created_at)
         VALUES ($1, $2, 'org.update', 'success', $3) RETURNING id",
    )
    .bind(s.org)
    .bind(s.user)
    .bind(at)
    .fetch_one(&app.db.pool)
    .await
    .expect("the audit log row is inserted")
}

async fn prune(app: &TestApp, settings: &[(&str, &str)]) {
    let mut conn = app.db.pool.acquire().await.expect("a pool connection");
    jobs::push(&mut conn, &PruneHistory {})
        .await
        .expect("the prune job is pushed");
    drop(conn);
    let worker = InProcessWorker::start(app.db.pool.clone(), test_worker_config(settings));
    drain(
        &app.db.pool,
        &[PruneHistory::QUEUE.name],
        Duration::from_secs(60),
    )
    .await;
    worker.stop().await;
}

async fn exists(app: &TestApp, sql: &str, id: impl ToString) -> bool {
    sqlx::query_scalar::<_, bool>(sqlx::AssertSqlSafe(format!("SELECT EXISTS ({sql})")))
        .bind(id.to_string())
        .fetch_one(&app.db.pool)
        .await
        .expect("the exists query runs")
}

async fn payload_len(app: &TestApp, id: Uuid) -> (i32, bool) {
    sqlx::query_as(
        "SELECT length(payload), payload_pruned_at IS NOT NULL FROM webhook_deliveries WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&app.db.pool)
    .await
    .expect("the payload query runs")
}

#[tokio::test]
async fn each_class_is_pruned_at_its_default_age_and_nothing_younger_is_touched() {
    let app = TestApp::builder().build().await;
    let (s, _) = seed(&app).await;
    // One row an hour past each default age, one an hour short of it.
    let old_delivery = delivery(&app, s.org, "processed", ago(30, 3600)).await;
    let young_delivery = delivery(&app, s.org, "processed", ago(30, -3600)).await;
    let old_check = check(&app, &s, ago(30, 3600)).await;
    let young_check = check(&app, &s, ago(30, -3600)).await;
    let old_note = notification(&app, &s, ago(90, 3600)).await;
    let young_note = notification(&app, &s, ago(90, -3600)).await;
    let old_audit = audit_entry(&app, &s, ago(365, 3600)).await;
    let young_audit = audit_entry(&app, &s, ago(365, -3600)).await;

    prune(&app, &[]).await;

    assert_eq!(
        payload_len(&app, old_delivery).await,
        (0, true),
        "old payload dropped"
    );
    assert!(
        exists(
            &app,
            "SELECT 1 FROM webhook_deliveries WHERE id = $1::uuid",
            old_delivery
        )
        .await,
        "the delivery row itself is kept"
    );
    let (len, pruned) = payload_len(&app, young_delivery).await;
    assert!(len > 0 && !pruned, "a younger payload stays");
    let checks = "SELECT 1 FROM integration_checks WHERE id = $1::uuid";
    assert!(!exists(&app, checks, old_check).await);
    assert!(exists(&app, checks, young_check).await);
    let notes = "SELECT 1 FROM notifications WHERE id = $1::uuid";
    assert!(!exists(&app, notes, old_note).await);
    assert!(exists(&app, notes, young_note).await);
    let audit = "SELECT 1 FROM audit_logs WHERE id = $1::bigint";
    assert!(!exists(&app, audit, old_audit).await);
    assert!(exists(&app, audit, young_audit).await);
}

#[tokio::test]
async fn the_settings_move_each_age_and_pending_deliveries_keep_their_payload() {
    let app = TestApp::builder().build().await;
    let (s, _) = seed(&app).await;
    let settings = [
        ("RETENTION_DELIVERY_PAYLOAD_DAYS", "2"),
        ("RETENTION_CHECK_HISTORY_DAYS", "3"),
        ("RETENTION_NOTIFICATIONS_DAYS", "4"),
        ("RETENTION_AUDIT_DAYS", "5"),
    ];
    let old_delivery = delivery(&app, s.org, "ignored", ago(2, 60)).await;
    let young_delivery = delivery(&app, s.org, "failed", ago(1, 0)).await;
    // Not processed yet: an accepted delivery is never lost to retention, however old.
    let pending = delivery(&app, s.org, "received", ago(400, 0)).await;
    let old_check = check(&app, &s, ago(3, 60)).await;
    let young_check = check(&app, &s, ago(2, 0)).await;
    let old_note = notification(&app, &s, ago(4, 60)).await;
    let young_note = notification(&app, &s, ago(3, 0)).await;
    let old_audit = audit_entry(&app, &s, ago(5, 60)).await;
    let young_audit = audit_entry(&app, &s, ago(4, 0)).await;

    prune(&app, &settings).await;

    assert!(payload_len(&app, old_delivery).await.1);
    assert!(!payload_len(&app, young_delivery).await.1);
    assert!(
        !payload_len(&app, pending).await.1,
        "pending deliveries keep their payload"
    );
    let checks = "SELECT 1 FROM integration_checks WHERE id = $1::uuid";
    assert!(!exists(&app, checks, old_check).await);
    assert!(exists(&app, checks, young_check).await);
    let notes = "SELECT 1 FROM notifications WHERE id = $1::uuid";
    assert!(!exists(&app, notes, old_note).await);
    assert!(exists(&app, notes, young_note).await);
    let audit = "SELECT 1 FROM audit_logs WHERE id = $1::bigint";
    assert!(!exists(&app, audit, old_audit).await);
    assert!(exists(&app, audit, young_audit).await);
}

#[tokio::test]
async fn a_delivery_whose_payload_was_pruned_is_listed_but_cannot_be_replayed() {
    let app = TestApp::builder().build().await;
    let (s, session) = seed(&app).await;
    let old = delivery(&app, s.org, "processed", ago(31, 0)).await;
    prune(&app, &[]).await;

    let admin = app.caller(Some(&session)).in_org(&s.org.to_string());
    let replay: ErrorEnvelope = admin
        .call(
            Method::POST,
            &format!("webhook-deliveries/{old}/replay"),
            None,
            409,
        )
        .await;
    assert_eq!(replay.error.code, "payload_pruned", "{replay:?}");
    let listed: Page<Delivery> = admin
        .call(Method::GET, "webhook-deliveries", None, 200)
        .await;
    assert!(
        listed.items.iter().any(|d| d.id == old),
        "{:?}",
        listed.items
    );
    let replays: i32 =
        sqlx::query_scalar("SELECT replay_count FROM webhook_deliveries WHERE id = $1")
            .bind(old)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(replays, 0, "a refused replay is not counted");
}

#[tokio::test]
async fn retention_settings_refuse_zero_absurd_and_malformed_values() {
    use common::config::WorkerConfig;
    for (name, value) in [
        ("RETENTION_AUDIT_DAYS", "0"),
        ("RETENTION_CHECK_HISTORY_DAYS", "99999999999999999999999"),
        ("RETENTION_NOTIFICATIONS_DAYS", "-3"),
        ("RETENTION_DELIVERY_PAYLOAD_DAYS", "36501"),
        ("RETENTION_JOBS_HOURS", "1e3"),
    ] {
        let env: std::collections::HashMap<String, String> =
            [(name.to_owned(), value.to_owned())].into_iter().collect();
        let err = WorkerConfig::from_source(&env).expect_err(name).to_string();
        assert!(err.contains(name), "{err}");
    }
    let env: std::collections::HashMap<String, String> =
        [("JOB_RETENTION_HOURS".to_owned(), "12".to_owned())]
            .into_iter()
            .collect();
    let cfg = WorkerConfig::from_source(&env).unwrap();
    assert_eq!(
        cfg.retention.jobs,
        Duration::from_secs(12 * 3600),
        "the earlier name still works"
    );
    assert_eq!(cfg.retention.audit, Duration::from_secs(365 * 24 * 3600));
}
