//! The incident and failing-job day rollups stay true: an incident acknowledged, resolved or added
//! and a failing job added, fixed or joined by its run after a read all show in the next read, the
//! partial first and last day come from the tables, and a rollup read equals a read from the
//! tables themselves (a branch filter bypasses the rollups) and Postgres's own percentiles.

use axum::http::Method;
use repopal_tests::{TestApp, auth::Session};
use serde_json::{Value, json};
use uuid::Uuid;

struct Org {
    id: Uuid,
    admin: Session,
    repo: Uuid,
}

async fn org(app: &TestApp) -> Org {
    let session = app.register("days@example.com", Some("Days")).await;
    let id: Uuid = session.first_org().parse().expect("org id");
    let repo: Uuid = sqlx::query_scalar(
        "INSERT INTO repositories (org_id, github_id, full_name, monitoring_enabled)
         VALUES ($1, 1, 'acme/api', true) RETURNING id",
    )
    .bind(id)
    .fetch_one(&app.db.pool)
    .await
    .expect("repository");
    Org {
        id,
        admin: session,
        repo,
    }
}

async fn get(app: &TestApp, org: &Org, what: &str, query: &str) -> Value {
    app.caller(Some(&org.admin))
        .call(
            Method::GET,
            &format!("/api/v1/orgs/{}/analytics/{what}?{query}", org.id),
            None,
            200,
        )
        .await
}

async fn exec(app: &TestApp, sql: &str, org: Uuid) {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(org)
        .execute(&app.db.pool)
        .await
        .expect(sql);
}

/// An incident `key` of `severity` first seen at `first`, acknowledged and resolved after the
/// given seconds (when given).
struct NewIncident<'a> {
    key: &'a str,
    severity: &'a str,
    first: &'a str,
    ack: Option<i64>,
    res: Option<i64>,
}

async fn incident(app: &TestApp, org: &Org, i: NewIncident<'_>) {
    sqlx::query(
        "INSERT INTO incidents (org_id, repository_id, dedupe_key, workflow_id, workflow_name, branch,
                                title, severity, status, first_seen_at, last_seen_at, head_sha,
                                acknowledged_at, resolved_at)
         VALUES ($1, $2, $3, 1, 'CI', 'main', 'CI failed', $4,
                 CASE WHEN $6::bigint IS NOT NULL THEN 'resolved' ELSE 'open' END,
                 $7::timestamptz, $7::timestamptz, 'abc123',
                 $7::timestamptz + make_interval(secs => $5::bigint),
                 $7::timestamptz + make_interval(secs => $6::bigint))",
    )
    .bind(org.id)
    .bind(org.repo)
    .bind(i.key)
    .bind(i.severity)
    .bind(i.ack)
    .bind(i.res)
    .bind(i.first)
    .execute(&app.db.pool)
    .await
    .expect("incident");
}

/// Postgres's figures of one severity: opened, resolved, MTTA p50, MTTR p50 and p90.
type SeverityRow = (String, i64, i64, Option<f64>, Option<f64>, Option<f64>);

/// (opened, resolved, MTTA p50, MTTR p50) of series bucket `i`.
fn bucket(data: &Value, i: usize) -> (i64, i64, Option<i64>, Option<i64>) {
    let b = &data["series"][i];
    (
        b["opened"].as_i64().expect("opened"),
        b["resolved"].as_i64().expect("resolved"),
        b["mtta_p50_secs"].as_i64(),
        b["mttr_p50_secs"].as_i64(),
    )
}

