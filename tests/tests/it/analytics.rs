//! Analytics over seeded runs, jobs and incidents: exact series, percentiles, rankings, filters,
//! tenancy and the window's bounds.

use axum::http::Method;
use repopal_tests::{TestApp, app::ErrorEnvelope, auth::Session};
use serde_json::{Value, json};
use uuid::Uuid;

struct Org {
    id: Uuid,
    admin: Session,
    repo_a: Uuid,
    repo_b: Uuid,
}

async fn repository(app: &TestApp, org: Uuid, github_id: i64, name: &str, monitored: bool) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO repositories (org_id, github_id, full_name, monitoring_enabled)
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(org)
    .bind(github_id)
    .bind(name)
    .bind(monitored)
    .fetch_one(&app.db.pool)
    .await
    .expect("the repository row is inserted")
}

struct Run<'a> {
    repo: Uuid,
    run_id: i64,
    workflow: &'a str,
    branch: &'a str,
    conclusion: Option<&'a str>,
    completed_at: &'a str,
    duration_ms: i64,
}

async fn run(app: &TestApp, org: Uuid, r: Run<'_>) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO workflow_runs (org_id, repository_id, run_id, run_attempt, run_number, workflow_id,
                                    workflow_name, branch, head_sha, status, conclusion, completed_at,
                                    duration_ms)
         VALUES ($1, $2, $3, 1, $3, hashtext($4), $4, $5, 'abc123', 'completed', $6,
                 $7::timestamptz, $8)
         RETURNING id",
    )
    .bind(org)
    .bind(r.repo)
    .bind(r.run_id)
    .bind(r.workflow)
    .bind(r.branch)
    .bind(r.conclusion)
    .bind(r.completed_at)
    .bind(r.duration_ms)
    .fetch_one(&app.db.pool)
    .await
    .expect("the workflow run row is inserted")
}

struct FailedJob<'a> {
    repo: Uuid,
    job_id: i64,
    run_id: i64,
    name: &'a str,
    step: &'a str,
    at: &'a str,
}

async fn failed_job(app: &TestApp, org: Uuid, j: FailedJob<'_>) {
    sqlx::query(
        "INSERT INTO workflow_jobs (org_id, job_id, repository_id, run_id, run_attempt, name, status,
                                    conclusion, completed_at, failed_steps)
         VALUES ($1, $2, $3, $4, 1, $5, 'completed', 'failure', $6::timestamptz, $7)",
    )
    .bind(org)
    .bind(j.job_id)
    .bind(j.repo)
    .bind(j.run_id)
    .bind(j.name)
    .bind(j.at)
    .bind(json!([j.step]))
    .execute(&app.db.pool)
    .await
    .expect("the workflow job row is inserted");
}

struct Incident<'a> {
    repo: Uuid,
    key: &'a str,
    severity: &'a str,
    first_seen: &'a str,
    acknowledged: Option<&'a str>,
    resolved: Option<&'a str>,
}

async fn incident(app: &TestApp, org: Uuid, i: Incident<'_>) {
    sqlx::query(
        "INSERT INTO incidents (org_id, repository_id, dedupe_key, workflow_id, workflow_name, branch, title,
                                severity, status, first_seen_at, last_seen_at, head_sha,
                                acknowledged_at, resolved_at)
         VALUES ($1, $2, $3, 1, 'CI', 'main', 'CI failed', $4,
                 CASE WHEN $6::timestamptz IS NOT NULL THEN 'resolved'
                      WHEN $5::timestamptz IS NOT NULL THEN 'acknowledged' ELSE 'open' END,
                 $7::timestamptz, $7::timestamptz, 'abc123', $5::timestamptz, $6::timestamptz)",
    )
    .bind(org)
    .bind(i.repo)
    .bind(i.key)
    .bind(i.severity)
    .bind(i.acknowledged)
    .bind(i.resolved)
    .bind(i.first_seen)
    .execute(&app.db.pool)
    .await
    .expect("the incident row is inserted");
}

