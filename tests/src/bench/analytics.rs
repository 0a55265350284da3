//! The analytics scenario: one organisation seeded in SQL (`analytics_seed.sql`: 1,000,000 workflow
//! runs, their failing jobs and 100,000 incidents over a year by default), then every analytics
//! route measured over HTTP against `repopal-api serve` with a 90-day window: daily, weekly and
//! filtered to one repository; p50/p95 of sequential requests per variant.

use std::time::{Duration, Instant};

use chrono::{DurationRound, Utc};
use serde_json::{Value, json};
use sqlx::Executor;
use uuid::Uuid;

use crate::TestDb;

/// The database `BENCH_ANALYTICS_REUSE=1` keeps between runs.
const REUSED_DB: &str = "repopal_bench_analytics";

/// The seed (`$1` org, `$2` runs, `$3` incidents, `$4` days).
const SEED: &str = include_str!("analytics_seed.sql");

/// What one route variant answered.
#[derive(Debug, Clone)]
pub struct RouteFigures {
    pub route: &'static str,
    pub variant: &'static str,
    pub requests: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
    /// Answers that were not 200 (must be 0).
    pub errors: usize,
}

/// The whole run.
#[derive(Debug, Clone)]
pub struct AnalyticsFigures {
    pub runs: i64,
    pub incidents: i64,
    pub failing_jobs: i64,
    pub days: usize,
    pub seed_secs: f64,
    /// The first request of the run, which brings the rollups up to date after the seed.
    pub first_request_ms: f64,
    pub routes: Vec<RouteFigures>,
}

async fn seed(db: &TestDb, org: Uuid, runs: usize, incidents: usize, days: usize) {
    // Our own numbers and a uuid: safe to put into the text.
    let sql = SEED
        .replace("$1", &format!("'{org}'::uuid"))
        .replace("$2", &runs.to_string())
        .replace("$3", &incidents.to_string())
        .replace("$4", &days.to_string());
    db.pool
        .execute(sqlx::raw_sql(sqlx::AssertSqlSafe(sql)))
        .await
        .expect("seed");
    // Visibility map and statistics, as autovacuum would leave them.
    for table in [
        "repositories",
        "workflow_runs",
        "workflow_jobs",
        "incidents",
    ] {
        db.pool
            .execute(sqlx::AssertSqlSafe(format!("VACUUM ANALYZE {table}")))
            .await
            .expect("vacuum");
    }
}