#[tokio::test]
async fn incidents_changed_after_a_read_show_in_the_next_and_match_postgres_percentiles() {
    let app = TestApp::builder().build().await;
    let org = org(&app).await;
    // Whole days 2–4 November (Monday to Wednesday).
    let days = "from=2026-11-02T00:00:00Z&to=2026-11-05T00:00:00Z";
    incident(
        &app,
        &org,
        NewIncident {
            key: "a",
            severity: "high",
            first: "2026-11-02T10:00:00Z",
            ack: Some(60),
            res: Some(3600),
        },
    )
    .await;
    incident(
        &app,
        &org,
        NewIncident {
            key: "b",
            severity: "low",
            first: "2026-11-02T11:00:00Z",
            ack: None,
            res: None,
        },
    )
    .await;
    let d = get(&app, &org, "incidents", days).await;
    assert_eq!(bucket(&d, 0), (2, 1, Some(60), Some(3600)));
    let rows: i64 =
        sqlx::query_scalar("SELECT count(*) FROM analytics_incident_days WHERE org_id = $1")
            .bind(org.id)
            .fetch_one(&app.db.pool)
            .await
            .expect("count");
    assert_eq!(rows, 1, "the read filled the day rollup");
    let r = get(&app, &org, "repositories", days).await;
    assert_eq!(
        (
            r["items"][0]["open_incidents"].clone(),
            r["items"][0]["mttr_p50_secs"].clone()
        ),
        (json!(1), json!(3600))
    );

    // `b` is acknowledged on the 2nd and resolved on the 3rd; a new one opens on the 4th.
    exec(
        &app,
        "UPDATE incidents SET status = 'resolved',
                acknowledged_at = '2026-11-02T11:02:00Z', resolved_at = '2026-11-03T11:00:00Z'
         WHERE org_id = $1 AND dedupe_key = 'b'",
        org.id,
    )
    .await;
    incident(
        &app,
        &org,
        NewIncident {
            key: "c",
            severity: "low",
            first: "2026-11-04T08:00:00Z",
            ack: Some(30),
            res: None,
        },
    )
    .await;
    let d = get(&app, &org, "incidents", days).await;
    assert_eq!(bucket(&d, 0), (2, 1, Some(90), Some(3600)));
    assert_eq!(bucket(&d, 1), (0, 1, None, Some(86_400)));
    assert_eq!(bucket(&d, 2), (1, 0, Some(30), None));
    let low = d["by_severity"]
        .as_array()
        .expect("by severity")
        .iter()
        .find(|g| g["key"] == "low")
        .cloned()
        .expect("low");
    assert_eq!(
        (low["opened"].clone(), low["resolved"].clone()),
        (json!(2), json!(1))
    );
    let r = get(&app, &org, "repositories", days).await;
    // MTTR of the incidents resolved in the window: 3600 s and 86 400 s.
    assert_eq!(
        (
            r["items"][0]["open_incidents"].clone(),
            r["items"][0]["mttr_p50_secs"].clone()
        ),
        (json!(1), json!(45_000))
    );

    // A deleted incident leaves the figures too.
    exec(
        &app,
        "DELETE FROM incidents WHERE org_id = $1 AND dedupe_key = 'c'",
        org.id,
    )
    .await;
    let d = get(&app, &org, "incidents", days).await;
    assert_eq!(bucket(&d, 2), (0, 0, None, None));

    // More incidents, over partial days too: the rollup, the tables and Postgres agree.
    for i in 0..24_i64 {
        let first = format!(
            "2026-11-{:02}T{:02}:{:02}:00Z",
            2 + i % 3,
            (i * 7) % 24,
            i % 60
        );
        let sev = ["critical", "high", "medium", "low"][(i % 4) as usize];
        let ack = (i % 3 != 0).then_some(30 + i * i * 17);
        let res = (i % 5 != 0).then_some(300 + i * 1_009);
        incident(
            &app,
            &org,
            NewIncident {
                key: &format!("n{i}"),
                severity: sev,
                first: &first,
                ack,
                res,
            },
        )
        .await;
    }
    for window in [
        days.to_owned(),
        "from=2026-11-02T05:30:00Z&to=2026-11-04T13:00:00Z".to_owned(),
        format!("{days}&bucket=week"),
        format!("{days}&severity=high"),
        format!("{days}&repository={}", org.repo),
    ] {
        let rolled = get(&app, &org, "incidents", &window).await;
        // Every incident is on `main`: the branch filter reads the same incidents from the table.
        let raw = get(&app, &org, "incidents", &format!("{window}&branch=main")).await;
        for part in ["series", "by_severity", "by_repository", "by_source"] {
            assert_eq!(rolled[part], raw[part], "{window}: {part}");
        }
    }
    let d = get(
        &app,
        &org,
        "incidents",
        "from=2026-11-02T05:30:00Z&to=2026-11-04T13:00:00Z",
    )
    .await;
    let expected: Vec<SeverityRow> = sqlx::query_as(
        "SELECT severity, count(*), count(resolved_at),
                percentile_cont(0.5) WITHIN GROUP (
                    ORDER BY extract(epoch FROM acknowledged_at - first_seen_at)::float8),
                percentile_cont(0.5) WITHIN GROUP (
                    ORDER BY extract(epoch FROM resolved_at - first_seen_at)::float8),
                percentile_cont(0.9) WITHIN GROUP (
                    ORDER BY extract(epoch FROM resolved_at - first_seen_at)::float8)
         FROM incidents
         WHERE org_id = $1 AND first_seen_at >= '2026-11-02T05:30:00Z'
           AND first_seen_at < '2026-11-04T13:00:00Z'
         GROUP BY severity ORDER BY severity",
    )
    .bind(org.id)
    .fetch_all(&app.db.pool)
    .await
    .expect("postgres percentiles");
    assert_eq!(expected.len(), 4);
    for (sev, opened, resolved, mtta, mttr50, mttr90) in expected {
        let g = d["by_severity"]
            .as_array()
            .expect("by severity")
            .iter()
            .find(|g| g["key"] == sev.as_str())
            .cloned()
            .expect("severity group");
        let round = |v: Option<f64>| v.map(|x| json!(x.round() as i64)).unwrap_or(Value::Null);
        assert_eq!(
            (
                g["opened"].clone(),
                g["resolved"].clone(),
                g["mtta_p50_secs"].clone(),
                g["mttr_p50_secs"].clone(),
                g["mttr_p90_secs"].clone()
            ),
            (
                json!(opened),
                json!(resolved),
                round(mtta),
                round(mttr50),
                round(mttr90)
            ),
            "{sev}"
        );
    }
}