/// Two repositories with runs on 2 and 4 November (none on the 3rd), failing jobs and three incidents;
/// plus noise outside the window and in another organisation.
async fn seed(app: &TestApp) -> Org {
    let session = app.register("analyst@example.com", Some("Analysts")).await;
    let org: Uuid = session.first_org().parse().expect("the org id is a UUID");
    let repo_a = repository(app, org, 1, "acme/api", true).await;
    let repo_b = repository(app, org, 2, "acme/web", false).await;
    let runs = [
        (
            repo_a,
            1,
            "CI",
            Some("success"),
            "2026-11-02T01:00:00Z",
            100,
        ),
        (
            repo_a,
            2,
            "CI",
            Some("failure"),
            "2026-11-02T02:00:00Z",
            200,
        ),
        (
            repo_a,
            3,
            "CI",
            Some("success"),
            "2026-11-02T03:00:00Z",
            300,
        ),
        (
            repo_a,
            4,
            "CI",
            Some("timed_out"),
            "2026-11-04T05:00:00Z",
            1000,
        ),
        (
            repo_b,
            5,
            "Deploy",
            Some("success"),
            "2026-11-02T04:00:00Z",
            50,
        ),
        // Outside the window, and one still running: neither counts.
        (
            repo_a,
            6,
            "CI",
            Some("failure"),
            "2026-11-01T23:59:59Z",
            5000,
        ),
        (repo_a, 7, "CI", None, "2026-11-03T00:00:00Z", 7000),
    ];
    for (repo, run_id, workflow, conclusion, at, ms) in runs {
        run(
            app,
            org,
            Run {
                repo,
                run_id,
                workflow,
                branch: "main",
                conclusion,
                completed_at: at,
                duration_ms: ms,
            },
        )
        .await;
    }
    failed_job(
        app,
        org,
        FailedJob {
            repo: repo_a,
            job_id: 21,
            run_id: 2,
            name: "test",
            step: "Run tests",
            at: "2026-11-02T02:00:00Z",
        },
    )
    .await;
    failed_job(
        app,
        org,
        FailedJob {
            repo: repo_a,
            job_id: 41,
            run_id: 4,
            name: "test",
            step: "Run tests",
            at: "2026-11-04T05:00:00Z",
        },
    )
    .await;
    failed_job(
        app,
        org,
        FailedJob {
            repo: repo_a,
            job_id: 42,
            run_id: 4,
            name: "lint",
            step: "eslint",
            at: "2026-11-04T04:00:00Z",
        },
    )
    .await;
    incident(
        app,
        org,
        Incident {
            repo: repo_a,
            key: "a1",
            severity: "high",
            first_seen: "2026-11-02T10:00:00Z",
            acknowledged: Some("2026-11-02T10:10:00Z"),
            resolved: Some("2026-11-02T12:00:00Z"),
        },
    )
    .await;
    incident(
        app,
        org,
        Incident {
            repo: repo_a,
            key: "a2",
            severity: "critical",
            first_seen: "2026-11-04T09:00:00Z",
            acknowledged: None,
            resolved: None,
        },
    )
    .await;
    incident(
        app,
        org,
        Incident {
            repo: repo_b,
            key: "b1",
            severity: "high",
            first_seen: "2026-10-30T00:00:00Z",
            acknowledged: None,
            resolved: Some("2026-11-03T00:00:00Z"),
        },
    )
    .await;

    let other = app.register("rival@example.com", Some("Rivals")).await;
    let other_org: Uuid = other
        .first_org()
        .parse()
        .expect("the other org id is a UUID");
    let other_repo = repository(app, other_org, 1, "rival/api", true).await;
    run(
        app,
        other_org,
        Run {
            repo: other_repo,
            run_id: 1,
            workflow: "CI",
            branch: "main",
            conclusion: Some("failure"),
            completed_at: "2026-11-02T01:00:00Z",
            duration_ms: 9,
        },
    )
    .await;

    Org {
        id: org,
        admin: session,
        repo_a,
        repo_b,
    }
}

const WINDOW: &str = "from=2026-11-02T00:00:00Z&to=2026-11-05T00:00:00Z";

