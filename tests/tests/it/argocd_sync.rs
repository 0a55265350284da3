//! Argo CD as an incident source, against the wire-faithful fake Argo CD: a sync stores the
//! applications (listed with filters and cursor paging, removed ones marked), runs once per due
//! time across workers, honours `namespace`, `tls_verify` and a CA bundle; a Degraded application
//! opens one incident that a repeated sync does not touch and Healthy+Synced resolves; OutOfSync
//! opens only after the grace; an outage changes no incident; another organisation sees 404.

use std::time::Duration;

use axum::http::Method;
use repopal_tests::{
    Setup, TestApp,
    app::ErrorEnvelope,
    fake_argocd::{ARGOCD_TOKEN, AppStatus},
    fake_faults::Fault,
};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

const SYNC_QUEUES: &[&str] = &[
    "sync_integration",
    "sync_due_integrations",
    "check_integration",
    "notify_slack",
];

/// Waits until no job of `SYNC_QUEUES` that is due (within two seconds: due times are rounded
/// up to whole seconds) is left to run, then checks none died. Jobs scheduled for later (the next
/// sync, the next health check) are not waited for.
async fn drain_syncs(h: &Setup) {
    let pool = &h.app.db.pool;
    let queues: Vec<String> = SYNC_QUEUES.iter().map(|q| (*q).to_owned()).collect();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let left: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM apalis.jobs WHERE job_type = ANY($1)
               AND run_at <= now() + interval '2 seconds'
               AND (status IN ('Pending', 'Queued', 'Running') OR (status = 'Failed' AND attempts < max_attempts))",
        )
        .bind(&queues)
        .fetch_one(pool)
        .await
        .expect("count due jobs");
        if left == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{left} due job(s) of {SYNC_QUEUES:?} still unfinished after 60 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let dead: Vec<(String, Option<Value>)> = sqlx::query_as(
        "SELECT job_type, last_result FROM apalis.jobs WHERE job_type = ANY($1)
           AND (status = 'Killed' OR (status = 'Failed' AND attempts >= max_attempts))",
    )
    .bind(&queues)
    .fetch_all(pool)
    .await
    .expect("dead jobs");
    assert!(dead.is_empty(), "dead jobs: {dead:?}");
}

/// Asks for a sync (202 with a job id) and waits for it.
async fn sync(h: &Setup, id: Uuid) {
    let out: SyncStarted = h
        .as_admin()
        .call(Method::POST, &format!("integrations/{id}/sync"), None, 202)
        .await;
    assert!(out.started && !out.job_id.is_empty(), "{out:?}");
    drain_syncs(h).await;
}

/// A sync's answer: it started, as a job (its id a string).
#[derive(Debug, Deserialize)]
struct SyncStarted {
    started: bool,
    job_id: String,
}

async fn get(h: &Setup, path: &str) -> Value {
    h.as_admin().call(Method::GET, path, None, 200).await
}