/// A failing job's row: its ids, name, failed step and completion time.
struct FailedJob<'a> {
    job_id: i64,
    run_id: i64,
    name: &'a str,
    step: &'a str,
    at: &'a str,
}

async fn job(app: &TestApp, org: &Org, j: FailedJob<'_>) {
    sqlx::query(
        "INSERT INTO workflow_jobs (org_id, job_id, repository_id, run_id, run_attempt, name, status,
                                    conclusion, completed_at, failed_steps)
         VALUES ($1, $2, $3, $4, 1, $5, 'completed', 'failure', $6::timestamptz, $7)",
    )
    .bind(org.id)
    .bind(j.job_id)
    .bind(org.repo)
    .bind(j.run_id)
    .bind(j.name)
    .bind(j.at)
    .bind(json!([j.step]))
    .execute(&app.db.pool)
    .await
    .expect("job");
}

async fn run(app: &TestApp, org: &Org, run_id: i64, workflow: &str, at: &str) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO workflow_runs (org_id, repository_id, run_id, run_attempt, run_number, workflow_id,
                                    workflow_name, branch, head_sha, status, conclusion, completed_at,
                                    duration_ms)
         VALUES ($1, $2, $3, 1, $3, 1, $4, 'main', 'abc123', 'completed', 'failure',
                 $5::timestamptz, 1000)
         RETURNING id",
    )
    .bind(org.id)
    .bind(org.repo)
    .bind(run_id)
    .bind(workflow)
    .bind(at)
    .fetch_one(&app.db.pool)
    .await
    .expect("run")
}

