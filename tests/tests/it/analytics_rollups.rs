//! The run rollups stay true: a run stored, changed or deleted after a read shows in the next
//! read of the same whole days and weeks (the triggers mark the day, the read recomputes it), and
//! a rollup read equals a read from the runs themselves (a branch filter bypasses the rollup).

use axum::http::Method;
use repopal_tests::{TestApp, auth::Session};
use serde_json::Value;
use uuid::Uuid;

/// The one repository of a test's organisation, which runs are added to.
struct Runs<'a> {
    app: &'a TestApp,
    org: Uuid,
    repo: Uuid,
}

impl Runs<'_> {
    async fn add(&self, run_id: i64, conclusion: &str, at: &str) {
        sqlx::query(
            "INSERT INTO workflow_runs (org_id, repository_id, run_id, run_attempt, run_number, workflow_id,
                                        workflow_name, branch, head_sha, status, conclusion, completed_at,
                                        duration_ms)
             VALUES ($1, $2, $3, 1, $3, 1, 'CI', 'main', 'abc123', 'completed', $4, $5::timestamptz,
                     $3 * 1000)",
        )
        .bind(self.org)
        .bind(self.repo)
        .bind(run_id)
        .bind(conclusion)
        .bind(at)
        .execute(&self.app.db.pool)
        .await
        .expect("insert run");
    }
}

async fn series(app: &TestApp, session: &Session, org: Uuid, query: &str) -> Value {
    app.caller(Some(session))
        .call(
            Method::GET,
            &format!("/api/v1/orgs/{org}/analytics/workflows?{query}"),
            None,
            200,
        )
        .await
}

/// (runs, failures, median ms) of the overall bucket `i`.
fn point(data: &Value, i: usize) -> (i64, i64, Option<i64>) {
    let b = &data["overall"][i];
    (
        b["runs"].as_i64().expect("runs"),
        b["failures"].as_i64().expect("failures"),
        b["duration_p50_ms"].as_i64(),
    )
}

#[tokio::test]
async fn runs_stored_changed_or_deleted_after_a_read_show_in_the_next_one() {
    let app = TestApp::builder().build().await;
    let session = app.register("rollup@example.com", Some("Rollups")).await;
    let org: Uuid = session.first_org().parse().expect("org id");
    let repo: Uuid = sqlx::query_scalar(
        "INSERT INTO repositories (org_id, github_id, full_name, monitoring_enabled)
         VALUES ($1, 1, 'acme/api', true) RETURNING id",
    )
    .bind(org)
    .fetch_one(&app.db.pool)
    .await
    .expect("repository");
    let runs = Runs {
        app: &app,
        org,
        repo,
    };
    runs.add(1, "success", "2026-11-03T10:00:00Z").await;
    runs.add(2, "failure", "2026-11-03T11:00:00Z").await;

    // Whole days 2–4 November (Monday to Wednesday) and the whole week of 2 November.
    let days = "from=2026-11-02T00:00:00Z&to=2026-11-05T00:00:00Z";
    let weeks = "from=2026-11-02T00:00:00Z&to=2026-11-16T00:00:00Z&bucket=week";
    let d = series(&app, &session, org, days).await;
    assert_eq!(point(&d, 1), (2, 1, Some(1500)));
    let w = series(&app, &session, org, weeks).await;
    assert_eq!(point(&w, 0), (2, 1, Some(1500)));
    let rows: i64 =
        sqlx::query_scalar("SELECT count(*) FROM analytics_run_rollups WHERE org_id = $1")
            .bind(org)
            .fetch_one(&app.db.pool)
            .await
            .expect("count");
    assert!(rows > 0, "the reads filled the rollup");

    // A late run on a day already rolled up, one on another day of that week.
    runs.add(3, "timed_out", "2026-11-03T12:00:00Z").await;
    runs.add(4, "success", "2026-11-06T09:00:00Z").await;
    let d = series(&app, &session, org, days).await;
    assert_eq!(point(&d, 1), (3, 2, Some(2000)));
    let w = series(&app, &session, org, weeks).await;
    assert_eq!(point(&w, 0), (4, 2, Some(2500)));

    // A changed conclusion and a deleted run.
    sqlx::query("UPDATE workflow_runs SET conclusion = 'success' WHERE org_id = $1 AND run_id = 2")
        .bind(org)
        .execute(&app.db.pool)
        .await
        .expect("update");
    sqlx::query("DELETE FROM workflow_runs WHERE org_id = $1 AND run_id = 1")
        .bind(org)
        .execute(&app.db.pool)
        .await
        .expect("delete");
    let d = series(&app, &session, org, days).await;
    assert_eq!(point(&d, 1), (2, 1, Some(2500)));
    let w = series(&app, &session, org, weeks).await;
    assert_eq!(point(&w, 0), (3, 1, Some(3000)));

    // A branch filter reads the runs themselves: the same numbers.
    let raw = series(&app, &session, org, &format!("{days}&branch=main")).await;
    assert_eq!(raw["overall"], d["overall"]);
    assert_eq!(raw["workflows"], d["workflows"]);

    // Deleting the organisation takes its rollup rows with it and leaves no marks.
    sqlx::query("DELETE FROM organizations WHERE id = $1")
        .bind(org)
        .execute(&app.db.pool)
        .await
        .expect("delete org");
    let left: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM analytics_run_rollups WHERE org_id = $1)
              + (SELECT count(*) FROM analytics_dirty_days WHERE org_id = $1)",
    )
    .bind(org)
    .fetch_one(&app.db.pool)
    .await
    .expect("count");
    assert_eq!(left, 0);
}