/// Seeds `runs` runs and `incidents` incidents over `days` days, then sends `requests` requests
/// per route variant.
pub async fn run(runs: usize, incidents: usize, days: usize, requests: usize) -> AnalyticsFigures {
    // BENCH_ANALYTICS_REUSE=1 keeps the seeded database for the next run, which reuses it.
    let reuse = std::env::var("BENCH_ANALYTICS_REUSE").is_ok_and(|v| v == "1");
    let (db, seeded) = if reuse {
        TestDb::kept(REUSED_DB).await
    } else {
        (TestDb::new().await, false)
    };
    let (api, base) = super::start_api(&db.url, &[]).await;
    let client = reqwest::Client::new();
    let (path, body) = if seeded {
        (
            "login",
            json!({"email": "bench@example.com", "password": crate::auth::PASSWORD}),
        )
    } else {
        (
            "register",
            json!({"email": "bench@example.com", "password": crate::auth::PASSWORD,
                      "full_name": "Bench", "organization_name": "Bench"}),
        )
    };
    let res = client
        .post(format!("{base}/api/v1/auth/{path}"))
        .json(&body)
        .send()
        .await
        .expect("sign in");
    let body: Value = res.json().await.expect("sign-in body");
    let token = body["data"]["tokens"]["access_token"]
        .as_str()
        .expect("access token")
        .to_owned();
    let org: Uuid = body["data"]["user"]["organizations"][0]["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("org id");

    let started = Instant::now();
    if !seeded {
        seed(&db, org, runs, incidents, days).await;
    }
    let seed_secs = started.elapsed().as_secs_f64();
    let count = |sql: &'static str| {
        let pool = db.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .bind(org)
                .fetch_one(&pool)
                .await
                .unwrap_or(0)
        }
    };
    let seeded_runs = count("SELECT count(*) FROM workflow_runs WHERE org_id = $1").await;
    let seeded_incidents = count("SELECT count(*) FROM incidents WHERE org_id = $1").await;
    let failing_jobs = count("SELECT count(*) FROM workflow_jobs WHERE org_id = $1").await;
    let repository: Uuid = sqlx::query_scalar(
        "SELECT id FROM repositories WHERE org_id = $1 ORDER BY full_name LIMIT 1",
    )
    .bind(org)
    .fetch_one(&db.pool)
    .await
    .expect("a repository");

    // A 90-day window ending now, as a dashboard asks for it.
    let now = Utc::now();
    let from = (now - chrono::Duration::days(90))
        .duration_trunc(chrono::Duration::days(1))
        .unwrap_or(now);
    let window = format!(
        "from={}&to={}",
        urlencode(&from.to_rfc3339()),
        urlencode(&now.to_rfc3339())
    );
    let get = |path: String| {
        let (client, token) = (client.clone(), token.clone());
        async move {
            let t = Instant::now();
            let ok = client
                .get(path)
                .bearer_auth(token)
                .timeout(Duration::from_secs(120))
                .send()
                .await
                .is_ok_and(|r| r.status().as_u16() == 200);
            (t.elapsed().as_secs_f64() * 1000.0, ok)
        }
    };
    let prefix = format!("{base}/api/v1/orgs/{org}/analytics");
    let (first_request_ms, _) = get(format!("{prefix}/workflows?{window}")).await;
    let variants: [(&'static str, &'static str, String); 12] = [
        (
            "workflows",
            "day",
            format!("{prefix}/workflows?{window}&bucket=day"),
        ),
        (
            "workflows",
            "week",
            format!("{prefix}/workflows?{window}&bucket=week"),
        ),
        (
            "workflows",
            "day, repository",
            format!("{prefix}/workflows?{window}&repository={repository}"),
        ),
        (
            "incidents",
            "day",
            format!("{prefix}/incidents?{window}&bucket=day"),
        ),
        (
            "incidents",
            "week",
            format!("{prefix}/incidents?{window}&bucket=week"),
        ),
        (
            "incidents",
            "day, repository",
            format!("{prefix}/incidents?{window}&repository={repository}"),
        ),
        ("failures", "window", format!("{prefix}/failures?{window}")),
        (
            "failures",
            "week",
            format!("{prefix}/failures?{window}&bucket=week"),
        ),
        (
            "failures",
            "repository",
            format!("{prefix}/failures?{window}&repository={repository}"),
        ),
        (
            "repositories",
            "window",
            format!("{prefix}/repositories?{window}"),
        ),
        (
            "repositories",
            "week",
            format!("{prefix}/repositories?{window}&bucket=week"),
        ),
        (
            "repositories",
            "repository",
            format!("{prefix}/repositories?{window}&repository={repository}"),
        ),
    ];
    let mut routes = Vec::new();
    for (route, variant, url) in variants {
        // One warm-up request, not counted.
        get(url.clone()).await;
        let mut times = Vec::with_capacity(requests);
        let mut errors = 0;
        for _ in 0..requests {
            let (ms, ok) = get(url.clone()).await;
            times.push(ms);
            errors += usize::from(!ok);
        }
        routes.push(RouteFigures {
            route,
            variant,
            requests,
            p50_ms: super::percentile(&mut times, 0.5),
            p95_ms: super::percentile(&mut times, 0.95),
            max_ms: times.iter().copied().fold(0.0, f64::max),
            errors,
        });
    }
    super::stop_all(vec![api]).await;
    AnalyticsFigures {
        runs: seeded_runs,
        incidents: seeded_incidents,
        failing_jobs,
        days,
        seed_secs,
        first_request_ms,
        routes,
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
