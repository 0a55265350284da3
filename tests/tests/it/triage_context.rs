//! Triage context from GitHub for an OAuth-connected repository: directory listing, file content
//! (with its cap), workflows with YAML, commit diff (capped), a job's full log (streamed, capped),
//! ETag reuse, GitHub's 403/429 rate limits as 429 with `Retry-After`, path attacks refused,
//! another organisation's ids as 404, one refresh for a burst of fetches with an expired token,
//! and the incident detail's links.

use axum::http::Method;
use repopal_tests::TestApp;
use repopal_tests::app::{ErrorEnvelope, OAuthToken};
use repopal_tests::{Setup, fake_github::RateLimit, shapes::Page};
use serde::Deserialize;
use serde_json::Value;

/// A directory entry.
#[derive(Debug, Deserialize)]
struct Entry {
    #[serde(rename = "type")]
    kind: String,
    name: String,
    path: String,
}

/// A file's content.
#[derive(Debug, Deserialize)]
struct File {
    content: String,
}

/// A workflow with its YAML.
#[derive(Debug, Deserialize)]
struct Workflow {
    path: String,
    yaml: Option<String>,
}

/// A commit's changes, within the caps.
#[derive(Debug, Deserialize)]
struct Diff {
    message: String,
    files: Vec<ChangedFile>,
    truncated: bool,
}

#[derive(Debug, Deserialize)]
struct ChangedFile {
    patch: Option<String>,
    patch_truncated: bool,
}

/// The first id of a list page.
fn first_id(page: &Page) -> String {
    page.items[0]["id"].as_str().expect("as set up").to_owned()
}

const CI_YAML: &str = "name: CI\non: [push]\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: cargo test\n";

async fn with_files(m: &Setup) {
    m.github
        .put_file(&m.full_name, "main", "README.md", "# Hello\n");
    m.github
        .put_file(&m.full_name, "main", "src/lib.rs", "pub fn f() {}\n");
    m.github
        .put_file(&m.full_name, "main", ".github/workflows/ci.yml", CI_YAML);
    m.github
        .put_file(&m.full_name, "feature", "README.md", "# On a branch\n");
    m.github
        .put_file(&m.full_name, "main", "big.bin", &"x".repeat(300 * 1024));
}

#[tokio::test]
async fn files_workflows_and_diffs_come_from_github_within_their_caps() {
    let m = TestApp::builder().oauth_repo(OAuthToken::NonExpiring).await;
    with_files(&m).await;
    let base = format!("repositories/{}", m.repo);

    let admin = m.as_admin();
    let root: Page<Entry> = admin
        .call(Method::GET, &format!("{base}/files"), None, 200)
        .await;
    let mut names: Vec<String> = root
        .items
        .iter()
        .map(|e| format!("{}:{}", e.kind, e.name))
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["dir:.github", "dir:src", "file:README.md", "file:big.bin"]
    );
    let src: Page<Entry> = admin
        .call(Method::GET, &format!("{base}/files?path=src"), None, 200)
        .await;
    assert_eq!(src.items[0].path, "src/lib.rs");

    let file: File = admin
        .call(Method::GET, &format!("{base}/files/src/lib.rs"), None, 200)
        .await;
    assert_eq!(file.content, "pub fn f() {}\n");
    let branch: File = admin
        .call(
            Method::GET,
            &format!("{base}/files/README.md?ref=feature"),
            None,
            200,
        )
        .await;
    assert_eq!(branch.content, "# On a branch\n");
    let big: ErrorEnvelope = admin
        .call(Method::GET, &format!("{base}/files/big.bin"), None, 400)
        .await;
    assert_eq!(big.error.code, "file_too_large");
    let _: ErrorEnvelope = admin
        .call(Method::GET, &format!("{base}/files/nope.txt"), None, 404)
        .await;

    let workflows: Page<Workflow> = admin
        .call(Method::GET, &format!("{base}/workflows"), None, 200)
        .await;
    let w = &workflows.items[0];
    assert_eq!(w.path, ".github/workflows/ci.yml");
    assert_eq!(w.yaml.as_deref(), Some(CI_YAML));

    // A commit of 120 files, one with a 40 KiB patch: 100 files, that patch cut.
    let mut files: Vec<(String, String)> = (0..120)
        .map(|i| {
            (
                format!("src/f{i:03}.rs"),
                format!("@@ -1 +1 @@\n-old {i}\n+new {i}"),
            )
        })
        .collect();
    files[0].1 = format!("@@ -1 +1 @@\n+{}", "y".repeat(40 * 1024));
    let sha = "0123456789abcdef0123456789abcdef01234567";
    m.github
        .put_commit(&m.full_name, sha, "Break the build", &files);
    let d: Diff = admin
        .call(
            Method::GET,
            &format!("{base}/commits/{sha}/diff"),
            None,
            200,
        )
        .await;
    assert_eq!(d.message, "Break the build");
    assert_eq!(d.files.len(), 100);
    assert!(d.truncated);
    assert!(d.files[0].patch_truncated);
    assert_eq!(
        d.files[0].patch.as_deref().expect("as set up").len(),
        common::github::PATCH_MAX_BYTES
    );
    assert_eq!(
        d.files[1].patch.as_deref(),
        Some("@@ -1 +1 @@\n-old 1\n+new 1")
    );
}