/// (job, step, failures, workflow, last run) of every row of `part`.
fn failing(data: &Value, part: &str) -> Vec<(String, Value, i64, Value, Value)> {
    data[part]
        .as_array()
        .expect(part)
        .iter()
        .map(|f| {
            (
                f["job"].as_str().expect("job").to_owned(),
                f["step"].clone(),
                f["failures"].as_i64().expect("failures"),
                f["workflow"].clone(),
                f["last_run_id"].clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn failing_jobs_added_fixed_or_joined_by_their_run_after_a_read_show_in_the_next() {
    let app = TestApp::builder().build().await;
    let org = org(&app).await;
    let days = "from=2026-11-02T00:00:00Z&to=2026-11-05T00:00:00Z";
    let run1 = run(&app, &org, 1, "CI", "2026-11-02T10:00:00Z").await;
    job(
        &app,
        &org,
        FailedJob {
            job_id: 11,
            run_id: 1,
            name: "test",
            step: "Run tests",
            at: "2026-11-02T10:00:00Z",
        },
    )
    .await;
    let d = get(&app, &org, "failures", days).await;
    assert_eq!(
        failing(&d, "jobs"),
        vec![("test".into(), Value::Null, 1, json!("CI"), json!(run1))]
    );
    let rows: i64 =
        sqlx::query_scalar("SELECT count(*) FROM analytics_failure_days WHERE org_id = $1")
            .bind(org.id)
            .fetch_one(&app.db.pool)
            .await
            .expect("count");
    assert_eq!(
        rows, 2,
        "the read filled the day rollup: the job and its step"
    );

    // A new failing job on the 3rd whose run is not stored yet, and another of `test` on the 2nd.
    job(
        &app,
        &org,
        FailedJob {
            job_id: 21,
            run_id: 2,
            name: "test",
            step: "Run tests",
            at: "2026-11-03T09:00:00Z",
        },
    )
    .await;
    job(
        &app,
        &org,
        FailedJob {
            job_id: 12,
            run_id: 1,
            name: "lint",
            step: "eslint",
            at: "2026-11-02T10:00:00Z",
        },
    )
    .await;
    let d = get(&app, &org, "failures", days).await;
    assert_eq!(
        failing(&d, "jobs"),
        vec![
            ("test".into(), Value::Null, 2, Value::Null, Value::Null),
            ("lint".into(), Value::Null, 1, json!("CI"), json!(run1)),
        ]
    );
    // The run arrives (on another day): the job's day is recomputed with its workflow and id.
    let run2 = run(&app, &org, 2, "Nightly", "2026-11-05T01:00:00Z").await;
    let d = get(&app, &org, "failures", days).await;
    assert_eq!(
        failing(&d, "jobs")[0],
        ("test".into(), Value::Null, 2, json!("Nightly"), json!(run2))
    );
    assert_eq!(
        failing(&d, "steps")[0],
        (
            "test".into(),
            json!("Run tests"),
            2,
            json!("Nightly"),
            json!(run2)
        )
    );
    let nightly = get(&app, &org, "failures", &format!("{days}&workflow=Nightly")).await;
    assert_eq!(failing(&nightly, "jobs").len(), 1);
    assert_eq!(failing(&nightly, "jobs")[0].2, 1);

    // A re-run fixes `lint`: it no longer counts.
    exec(
        &app,
        "UPDATE workflow_jobs SET conclusion = 'success', failed_steps = '[]'
         WHERE org_id = $1 AND job_id = 12",
        org.id,
    )
    .await;
    let d = get(&app, &org, "failures", days).await;
    assert_eq!(failing(&d, "jobs").len(), 1);
    assert_eq!(failing(&d, "steps").len(), 1);

    // Partial days come from the jobs; the branch filter reads every day from them: the same.
    job(
        &app,
        &org,
        FailedJob {
            job_id: 31,
            run_id: 1,
            name: "build",
            step: "cargo",
            at: "2026-11-04T20:00:00Z",
        },
    )
    .await;
    for window in [days, "from=2026-11-02T09:00:00Z&to=2026-11-04T21:00:00Z"] {
        let rolled = get(&app, &org, "failures", window).await;
        let raw = get(&app, &org, "failures", &format!("{window}&branch=main")).await;
        // Run 2 is on `main` too: every failing job has a run on `main`.
        assert_eq!(rolled["jobs"], raw["jobs"], "{window}");
        assert_eq!(rolled["steps"], raw["steps"], "{window}");
        assert_eq!(failing(&rolled, "jobs").len(), 2, "{window}");
    }
    let cut = get(
        &app,
        &org,
        "failures",
        "from=2026-11-02T09:00:00Z&to=2026-11-04T19:00:00Z",
    )
    .await;
    assert_eq!(
        failing(&cut, "jobs").len(),
        1,
        "the build failed after the window"
    );
}
