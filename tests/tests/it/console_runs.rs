//! The console's workflow runs page over HTTP: signed `workflow_run` deliveries become rows with a
//! link to the run, and the window's stats (runs, failures, failure rate, median and p90 duration,
//! per workflow) come from the analytics functions; filtered to one repository, branch or
//! workflow; markup in a branch
//! name is shown as text; another organisation's repository is a 404; older runs page by cursor.

use chrono::{Duration, SecondsFormat, Utc};
use repopal_tests::{Setup, TestApp, console::Browser, monitored::RunIds};

use crate::console_repositories::admin_browser;

/// Delivers a completed run of `secs` seconds that finished a minute ago.
async fn run(m: &Setup, run_id: i64, branch: &str, conclusion: &str, secs: i64) {
    let done = Utc::now() - Duration::minutes(1);
    let mut p = m.workflow_run(RunIds::first(run_id, run_id - 9000), branch, conclusion);
    p["workflow_run"]["run_started_at"] = (done - Duration::seconds(secs))
        .to_rfc3339_opts(SecondsFormat::Secs, true)
        .into();
    p["workflow_run"]["updated_at"] = done.to_rfc3339_opts(SecondsFormat::Secs, true).into();
    if conclusion == "failure" {
        m.github
            .set_run_jobs(run_id, &[("build", "failure", Some("boom"))]);
    }
    m.run_completes(&format!("delivery-{run_id}"), &p).await;
}

fn stat(html: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\">");
    let at = html
        .find(&marker)
        .unwrap_or_else(|| panic!("{id} in {html}"))
        + marker.len();
    html[at..].split('<').next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn the_runs_page_lists_runs_with_the_windows_stats() {
    let m = TestApp::builder().monitored_repo().await;
    run(&m, 9001, "main", "success", 60).await;
    run(&m, 9002, "main", "failure", 120).await;
    run(&m, 9003, "fix/<b>bold</b>", "success", 180).await;
    let mut b = admin_browser(&m).await;

    let page = b.get(&m.app, "/orgs/kilo/runs").await;
    assert_eq!(page.status, 200, "{}", page.text());
    let html = page.text();
    assert_eq!(html.matches("<tr class=\"run\">").count(), 3, "{html}");
    assert_eq!(stat(&html, "stat-runs"), "3");
    assert_eq!(stat(&html, "stat-failures"), "1");
    assert_eq!(stat(&html, "stat-failure-rate"), "33.3 %");
    // Durations 60, 120 and 180 s: median 120 s, p90 (interpolated) 168 s.
    assert_eq!(stat(&html, "stat-p50"), "2 m 00 s");
    assert_eq!(stat(&html, "stat-p90"), "2 m 48 s");
    assert!(html.contains("id=\"workflow-stats\""));
    assert!(html.contains(&format!(
        "href=\"https://github.com/{}/actions/runs/9002\"",
        m.full_name
    )));
    assert!(html.contains("<span class=\"badge bad\">failure</span>"));
    assert!(html.contains("fix/&#60;b&#62;bold&#60;/b&#62;"), "{html}");
    assert!(!html.contains("<b>bold</b>"));
    assert!(html.contains(&format!("/orgs/kilo/runs?repository={}", m.repo)));
    // The repository page links here.
    let detail = b
        .get(&m.app, &format!("/orgs/kilo/repositories/{}", m.repo))
        .await
        .text();
    assert!(detail.contains(&format!(
        "href=\"/orgs/kilo/runs?repository={}\" id=\"runs-stats-link\"",
        m.repo
    )));

    // Filtered to the repository, over 7 days.
    let one = b
        .get(
            &m.app,
            &format!("/orgs/kilo/runs?repository={}&days=7", m.repo),
        )
        .await;
    assert_eq!(one.status, 200, "{}", one.text());
    let html = one.text();
    assert!(html.contains(&format!("<h1>Workflow runs of {}</h1>", m.full_name)));
    assert_eq!(stat(&html, "stat-runs"), "3");
    assert!(html.contains("<option value=\"7\" selected>"));

    // One branch, one workflow; an over-long filter is a 422 page, not an error.
    let main = b.get(&m.app, "/orgs/kilo/runs?branch=main").await.text();
    assert_eq!(stat(&main, "stat-runs"), "2");
    assert_eq!(stat(&main, "stat-failures"), "1");
    assert_eq!(main.matches("<tr class=\"run\">").count(), 2);
    assert!(main.contains("<input id=\"f-branch\" name=\"branch\" value=\"main\""));
    let test = b.get(&m.app, "/orgs/kilo/runs?workflow=test").await.text();
    assert_eq!(stat(&test, "stat-runs"), "3");
    let none = b.get(&m.app, "/orgs/kilo/runs?workflow=nope").await.text();
    assert_eq!(stat(&none, "stat-runs"), "0");
    assert!(none.contains("id=\"no-runs\""));
    let long = "b".repeat(300);
    let res = b
        .get(&m.app, &format!("/orgs/kilo/runs?branch={long}"))
        .await;
    assert_eq!(res.status, 422, "{}", res.text());

    // Someone else's organisation, or no repository: 404, nothing leaks.
    let mut other = Browser::default();
    other
        .sign_up(&m.app, "Other", "other@example.com", "Elsewhere")
        .await;
    let res = other
        .get(
            &m.app,
            &format!("/orgs/elsewhere/runs?repository={}", m.repo),
        )
        .await;
    assert_eq!(res.status, 404);
    assert!(!res.text().contains(&m.full_name));
    assert_eq!(other.get(&m.app, "/orgs/kilo/runs").await.status, 404);
    let res = b.get(&m.app, "/orgs/kilo/runs?repository=not-a-uuid").await;
    assert_eq!(res.status, 404);
    // A forged cursor or window is ignored, never an error.
    let res = b
        .get(&m.app, "/orgs/kilo/runs?before=%3Cscript%3E&days=x9")
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(stat(&res.text(), "stat-runs"), "3");
}