async fn argo_incidents(h: &Setup) -> Vec<Value> {
    get(h, "incidents?source=argocd").await["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn timeline(h: &Setup, incident: &str) -> Vec<String> {
    let detail = get(h, &format!("incidents/{incident}")).await;
    detail["timeline"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|e| e["kind"].as_str().map(str::to_owned))
        .collect()
}

/// An Argo CD integration on the fake with `extra` config, its incidents posted to `#deploys`.
async fn argocd(h: &Setup, name: &str, extra: Value) -> Uuid {
    let mut config = json!({"server_url": h.argo.url, "slack_channel": "#deploys"});
    config
        .as_object_mut()
        .expect("object")
        .extend(extra.as_object().cloned().unwrap_or_default());
    h.create("argocd", name, config, json!({"token": ARGOCD_TOKEN}))
        .await
}

#[tokio::test]
async fn a_sync_stores_the_applications_lists_them_and_marks_removed_ones() {
    let h = TestApp::builder().health().await;
    let worker = h.start_worker();
    h.argo.set_applications(3);
    h.argo.set_status("app-002", AppStatus::degraded());
    let id = argocd(&h, "argo", json!({"namespace": "argocd"})).await;
    sync(&h, id).await;
    assert_eq!(h.argo.last_app_namespace().as_deref(), Some("argocd"));

    let page = get(&h, &format!("integrations/{id}/applications")).await;
    let items = page["items"].as_array().expect("items");
    assert_eq!(items.len(), 3, "{page}");
    let guestbook = items
        .iter()
        .find(|a| a["name"] == "guestbook")
        .expect("guestbook");
    assert_eq!(guestbook["namespace"], "argocd");
    assert_eq!(guestbook["project"], "default");
    assert_eq!(guestbook["health_status"], "Healthy");
    assert_eq!(guestbook["sync_status"], "Synced");
    assert_eq!(
        guestbook["destination"]["server"],
        "https://kubernetes.default.svc"
    );
    assert_eq!(guestbook["source"]["path"], "guestbook");
    assert_eq!(guestbook["last_operation"]["phase"], "Succeeded");

    // Filters on health and sync status; bad values are refused.
    let degraded = get(
        &h,
        &format!("integrations/{id}/applications?health=Degraded"),
    )
    .await;
    let names: Vec<&str> = degraded["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|a| a["name"].as_str())
        .collect();
    assert_eq!(names, ["app-002"]);
    assert_eq!(
        degraded["items"][0]["last_operation"]["message"],
        "one or more objects failed to apply: Deployment/guestbook-ui: ImagePullBackOff"
    );
    assert_eq!(degraded["items"][0]["conditions"][0]["type"], "SyncError");
    let out_of_sync = get(
        &h,
        &format!("integrations/{id}/applications?sync=OutOfSync"),
    )
    .await;
    assert_eq!(out_of_sync["items"], json!([]));
    let _: ErrorEnvelope = h
        .as_admin()
        .call(
            Method::GET,
            &format!("integrations/{id}/applications?health=Broken"),
            None,
            400,
        )
        .await;

    // Cursor paging.
    let first = get(&h, &format!("integrations/{id}/applications?limit=2")).await;
    assert_eq!(first["items"].as_array().expect("items").len(), 2);
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let second = get(
        &h,
        &format!("integrations/{id}/applications?limit=2&cursor={cursor}"),
    )
    .await;
    assert_eq!(second["items"].as_array().expect("items").len(), 1);
    assert_eq!(second["next_cursor"], json!(null));
    let mut seen: Vec<String> = first["items"]
        .as_array()
        .into_iter()
        .chain(second["items"].as_array())
        .flatten()
        .filter_map(|a| a["name"].as_str().map(str::to_owned))
        .collect();
    seen.sort();
    assert_eq!(seen, ["app-002", "app-003", "guestbook"]);

    // The sync is on the integration.
    let integration = get(&h, &format!("integrations/{id}")).await;
    assert!(integration["last_sync_at"].is_string(), "{integration}");
    assert_eq!(integration["last_sync"]["ok"], true, "{integration}");
    assert_eq!(integration["last_sync"]["applications"], 3);

    // An application gone from the server is marked removed, not deleted.
    h.argo.set_applications(2);
    sync(&h, id).await;
    let listed = get(&h, &format!("integrations/{id}/applications")).await;
    assert_eq!(listed["items"].as_array().expect("items").len(), 2);
    let all = get(
        &h,
        &format!("integrations/{id}/applications?include_removed=true"),
    )
    .await;
    let removed: Vec<&Value> = all["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|a| a["removed_at"].is_string())
        .collect();
    assert_eq!(removed.len(), 1, "{all}");
    assert_eq!(removed[0]["name"], "app-003");

    // Another namespace lists none of the fake's applications.
    let other = argocd(&h, "argo-other", json!({"namespace": "team-b"})).await;
    sync(&h, other).await;
    assert_eq!(h.argo.last_app_namespace().as_deref(), Some("team-b"));
    let none = get(&h, &format!("integrations/{other}/applications")).await;
    assert_eq!(none["items"], json!([]));
    worker.stop().await;
}

#[tokio::test]
async fn degraded_opens_one_incident_a_repeated_sync_adds_nothing_and_healthy_synced_resolves_it() {
    let h = TestApp::builder().health().await;
    let worker = h.start_worker();
    h.argo.set_status("guestbook", AppStatus::degraded());
    let id = argocd(&h, "argo", json!({})).await;
    sync(&h, id).await;

    let open = argo_incidents(&h).await;
    assert_eq!(open.len(), 1, "{open:?}");
    let incident = &open[0];
    let incident_id = incident["id"].as_str().expect("id").to_owned();
    assert_eq!(incident["source"], "argocd");
    assert_eq!(incident["status"], "open");
    assert_eq!(incident["severity"], "high");
    assert_eq!(incident["integration_id"], id.to_string());
    assert!(incident["application_id"].is_string());
    assert_eq!(incident["repository_id"], json!(null));
    let context = &incident["context"];
    assert_eq!(
        context["link"],
        format!("{}/applications/argocd/guestbook", h.argo.url)
    );
    assert_eq!(
        context["operation"]["message"],
        "one or more objects failed to apply: Deployment/guestbook-ui: ImagePullBackOff"
    );
    assert_eq!(context["conditions"][0]["type"], "SyncError");
    assert!(
        incident["links"]["applications"]
            .as_str()
            .is_some_and(|l| l.ends_with(&format!("integrations/{id}/applications"))),
        "{incident}"
    );
    // Not a CI incident.
    let ci = get(&h, "incidents?source=github_actions").await;
    assert_eq!(ci["items"], json!([]));
    let _: ErrorEnvelope = h
        .as_admin()
        .call(Method::GET, "incidents?source=gitlab", None, 400)
        .await;

    // Analytics count it under its own source, severity included, and filter on it.
    let opened = |stats: &Value| -> i64 {
        stats["series"]
            .as_array()
            .map(|b| b.iter().filter_map(|b| b["opened"].as_i64()).sum())
            .unwrap_or(-1)
    };
    let groups = |stats: &Value, part: &str| -> Vec<(String, i64)> {
        stats[part]
            .as_array()
            .map(|g| {
                g.iter()
                    .map(|g| {
                        (
                            g["key"].as_str().unwrap_or("").to_owned(),
                            g["opened"].as_i64().unwrap_or(-1),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let all = get(&h, "analytics/incidents").await;
    assert_eq!(opened(&all), 1, "{all}");
    assert_eq!(
        groups(&all, "by_source"),
        [("argocd".to_owned(), 1)],
        "{all}"
    );
    assert_eq!(
        groups(&all, "by_severity"),
        [("high".to_owned(), 1)],
        "{all}"
    );
    assert_eq!(groups(&all, "by_repository"), [], "{all}");
    assert_eq!(
        opened(&get(&h, "analytics/incidents?source=argocd").await),
        1
    );
    assert_eq!(
        opened(&get(&h, "analytics/incidents?source=github_actions").await),
        0
    );

    assert_eq!(timeline(&h, &incident_id).await, ["opened"]);
    let notes = h.notifications().await;
    assert_eq!(notes.len(), 1, "{notes:?}");
    let posts: Vec<_> = h
        .slack
        .posted()
        .into_iter()
        .filter(|p| p.channel == "#deploys")
        .collect();
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert!(posts[0].text.contains("guestbook"), "{}", posts[0].text);
    assert!(
        posts[0].text.contains("/applications/argocd/guestbook"),
        "{}",
        posts[0].text
    );

    // Still Degraded, same state: nothing new.
    sync(&h, id).await;
    let again = argo_incidents(&h).await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0]["occurrence_count"], 1);
    assert_eq!(timeline(&h, &incident_id).await, ["opened"]);
    assert_eq!(h.notifications().await.len(), 1);

    // People act on it as on any incident.
    let _: Value = h
        .as_admin()
        .call(
            Method::POST,
            &format!("incidents/{incident_id}/acknowledge"),
            Some(json!({})),
            200,
        )
        .await;

    // Healthy and Synced again: resolved by itself, and said so.
    h.argo.set_status("guestbook", AppStatus::healthy());
    sync(&h, id).await;
    let resolved = get(&h, &format!("incidents/{incident_id}")).await;
    assert_eq!(resolved["status"], "resolved", "{resolved}");
    assert_eq!(resolved["resolved_by"], json!(null));
    assert!(
        resolved["resolution"]
            .as_str()
            .is_some_and(|r| r.contains("Healthy and Synced")),
        "{resolved}"
    );
    assert_eq!(
        timeline(&h, &incident_id).await,
        ["opened", "acknowledged", "resolved"]
    );
    let posts = h
        .slack
        .posted()
        .into_iter()
        .filter(|p| p.channel == "#deploys")
        .count();
    assert_eq!(posts, 2);
    let audit: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_logs WHERE resource_type = 'incident' AND resource_id = $1 ORDER BY id",
    )
    .bind(&incident_id)
    .fetch_all(&h.app.db.pool)
    .await
    .expect("audit");
    assert_eq!(
        audit,
        [
            "incident.open",
            "incident.acknowledge",
            "incident.auto_resolve"
        ]
    );

    // Broken again: a new incident for the same application (the old one stays resolved).
    h.argo.set_status("guestbook", AppStatus::degraded());
    sync(&h, id).await;
    let all = argo_incidents(&h).await;
    assert_eq!(all.len(), 2);
    assert_eq!(
        all.iter().filter(|i| i["status"] == "open").count(),
        1,
        "{all:?}"
    );
    worker.stop().await;
}

#[tokio::test]
async fn out_of_sync_opens_an_incident_only_after_the_grace_period() {
    let h = TestApp::builder().health().await;
    let worker = h.start_worker();
    h.argo.set_status("guestbook", AppStatus::out_of_sync());
    let id = argocd(&h, "argo", json!({"out_of_sync_grace_secs": 600})).await;
    sync(&h, id).await;
    assert_eq!(argo_incidents(&h).await, Vec::<Value>::new());
    let app = get(&h, &format!("integrations/{id}/applications")).await["items"][0].clone();
    assert!(app["out_of_sync_since"].is_string(), "{app}");

    // Within the grace still: nothing.
    sqlx::query(
        "UPDATE argocd_applications SET out_of_sync_since = now() - interval '500 seconds'
         WHERE integration_id = $1",
    )
    .bind(id)
    .execute(&h.app.db.pool)
    .await
    .expect("backdate");
    sync(&h, id).await;
    assert_eq!(argo_incidents(&h).await, Vec::<Value>::new());

    // OutOfSync for longer than the grace: an incident.
    sqlx::query(
        "UPDATE argocd_applications SET out_of_sync_since = now() - interval '601 seconds'
         WHERE integration_id = $1",
    )
    .bind(id)
    .execute(&h.app.db.pool)
    .await
    .expect("backdate");
    sync(&h, id).await;
    let open = argo_incidents(&h).await;
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0]["severity"], "medium");
    assert!(
        open[0]["title"]
            .as_str()
            .is_some_and(|t| t.contains("OutOfSync")),
        "{}",
        open[0]
    );

    // Synced again resolves it.
    h.argo.set_status("guestbook", AppStatus::healthy());
    sync(&h, id).await;
    assert_eq!(argo_incidents(&h).await[0]["status"], "resolved");
    worker.stop().await;
}

#[tokio::test]
async fn a_server_outage_changes_no_incident_and_is_a_health_failure() {
    let h = TestApp::builder().health().await;
    let worker = h.start_worker();
    h.argo.set_status("guestbook", AppStatus::degraded());
    let id = argocd(&h, "argo", json!({})).await;
    sync(&h, id).await;
    let before = argo_incidents(&h).await;
    assert_eq!(before.len(), 1);
    let incident_id = before[0]["id"].as_str().expect("id").to_owned();
    let apps_before = get(&h, &format!("integrations/{id}/applications")).await;
    let checks_before: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM integration_checks WHERE integration_id = $1 AND NOT ok",
    )
    .bind(id)
    .fetch_one(&h.app.db.pool)
    .await
    .expect("checks");

    // The server goes down (and the application "recovers" meanwhile, unseen).
    h.argo.set_status("guestbook", AppStatus::healthy());
    h.argo.set_fault(Some(Fault::Unavailable));
    sync(&h, id).await;
    let integration = get(&h, &format!("integrations/{id}")).await;
    assert_eq!(integration["last_sync"]["ok"], false, "{integration}");
    assert!(integration["last_sync"]["error"].is_string());
    // The health check was brought forward and recorded the failure, with the backoff.
    let failures: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM integration_checks WHERE integration_id = $1 AND NOT ok",
    )
    .bind(id)
    .fetch_one(&h.app.db.pool)
    .await
    .expect("checks");
    assert_eq!(failures, checks_before + 1);
    let health = h.health(id).await;
    assert_eq!(health["consecutive_failures"], 1, "{health}");

    // Nothing about deployments changed.
    let after = argo_incidents(&h).await;
    assert_eq!(after.len(), 1);
    assert_eq!(after[0]["status"], "open");
    assert_eq!(timeline(&h, &incident_id).await, ["opened"]);
    assert_eq!(
        get(&h, &format!("integrations/{id}/applications")).await["items"],
        apps_before["items"]
    );

    // Back up: the application is Healthy and Synced, so it resolves.
    h.argo.set_fault(None);
    sync(&h, id).await;
    assert_eq!(argo_incidents(&h).await[0]["status"], "resolved");
    worker.stop().await;
}

/// An Argo CD integration (120 s interval) after its first sync (the first health check reads the
/// list too), then made due `ago` in the past: its id and that due time.
async fn synced_then_due(h: &Setup, ago: &str) -> (Uuid, chrono::DateTime<chrono::Utc>) {
    let id = argocd(h, "argo", json!({"sync_interval": 120})).await;
    let first = h.start_worker();
    drain_syncs(h).await;
    first.stop().await;
    let due = sqlx::query_scalar(
        "UPDATE integrations SET next_sync_at = date_trunc('second', now()) - $2::interval
         WHERE id = $1 RETURNING next_sync_at",
    )
    .bind(id)
    .bind(ago)
    .fetch_one(&h.app.db.pool)
    .await
    .expect("make due");
    (id, due)
}

#[tokio::test]
async fn one_sync_runs_per_due_time_across_three_workers() {
    let h = TestApp::builder().health().await;
    let pool = h.app.db.pool.clone();
    let (id, due) = synced_then_due(&h, "1 second").await;
    let before = h.argo.count("/api/v1/applications");

    // Three schedulers fan out at once, three workers run what they enqueued.
    let fan_outs: Vec<_> = (0..3)
        .map(|_| {
            let pool = pool.clone();
            tokio::spawn(async move {
                common::integrations::sync_due(&pool)
                    .await
                    .expect("fan-out")
            })
        })
        .collect();
    for f in fan_outs {
        assert_eq!(f.await.expect("fan-out task"), 1);
    }
    let workers: Vec<_> = (0..3).map(|_| h.start_worker()).collect();
    drain_syncs(&h).await;
    for w in workers {
        w.stop().await;
    }
    assert_eq!(h.argo.count("/api/v1/applications"), before + 1);
    let jobs: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM apalis.jobs WHERE job_type = 'sync_integration' AND idempotency_key = $1",
    )
    .bind(format!("sync:{id}:{}", due.timestamp()))
    .fetch_one(&pool)
    .await
    .expect("jobs");
    assert_eq!(jobs, 1);
    // The next due time is one interval on, and its job waits for it.
    let integration = get(&h, &format!("integrations/{id}")).await;
    let next: chrono::DateTime<chrono::Utc> = integration["next_sync_at"]
        .as_str()
        .expect("next_sync_at")
        .parse()
        .expect("time");
    assert!(next > due + chrono::Duration::seconds(100), "{integration}");
    assert_eq!(integration["last_sync"]["ok"], true);
}

/// A due time whose job ended without moving it on (here: skipped, as while the integration was
/// disabled) holds its job key for good; once stale, the scheduler moves it and syncs again.
#[tokio::test]
async fn a_due_time_whose_job_ended_without_syncing_is_rescued_once_stale() {
    let h = TestApp::builder().health().await;
    let pool = h.app.db.pool.clone();
    let (id, stale) = synced_then_due(&h, "20 minutes").await;
    // The due time's job exists and is finished, as a skipped one would be.
    let mut conn = pool.acquire().await.expect("conn");
    let queued =
        common::integrations::schedule_sync(&mut conn, common::domain::IntegrationId(id), stale)
            .await
            .expect("schedule");
    assert!(queued);
    sqlx::query(
        "UPDATE apalis.jobs SET status = 'Done', done_at = now() WHERE idempotency_key = $1",
    )
    .bind(format!("sync:{id}:{}", stale.timestamp()))
    .execute(&pool)
    .await
    .expect("finish the job");
    let before = h.argo.count("/api/v1/applications");

    // The scheduler fans out twice: the first rescues the due time, the second finds the new one
    // (due now, or a second on) already queued.
    assert_eq!(
        common::integrations::sync_due(&pool)
            .await
            .expect("fan-out"),
        1
    );
    common::integrations::sync_due(&pool)
        .await
        .expect("fan-out");
    let queued: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM apalis.jobs WHERE job_type = 'sync_integration' AND status = 'Pending'",
    )
    .fetch_one(&pool)
    .await
    .expect("jobs");
    assert_eq!(queued, 1);
    let worker = h.start_worker();
    drain_syncs(&h).await;
    worker.stop().await;
    assert_eq!(h.argo.count("/api/v1/applications"), before + 1);
    let integration = get(&h, &format!("integrations/{id}")).await;
    let next: chrono::DateTime<chrono::Utc> = integration["next_sync_at"]
        .as_str()
        .expect("next_sync_at")
        .parse()
        .expect("time");
    assert!(next > chrono::Utc::now(), "{integration}");
    assert_eq!(integration["last_sync"]["ok"], true);
}