/// A run written while a read refreshes its day is not lost: the writer's mark locks the day's mark,
/// so the read waits for the writer and recomputes the day with its run.
#[tokio::test]
async fn a_run_committed_during_a_read_of_its_day_shows_in_the_next_read() {
    let app = TestApp::builder().build().await;
    let session = app.register("race@example.com", Some("Race")).await;
    let org: Uuid = session.first_org().parse().expect("org id");
    let repo: Uuid = sqlx::query_scalar(
        "INSERT INTO repositories (org_id, github_id, full_name, monitoring_enabled)
         VALUES ($1, 1, 'acme/api', true) RETURNING id",
    )
    .bind(org)
    .fetch_one(&app.db.pool)
    .await
    .expect("repository");
    let runs = Runs {
        app: &app,
        org,
        repo,
    };
    let days = "from=2026-11-02T00:00:00Z&to=2026-11-05T00:00:00Z";
    runs.add(1, "success", "2026-11-03T10:00:00Z").await;
    series(&app, &session, org, days).await;
    // The day is marked again (committed) by a second run.
    runs.add(2, "success", "2026-11-03T11:00:00Z").await;

    // A writer stores a third run on that day and has not committed yet.
    let mut writer = app.db.pool.begin().await.expect("writer");
    sqlx::query(
        "INSERT INTO workflow_runs (org_id, repository_id, run_id, run_attempt, run_number, workflow_id,
                                    workflow_name, branch, head_sha, status, conclusion, completed_at,
                                    duration_ms)
         VALUES ($1, $2, 3, 1, 3, 1, 'CI', 'main', 'abc123', 'completed', 'success',
                 '2026-11-03T12:00:00Z', 3000)",
    )
    .bind(org)
    .bind(repo)
    .execute(&mut *writer)
    .await
    .expect("insert run 3");

    // A read starts meanwhile: it must wait for the writer (or, unfixed, finishes without run 3).
    let reader = {
        let pool = app.db.pool.clone();
        tokio::spawn(async move {
            let at = |s: &str| s.parse::<chrono::DateTime<chrono::Utc>>().expect("time");
            common::repo::analytics_rollups::refresh(
                &pool,
                common::domain::OrgId(org),
                at("2026-11-02T00:00:00Z"),
                at("2026-11-05T00:00:00Z"),
            )
            .await
            .expect("refresh")
        })
    };
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(&app.db.pool)
        .await
        .expect("activity");
        if waiting > 0 || reader.is_finished() || tokio::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    writer.commit().await.expect("commit run 3");
    reader.await.expect("reader");

    let d = series(&app, &session, org, days).await;
    assert_eq!(point(&d, 1).0, 3, "{d}");
}
