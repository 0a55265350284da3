//! The console's analytics charts over HTTP: the dashboard's and a repository's inline SVG show the
//! seeded days (bars, points and their data tables), labels are escaped, nothing comes from
//! another organisation, and no inline style breaks the CSP.

use chrono::{DateTime, Duration, DurationRound, Utc};
use repopal_tests::{TestApp, console::Browser};
use serde_json::json;
use uuid::Uuid;

async fn org_id(app: &TestApp, slug: &str) -> Uuid {
    sqlx::query_scalar("SELECT id FROM organizations WHERE slug = $1")
        .bind(slug)
        .fetch_one(&app.db.pool)
        .await
        .expect("query")
}

async fn repository(app: &TestApp, org: Uuid, github_id: i64, name: &str) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO repositories (org_id, github_id, full_name, monitoring_enabled)
         VALUES ($1, $2, $3, true) RETURNING id",
    )
    .bind(org)
    .bind(github_id)
    .bind(name)
    .fetch_one(&app.db.pool)
    .await
    .expect("insert")
}

/// One repository of one organisation, which the seeding helpers write rows for.
struct Seed<'a> {
    app: &'a TestApp,
    org: Uuid,
    repo: Uuid,
}

impl Seed<'_> {
    async fn run(&self, run_id: i64, conclusion: &str, at: DateTime<Utc>, ms: i64) {
        sqlx::query(
            "INSERT INTO workflow_runs (org_id, repository_id, run_id, run_attempt, run_number, workflow_id,
                                        workflow_name, branch, head_sha, status, conclusion, completed_at,
                                        duration_ms)
             VALUES ($1, $2, $3, 1, $3, 1, 'CI', 'main', 'abc123', 'completed', $4, $5, $6)",
        )
        .bind(self.org)
        .bind(self.repo)
        .bind(run_id)
        .bind(conclusion)
        .bind(at)
        .bind(ms)
        .execute(&self.app.db.pool)
        .await
        .expect("insert");
    }

    async fn failed_job(&self, job_id: i64, run_id: i64, name: &str, at: DateTime<Utc>) {
        sqlx::query(
            "INSERT INTO workflow_jobs (org_id, job_id, repository_id, run_id, run_attempt, name, status,
                                        conclusion, completed_at, failed_steps)
             VALUES ($1, $2, $3, $4, 1, $5, 'completed', 'failure', $6, $7)",
        )
        .bind(self.org)
        .bind(job_id)
        .bind(self.repo)
        .bind(run_id)
        .bind(name)
        .bind(at)
        .bind(json!(["Run tests"]))
        .execute(&self.app.db.pool)
        .await
        .expect("insert");
    }

    async fn incident(&self, key: &str, opened: DateTime<Utc>, resolved: Option<DateTime<Utc>>) {
        sqlx::query(
            "INSERT INTO incidents (org_id, repository_id, dedupe_key, workflow_id, workflow_name, branch, title,
                                    severity, status, first_seen_at, last_seen_at, head_sha, resolved_at)
             VALUES ($1, $2, $3, 1, 'CI', 'main', 'CI failed', 'high',
                     CASE WHEN $5::timestamptz IS NULL THEN 'open' ELSE 'resolved' END,
                     $4, $4, 'abc123', $5)",
        )
        .bind(self.org)
        .bind(self.repo)
        .bind(key)
        .bind(opened)
        .bind(resolved)
        .execute(&self.app.db.pool)
        .await
        .expect("insert");
    }
}

fn day(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// The markup of the chart whose element ids start with `id`, up to its `</svg>`.
fn svg_of<'a>(html: &'a str, id: &str) -> &'a str {
    let label = html
        .find(&format!("aria-labelledby=\"{id}-title"))
        .unwrap_or_else(|| panic!("no chart {id}"));
    let start = html[..label].rfind("<svg").expect("an svg element");
    let end = start + html[start..].find("</svg>").expect("closed svg");
    &html[start..end]
}

struct Seeded {
    repo_a: Uuid,
    other_repo: Uuid,
    d2: DateTime<Utc>,
    d5: DateTime<Utc>,
}