#[tokio::test]
async fn older_runs_page_by_cursor() {
    let m = TestApp::builder().monitored_repo().await;
    for n in 1..=55_i64 {
        sqlx::query(
            "INSERT INTO workflow_runs (org_id, repository_id, run_id, run_attempt, run_number, workflow_id,
                                        workflow_name, branch, head_sha, status, conclusion, completed_at,
                                        duration_ms, received_at)
             SELECT org_id, id, 7000 + $2, 1, $2, 1, 'CI', 'main', 'abc123', 'completed', 'success',
                    now() - make_interval(mins => $2::int), 1000, now() - make_interval(mins => $2::int)
             FROM repositories WHERE id = $1::uuid",
        )
        .bind(&m.repo)
        .bind(n)
        .execute(&m.app.db.pool)
        .await
        .expect("run");
    }
    let mut b = admin_browser(&m).await;
    let html = b.get(&m.app, "/orgs/kilo/runs").await.text();
    assert_eq!(html.matches("<tr class=\"run\">").count(), 50);
    assert!(html.contains("<td>#1</td>") && html.contains("<td>#50</td>"));
    assert!(!html.contains("<td>#51</td>"));
    let link = html.find("\" id=\"older-runs\"").expect("older runs link");
    let at = html[..link].rfind("href=\"").expect("href") + "href=\"".len();
    let next = html[at..link].replace("&#38;", "&");
    let older = b.get(&m.app, &next).await;
    assert_eq!(older.status, 200, "{}", older.text());
    let html = older.text();
    assert_eq!(html.matches("<tr class=\"run\">").count(), 5, "{html}");
    assert!(html.contains("<td>#51</td>") && html.contains("<td>#55</td>"));
    assert!(!html.contains("id=\"older-runs\""));
    assert_eq!(stat(&html, "stat-runs"), "55");
}