#[tokio::test]
async fn tls_verify_false_reads_a_self_signed_server_which_the_default_refuses() {
    let (argo, pem) = repopal_tests::fake_argocd::FakeArgo::start_self_signed().await;
    let h = TestApp::builder().health().await;
    let worker = h.start_worker();
    let create = |name: &'static str, config: Value, creds: Value| {
        let h = &h;
        async move { h.create("argocd", name, config, creds).await }
    };
    let strict = create(
        "argo-strict",
        json!({"server_url": argo.url}),
        json!({"token": ARGOCD_TOKEN}),
    )
    .await;
    let lax = create(
        "argo-lax",
        json!({"server_url": argo.url, "tls_verify": false}),
        json!({"token": ARGOCD_TOKEN}),
    )
    .await;
    let pinned = create(
        "argo-ca",
        json!({"server_url": argo.url}),
        json!({"token": ARGOCD_TOKEN, "ca_bundle": pem}),
    )
    .await;
    for id in [strict, lax, pinned] {
        sync(&h, id).await;
    }
    let strict_out = get(&h, &format!("integrations/{strict}")).await;
    assert_eq!(strict_out["last_sync"]["ok"], false, "{strict_out}");
    assert!(
        strict_out["last_sync"]["error"]
            .as_str()
            .is_some_and(|e| e.to_lowercase().contains("certificate")),
        "{strict_out}"
    );
    assert_eq!(
        get(&h, &format!("integrations/{strict}/applications")).await["items"],
        json!([])
    );
    for id in [lax, pinned] {
        let out = get(&h, &format!("integrations/{id}")).await;
        assert_eq!(out["last_sync"]["ok"], true, "{out}");
        let apps = get(&h, &format!("integrations/{id}/applications")).await;
        assert_eq!(apps["items"][0]["name"], "guestbook", "{apps}");
    }
    // The CA bundle is a credential: never shown.
    let shown = get(&h, &format!("integrations/{pinned}")).await;
    assert!(!shown.to_string().contains("BEGIN CERTIFICATE"), "{shown}");
    worker.stop().await;
}

#[tokio::test]
async fn another_organisation_gets_404_on_the_new_routes() {
    let h = TestApp::builder().health().await;
    let id = argocd(&h, "argo", json!({})).await;
    let other = h
        .app
        .register("someone-else@example.com", Some("Other Org"))
        .await;
    let other_org = other.first_org();
    let stranger = h.app.caller(Some(&other));
    for (method, path) in [
        (
            Method::GET,
            format!("/api/v1/orgs/{other_org}/integrations/{id}/applications"),
        ),
        (
            Method::POST,
            format!("/api/v1/orgs/{other_org}/integrations/{id}/sync"),
        ),
        (
            Method::GET,
            format!("/api/v1/orgs/{}/integrations/{id}/applications", h.org),
        ),
    ] {
        let _: ErrorEnvelope = stranger.call(method, &path, None, 404).await;
    }
    let _: ErrorEnvelope = stranger
        .call(
            Method::GET,
            &format!(
                "/api/v1/orgs/{other_org}/integrations/{}/applications",
                Uuid::new_v4()
            ),
            None,
            404,
        )
        .await;
}