#[tokio::test]
async fn paths_that_would_leave_the_repository_are_refused_before_github_is_asked() {
    let m = TestApp::builder().oauth_repo(OAuthToken::NonExpiring).await;
    with_files(&m).await;
    let base = format!("repositories/{}", m.repo);
    let calls_before = m.github.calls().len();
    for attack in [
        format!("{base}/files?path=../../../user"),
        format!("{base}/files?path=src/%2E%2E/%2E%2E/%2E%2E/user"),
        format!("{base}/files/src/..%2F..%2F..%2Fuser"),
        format!("{base}/files?path=src%5C..%5Cx"),
    ] {
        let res: ErrorEnvelope = m.as_admin().call(Method::GET, &attack, None, 400).await;
        assert_eq!(res.error.code, "invalid_path", "{attack}: {res:?}");
    }
    let bad_ref: ErrorEnvelope = m
        .as_admin()
        .call(
            Method::GET,
            &format!("{base}/files?path=src&ref=a..b"),
            None,
            400,
        )
        .await;
    assert_eq!(bad_ref.error.code, "invalid_ref");
    let bad_sha: ErrorEnvelope = m
        .as_admin()
        .call(
            Method::GET,
            &format!("{base}/commits/..%2F..%2Fuser/diff"),
            None,
            400,
        )
        .await;
    assert_eq!(bad_sha.error.code, "invalid_sha");
    assert_eq!(
        m.github.calls().len(),
        calls_before,
        "GitHub was never asked"
    );
}

#[tokio::test]
async fn answers_are_reused_by_etag_and_rate_limits_become_429_with_retry_after() {
    let m = TestApp::builder().oauth_repo(OAuthToken::NonExpiring).await;
    with_files(&m).await;
    let path = format!("repositories/{}/files/README.md", m.repo);
    let admin = m.as_admin();
    for _ in 0..3 {
        let file: File = admin.call(Method::GET, &path, None, 200).await;
        assert_eq!(file.content, "# Hello\n");
    }
    assert_eq!(
        m.github.content_counts(),
        (1, 2),
        "one counted request, then two conditional ones answered 304"
    );

    // Primary limit: 403 with x-ratelimit-remaining 0.
    m.github.rate_limit_next(&[RateLimit::Primary(120)]);
    // The Retry-After header is read: the raw answer.
    let res = admin.send(Method::GET, &path, None).await;
    assert_eq!(
        res.error_code(),
        (429, "upstream_rate_limited".to_owned()),
        "{}",
        res.text()
    );
    let wait: u64 = res.headers["retry-after"]
        .to_str()
        .expect("as set up")
        .parse()
        .expect("as set up");
    assert!((100..=121).contains(&wait), "{wait}");
    // Secondary limit: 429 with retry-after.
    m.github.rate_limit_next(&[RateLimit::Secondary(45)]);
    let res = admin
        .send(
            Method::GET,
            &format!("repositories/{}/workflows", m.repo),
            None,
        )
        .await;
    assert_eq!(res.error_code(), (429, "upstream_rate_limited".to_owned()));
    assert_eq!(res.headers["retry-after"], "45");
    // Then it works again.
    let _: File = admin.call(Method::GET, &path, None, 200).await;
}

#[tokio::test]
async fn another_organisations_repository_and_run_are_404() {
    let m = TestApp::builder().oauth_repo(OAuthToken::NonExpiring).await;
    with_files(&m).await;
    let other = m.app.register("other-org@example.com", Some("Other")).await;
    let other_org = other.first_org();
    let calls_before = m.github.calls().len();
    let stranger = m.app.caller(Some(&other)).in_org(&other_org);
    for path in [
        format!("repositories/{}/files", m.repo),
        format!("repositories/{}/files/README.md", m.repo),
        format!("repositories/{}/workflows", m.repo),
        format!("repositories/{}/commits/0123456/diff", m.repo),
    ] {
        let _: ErrorEnvelope = stranger.call(Method::GET, &path, None, 404).await;
    }
    // A run of the first organisation, asked for through the second.
    m.monitor().await;
    m.github
        .set_run_jobs(9101, &[("build", "failure", Some("Compile"))]);
    m.deliver_from_hook("workflow_run", "d-x", &m.hook_workflow_run(9101, "failure"))
        .await;
    m.run_jobs().await;
    let runs: Page = m
        .as_admin()
        .call(Method::GET, "workflow-runs", None, 200)
        .await;
    let run = first_id(&runs);
    let _: ErrorEnvelope = stranger
        .call(Method::GET, &format!("workflow-runs/{run}/logs"), None, 404)
        .await;
    assert!(
        m.github.calls()[calls_before..]
            .iter()
            .all(|c| !c.contains("/contents") && !c.contains("/commits/")),
        "nothing was fetched for the other organisation"
    );
}