/// In `charts`: acme/api with 3 runs two days ago (1 failed) and 1 failed run five days ago, a
/// job named like markup, and an incident opened five days ago and resolved two hours later;
/// acme/web with a passing run. Another organisation's repository has runs on the same days.
async fn seed(app: &TestApp) -> Seeded {
    let org = org_id(app, "charts").await;
    let today = Utc::now()
        .duration_trunc(Duration::days(1))
        .expect("midnight");
    let (d2, d5) = (
        today - Duration::days(2) + Duration::hours(10),
        today - Duration::days(5) + Duration::hours(10),
    );
    let repo_a = repository(app, org, 1, "acme/api").await;
    let repo_b = repository(app, org, 2, "acme/web").await;
    let a = Seed {
        app,
        org,
        repo: repo_a,
    };
    let b = Seed {
        app,
        org,
        repo: repo_b,
    };
    a.run(1, "success", d2, 60_000).await;
    a.run(2, "success", d2, 120_000).await;
    a.run(3, "failure", d2, 180_000).await;
    a.run(4, "failure", d5, 30_000).await;
    b.run(5, "success", d2, 5_000).await;
    a.failed_job(31, 3, "<script>alert(1)</script>", d2).await;
    a.failed_job(41, 4, "<script>alert(1)</script>", d5).await;
    a.incident("a1", d5, Some(d5 + Duration::hours(2))).await;

    let other_signup = app.register("eve@example.com", Some("Others")).await;
    let other: Uuid = other_signup.first_org().parse().expect("org id");
    let other_repo = repository(app, other, 3, "others/secret-repo").await;
    let others = Seed {
        app,
        org: other,
        repo: other_repo,
    };
    for i in 0..5 {
        others.run(100 + i, "failure", d2, 1_000).await;
    }
    Seeded {
        repo_a,
        other_repo,
        d2,
        d5,
    }
}

#[tokio::test]
async fn the_dashboard_charts_the_last_30_days_as_inline_svg() {
    let app = TestApp::builder().build().await;
    let mut b = Browser::default();
    b.sign_up(&app, "Ann", "ann@example.com", "Charts").await;
    let s = seed(&app).await;
    let (d2, d5) = (day(s.d2), day(s.d5));

    let res = b.get(&app, "/orgs/charts").await;
    assert_eq!(res.status, 200, "{}", res.text());
    let html = res.text();
    assert!(!html.contains(" style="), "the CSP forbids inline style");
    assert!(!html.contains("<script>alert(1)"), "labels are escaped");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(
        !html.contains("others/secret-repo"),
        "another org's repository"
    );

    // Runs: stacked bars on the two seeded days only, each with its value.
    let runs = svg_of(&html, "runs-per-day");
    assert!(runs.contains("role=\"img\""));
    assert!(runs.contains("<title id=\"runs-per-day-title\">Runs per day</title>"));
    assert!(runs.contains("5 completed runs in the last 30 days, 2 of them failed (40%)."));
    assert!(
        runs.contains(&format!(
            "data-x=\"{d2}\" data-series=\"Passed\" data-value=\"3\""
        )),
        "{runs}"
    );
    assert!(runs.contains(&format!(
        "data-x=\"{d2}\" data-series=\"Failed\" data-value=\"1\""
    )));
    assert!(runs.contains(&format!(
        "data-x=\"{d5}\" data-series=\"Failed\" data-value=\"1\""
    )));
    assert_eq!(
        runs.matches("class=\"bar\"").count(),
        3,
        "three bars: {runs}"
    );
    // Axis ticks: 0 to at least 4 runs.
    assert!(
        runs.contains(">0</text>") && runs.contains(">4</text>"),
        "{runs}"
    );
    // The data table has the same numbers.
    assert!(
        html.contains(&format!("<th scope=\"row\">{d2}</th><td>3</td><td>1</td>")),
        "{html}"
    );
    assert!(html.contains(&format!("<th scope=\"row\">{d5}</th><td>0</td><td>1</td>")));

    // Failure rate: a point per day with runs (1 of 4, then 1 of 1).
    let rate = svg_of(&html, "failure-rate");
    assert_eq!(rate.matches("class=\"point\"").count(), 2, "{rate}");
    assert!(rate.contains(&format!(
        "data-x=\"{d2}\" data-series=\"Failure rate\" data-value=\"0.25\""
    )));
    assert!(rate.contains(&format!(
        "data-x=\"{d5}\" data-series=\"Failure rate\" data-value=\"1\""
    )));

    // Incidents: opened and resolved on the fifth day back, MTTR two hours.
    let inc = svg_of(&html, "incidents-per-day");
    assert!(inc.contains(&format!(
        "data-x=\"{d5}\" data-series=\"Opened\" data-value=\"1\""
    )));
    assert!(inc.contains(&format!(
        "data-x=\"{d5}\" data-series=\"Resolved\" data-value=\"1\""
    )));
    assert_eq!(inc.matches("class=\"bar\"").count(), 2);
    let mttr = svg_of(&html, "mttr");
    assert!(
        mttr.contains(&format!(
            "data-x=\"{d5}\" data-series=\"Median\" data-value=\"7200000\""
        )),
        "{mttr}"
    );
    assert!(
        mttr.contains("median 2 h for the incidents opened"),
        "{mttr}"
    );
    assert!(html.contains(&format!(
        "<th scope=\"row\">{d5}</th><td>2 h</td><td>2 h</td>"
    )));

    // The failing job, twice; the ranking worst first with its parts in the table.
    let jobs = svg_of(&html, "failing-jobs");
    assert!(
        jobs.contains(
            "data-x=\"acme/api · &lt;script&gt;alert(1)&lt;/script&gt;\" data-value=\"2\""
        ),
        "{jobs}"
    );
    let health = svg_of(&html, "repository-health");
    let (api_at, web_at) = (
        health.find("data-x=\"acme/api\"").expect("acme/api ranked"),
        health.find("data-x=\"acme/web\"").expect("acme/web ranked"),
    );
    assert!(api_at < web_at, "worst first");
    // acme/api: 2 of 4 runs failed, no open incident, MTTR 2 h, monitored:
    // 100 × (0.5 × 0.5 + 0.2 + 0.2 × (1 − 2/24) + 0.1) = 73.3
    assert!(
        health.contains("data-x=\"acme/api\" data-value=\"73.3\""),
        "{health}"
    );
    assert!(html.contains("<th scope=\"row\">acme/api</th><td>73.3</td><td>4</td><td>50%</td><td>0</td><td>2 h</td><td>yes</td>"), "{html}");
}