async fn get(app: &TestApp, org: &Org, what: &str, query: &str) -> Value {
    app.caller(Some(&org.admin))
        .in_org(&org.id.to_string())
        .call(Method::GET, &format!("analytics/{what}?{query}"), None, 200)
        .await
}

#[tokio::test]
async fn the_workflow_series_counts_failures_and_percentiles_per_day_and_per_workflow() {
    let app = TestApp::builder().build().await;
    let org = seed(&app).await;
    let data = get(&app, &org, "workflows", WINDOW).await;
    assert_eq!(
        (data["runs"].clone(), data["failures"].clone()),
        (json!(5), json!(2))
    );
    let overall = data["overall"].as_array().unwrap();
    assert_eq!(
        overall.len(),
        3,
        "one point per day, the empty day included: {overall:?}"
    );
    assert_eq!(overall[0]["bucket_start"], "2026-11-02T00:00:00Z");
    assert_eq!(
        (
            overall[0]["runs"].clone(),
            overall[0]["failures"].clone(),
            overall[0]["failure_rate"].clone()
        ),
        (json!(4), json!(1), json!(0.25))
    );
    // Durations 50, 100, 200, 300 ms: median 150, p90 270 (linear interpolation).
    assert_eq!(
        (
            overall[0]["duration_p50_ms"].clone(),
            overall[0]["duration_p90_ms"].clone()
        ),
        (json!(150), json!(270))
    );
    assert_eq!(
        (
            overall[1]["runs"].clone(),
            overall[1]["duration_p50_ms"].clone()
        ),
        (json!(0), Value::Null)
    );
    assert_eq!(
        (overall[2]["runs"].clone(), overall[2]["failures"].clone()),
        (json!(1), json!(1))
    );
    let workflows = data["workflows"].as_array().unwrap();
    assert_eq!(workflows[0]["workflow"], "CI");
    assert_eq!(
        (
            workflows[0]["runs"].clone(),
            workflows[0]["failures"].clone()
        ),
        (json!(4), json!(2))
    );
    assert_eq!(workflows[1]["workflow"], "Deploy");

    // Filters narrow every figure; weekly buckets start on Monday 2 November.
    let only_b = get(
        &app,
        &org,
        "workflows",
        &format!("{WINDOW}&repository={}&bucket=week", org.repo_b),
    )
    .await;
    assert_eq!(only_b["runs"], 1);
    assert_eq!(only_b["overall"].as_array().unwrap().len(), 1);
    assert_eq!(only_b["overall"][0]["bucket_start"], "2026-11-02T00:00:00Z");
    let by_name = get(
        &app,
        &org,
        "workflows",
        &format!("{WINDOW}&workflow=Deploy"),
    )
    .await;
    assert_eq!(by_name["runs"], 1);
}