#[tokio::test]
async fn a_failed_jobs_log_is_streamed_and_capped() {
    let m = TestApp::builder()
        .env("GITHUB_LOG_MAX_BYTES", "200")
        .oauth_repo(OAuthToken::NonExpiring)
        .await;
    m.monitor().await;
    m.github.set_run_jobs(
        9201,
        &[
            ("lint", "success", None),
            ("build", "failure", Some("Compile")),
        ],
    );
    m.deliver_from_hook(
        "workflow_run",
        "d-log",
        &m.hook_workflow_run(9201, "failure"),
    )
    .await;
    m.run_jobs().await;
    let runs: Page = m
        .as_admin()
        .call(Method::GET, "workflow-runs", None, 200)
        .await;
    let run = first_id(&runs);
    // A plain-text answer whose headers are read: the raw answer.
    let res = m
        .as_admin()
        .send(Method::GET, &format!("workflow-runs/{run}/logs"), None)
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.headers["x-repopal-job-id"], "92011", "the failed job");
    assert!(
        res.headers["content-type"]
            .to_str()
            .expect("as set up")
            .starts_with("text/plain")
    );
    let text = res.text();
    let (kept, note) = text.split_at(200);
    assert!(
        kept.starts_with("2026-11-21T00:00:01Z build log line 1"),
        "{text}"
    );
    assert_eq!(note, "\n[RepoPal: log cut at 200 bytes]\n");
    let used = m.github.tokens_used(&format!(
        "GET /repos/{}/actions/jobs/92011/logs",
        m.full_name
    ));
    assert!(!used.is_empty() && used.iter().all(|t| t.starts_with("gho_")));
    // A job of another run is not this run's.
    let _: ErrorEnvelope = m
        .as_admin()
        .call(
            Method::GET,
            &format!("workflow-runs/{run}/logs?job=12345"),
            None,
            404,
        )
        .await;
}

#[tokio::test]
async fn the_incident_detail_links_the_suspect_diff_and_the_workflow_yaml() {
    let m = TestApp::builder().oauth_repo(OAuthToken::NonExpiring).await;
    with_files(&m).await;
    m.monitor().await;
    m.github
        .set_run_jobs(9301, &[("build", "failure", Some("Compile"))]);
    let payload = m.hook_workflow_run(9301, "failure");
    let sha = payload["workflow_run"]["head_sha"]
        .as_str()
        .expect("as set up")
        .to_owned();
    m.github.put_commit(
        &m.full_name,
        &sha,
        "Suspect",
        &[("src/lib.rs".into(), "@@ -1 +1 @@\n-a\n+b".into())],
    );
    m.deliver_from_hook("workflow_run", "d-link", &payload)
        .await;
    m.run_jobs().await;
    let list: Page = m.as_admin().call(Method::GET, "incidents", None, 200).await;
    let id = first_id(&list);
    let detail: Value = m
        .as_admin()
        .call(Method::GET, &format!("incidents/{id}"), None, 200)
        .await;
    let links = &detail["links"];
    let diff = links["suspect_commit_diff"].as_str().expect("as set up");
    assert_eq!(
        diff,
        format!(
            "/api/v1/orgs/{}/repositories/{}/commits/{sha}/diff",
            m.org, m.repo
        )
    );
    let d: Diff = m
        .app
        .caller(Some(&m.admin))
        .call(Method::GET, diff, None, 200)
        .await;
    assert_eq!(d.message, "Suspect");
    let workflow = links["workflow"].as_str().expect("as set up");
    assert!(workflow.contains("/workflows?workflow_id="), "{workflow}");
}

#[tokio::test]
async fn an_expired_connection_token_is_refreshed_once_for_a_burst_of_fetches() {
    let m = TestApp::builder().oauth_repo(OAuthToken::Expiring).await;
    with_files(&m).await;
    m.github.set_refresh_delay_ms(300);
    sqlx::query("UPDATE oauth_connections SET token_expires_at = now() - interval '1 minute'")
        .execute(&m.app.db.pool)
        .await
        .expect("as set up");
    let path = format!("repositories/{}/files/README.md", m.repo);
    let admin = m.as_admin();
    let burst = (0..5).map(|_| admin.call::<File>(Method::GET, &path, None, 200));
    let answers = futures::future::join_all(burst).await;
    for file in &answers {
        assert_eq!(file.content, "# Hello\n");
    }
    assert_eq!(
        m.github.count("POST /login/oauth/access_token refresh"),
        1,
        "one refresh for the whole burst"
    );
    let used = m
        .github
        .tokens_used(&format!("GET /repos/{}/contents/README.md", m.full_name));
    assert!(used.iter().all(|t| t.starts_with("ghu_")), "{used:?}");
}