#[tokio::test]
async fn a_repository_s_trends_page_charts_only_that_repository() {
    let app = TestApp::builder().build().await;
    let mut b = Browser::default();
    b.sign_up(&app, "Ann", "ann@example.com", "Charts").await;
    let s = seed(&app).await;
    let (d2, d5) = (day(s.d2), day(s.d5));

    let res = b
        .get(
            &app,
            &format!("/orgs/charts/repositories/{}/trends", s.repo_a),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let html = res.text();
    assert!(html.contains("<h1>acme/api"));
    assert!(!html.contains(" style="));
    let rate = svg_of(&html, "repository-failure-rate");
    // acme/web's passing run is not counted: 1 of 3 failed on d2.
    assert!(
        rate.contains("4 completed runs in the last 30 days, 2 failed (50%)."),
        "{rate}"
    );
    assert!(
        rate.contains(&format!(
            "data-x=\"{d2}\" data-series=\"Failure rate\" data-value=\"0.3333\""
        )),
        "{rate}"
    );
    let duration = svg_of(&html, "repository-duration");
    assert!(
        duration.contains(&format!(
            "data-x=\"{d2}\" data-series=\"Median\" data-value=\"120000\""
        )),
        "{duration}"
    );
    assert!(duration.contains(&format!(
        "data-x=\"{d5}\" data-series=\"p90\" data-value=\"30000\""
    )));
    assert_eq!(duration.matches("class=\"point\"").count(), 4);
    assert!(
        html.contains(&format!(
            "<th scope=\"row\">{d2}</th><td>2 min</td><td>2.8 min</td>"
        )),
        "{html}"
    );

    // Another organisation's repository, and ids that are not one: 404.
    for path in [
        format!("/orgs/charts/repositories/{}/trends", s.other_repo),
        "/orgs/charts/repositories/not-a-uuid/trends".to_owned(),
        format!("/orgs/others/repositories/{}/trends", s.other_repo),
    ] {
        let res = b.get(&app, &path).await;
        assert_eq!(res.status, 404, "{path}");
        assert!(!res.text().contains("secret-repo"));
    }
}

#[tokio::test]
async fn an_empty_organisation_gets_empty_charts_not_an_error() {
    let app = TestApp::builder().build().await;
    let mut b = Browser::default();
    b.sign_up(&app, "Ann", "ann@example.com", "Charts").await;
    let res = b.get(&app, "/orgs/charts").await;
    assert_eq!(res.status, 200, "{}", res.text());
    let html = res.text();
    assert!(html.contains("0 completed runs in the last 30 days"));
    assert_eq!(html.matches("class=\"bar\"").count(), 0);
    assert_eq!(html.matches("class=\"point\"").count(), 0);
    assert!(html.contains("No data in this window"));
    assert_eq!(html.matches("<svg class=\"chart\"").count(), 6);
}