#[tokio::test]
async fn the_incident_series_gives_opened_resolved_mtta_and_mttr() {
    let app = TestApp::builder().build().await;
    let org = seed(&app).await;
    let data = get(&app, &org, "incidents", WINDOW).await;
    let s = data["series"].as_array().unwrap();
    assert_eq!(s.len(), 3);
    assert_eq!(
        (s[0]["opened"].clone(), s[0]["resolved"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(
        (s[0]["mtta_p50_secs"].clone(), s[0]["mttr_p50_secs"].clone()),
        (json!(600), json!(7200))
    );
    // Opened before the window, resolved on the 3rd after four days.
    assert_eq!(
        (
            s[1]["opened"].clone(),
            s[1]["resolved"].clone(),
            s[1]["mttr_p50_secs"].clone()
        ),
        (json!(0), json!(1), json!(345_600))
    );
    assert_eq!(
        (s[2]["opened"].clone(), s[2]["mtta_p50_secs"].clone()),
        (json!(1), Value::Null)
    );
    let sev: Vec<(String, i64, i64)> = data["by_severity"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["key"].as_str().unwrap().to_owned(),
                g["opened"].as_i64().unwrap(),
                g["resolved"].as_i64().unwrap(),
            )
        })
        .collect();
    assert!(
        sev.contains(&("high".into(), 1, 1)) && sev.contains(&("critical".into(), 1, 0)),
        "{sev:?}"
    );
    assert_eq!(
        data["by_repository"].as_array().unwrap().len(),
        1,
        "only acme/api opened incidents in the window"
    );
    assert_eq!(data["by_repository"][0]["key"], "acme/api");
    assert_eq!(data["by_source"][0]["key"], "github_actions");
    assert_eq!(data["by_source"][0]["opened"], 2);

    let critical = get(
        &app,
        &org,
        "incidents",
        &format!("{WINDOW}&severity=critical"),
    )
    .await;
    let opened: Vec<i64> = critical["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["opened"].as_i64().unwrap())
        .collect();
    assert_eq!(opened, vec![0, 0, 1]);
}

#[tokio::test]
async fn failures_rank_jobs_and_steps_and_repositories_rank_by_the_documented_score() {
    let app = TestApp::builder().build().await;
    let org = seed(&app).await;
    let data = get(&app, &org, "failures", WINDOW).await;
    assert_eq!(data["jobs"][0]["job"], "test");
    assert_eq!(data["jobs"][0]["failures"], 2);
    assert_eq!(data["jobs"][0]["workflow"], "CI");
    let last_run: Uuid =
        sqlx::query_scalar("SELECT id FROM workflow_runs WHERE org_id = $1 AND run_id = 4")
            .bind(org.id)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(data["jobs"][0]["last_run_id"], last_run.to_string());
    assert_eq!(data["jobs"][1]["job"], "lint");
    assert_eq!(
        (
            data["steps"][0]["step"].clone(),
            data["steps"][0]["failures"].clone()
        ),
        (json!("Run tests"), json!(2))
    );
    assert_eq!(data["steps"][1]["step"], "eslint");

    let ranked = get(&app, &org, "repositories", WINDOW).await;
    let items = ranked["items"].as_array().unwrap();
    // acme/api: 0.5×(1−0.5) + 0.2×1/2 + 0.2×(1−2h/24h) + 0.1 = 0.6333; acme/web: 0.5 + 0.2 + 0 + 0 = 0.7.
    assert_eq!(items[0]["repository_id"], org.repo_a.to_string());
    assert_eq!(
        (items[0]["rank"].clone(), items[0]["score"].clone()),
        (json!(1), json!(63.3))
    );
    assert_eq!(
        (
            items[0]["open_incidents"].clone(),
            items[0]["failure_rate"].clone()
        ),
        (json!(1), json!(0.5))
    );
    assert_eq!(items[1]["repository_id"], org.repo_b.to_string());
    assert_eq!(items[1]["score"], json!(70.0));
}

#[tokio::test]
async fn another_organisation_and_bad_windows_are_refused() {
    let app = TestApp::builder().build().await;
    let org = seed(&app).await;
    let stranger = app
        .register("stranger@example.com", Some("Strangers"))
        .await;
    for what in ["workflows", "incidents", "failures", "repositories"] {
        let path = format!("/api/v1/orgs/{}/analytics/{what}", org.id);
        let _: ErrorEnvelope = app
            .caller(Some(&stranger))
            .call(Method::GET, &path, None, 404)
            .await;
        let _: ErrorEnvelope = app.caller(None).call(Method::GET, &path, None, 401).await;
    }
    let admin = app.caller(Some(&org.admin)).in_org(&org.id.to_string());
    for (query, status) in [
        ("from=2026-11-05T00:00:00Z&to=2026-11-02T00:00:00Z", 422),
        ("from=2024-01-01T00:00:00Z&to=2026-11-02T00:00:00Z", 422),
        ("bucket=month", 400),
        ("from=yesterday", 400),
        ("branch=", 422),
    ] {
        let _: ErrorEnvelope = admin
            .call(
                Method::GET,
                &format!("analytics/workflows?{query}"),
                None,
                status,
            )
            .await;
    }
    let _: ErrorEnvelope = admin
        .call(Method::GET, "analytics/failures?limit=201", None, 400)
        .await;
}
