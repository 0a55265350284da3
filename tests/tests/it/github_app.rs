//! GitHub App installations against a fake GitHub over HTTP: install link and setup callback,
//! installation tokens (app JWT, caching, refusal right after minting), repository sync with
//! pagination, rate limits and server errors, vanished repositories, and a 10,000-repository sync.

use std::time::Duration;

use axum::http::Method;
use repopal_tests::{
    TestApp,
    app::{ErrorEnvelope, decode},
    auth::Session,
    fake_github::{Failure, FakeGithub},
    resources::{Job, JobStarted, Repository, RepositoryStatus},
    shapes::{Link, Page},
    worker::{InProcessWorker, drain, test_worker_config},
};
use serde::Deserialize;
use serde_json::Value;

const INSTALLATION: i64 = 31415;

async fn setup(n_repos: usize) -> (FakeGithub, TestApp, Session, String) {
    let fake = FakeGithub::start().await;
    fake.set_repositories(n_repos);
    // The installation is on a GitHub organisation the installer administers; every install sends
    // this code.
    fake.admin_installation(&installer(), INSTALLATION);
    for _ in 0..4 {
        fake.authorize("install-code", installer());
    }
    let env = fake.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = TestApp::builder().envs(&env).build().await;
    let admin = app.register("gh-admin@example.com", Some("Lima")).await;
    let org = admin.first_org();
    (fake, app, admin, org)
}

fn installer() -> repopal_tests::fake_github::FakeAccount {
    repopal_tests::fake_github::FakeAccount {
        id: 777,
        login: "installer".into(),
        name: "Installer".into(),
        email: "installer@example.com".into(),
        email_verified: true,
    }
}

/// The install link's state for `org`, and the cookie (`name=value`) it set in the admin's browser.
pub(crate) async fn install_state(app: &TestApp, admin: &Session, org: &str) -> (String, String) {
    // The install cookie is read: the raw answer.
    let res = app
        .caller(Some(admin))
        .in_org(org)
        .send(Method::GET, "github/install", None)
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let cookie = res.cookie("repopal_install").expect("the install cookie");
    let link: Link = decode(&res);
    let url = url::Url::parse(&link.url).expect("the install link is a URL");
    assert_eq!(url.path(), "/apps/repopal-test/installations/new");
    let state = url
        .query_pairs()
        .find(|(k, _)| k == "state")
        .expect("the install link carries a state")
        .1
        .into_owned();
    (state, cookie)
}

/// What the setup callback answers when it links an installation.
#[derive(Debug, Deserialize)]
struct Linked {
    org_id: String,
    /// The first repository sync.
    job_id: String,
}

/// Follows the install link the way GitHub would (with user authorization during installation)
/// and returns the setup callback's answer.
async fn install(app: &TestApp, admin: &Session, org: &str) -> Linked {
    install_with(app, admin, org).await
}

async fn install_with(app: &TestApp, admin: &Session, org: &str) -> Linked {
    let (state, cookie) = install_state(app, admin, org).await;
    let res = app
        .browser_get(
            &format!("/api/v1/github/setup?installation_id={INSTALLATION}&setup_action=install&state={state}&code=install-code"),
            Some(&cookie),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    decode(&res)
}

async fn run_syncs(app: &TestApp, fake: &FakeGithub) {
    let env = fake.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let worker = InProcessWorker::start_with(app.db.pool.clone(), test_worker_config(&[]), &env);
    drain(
        &app.db.pool,
        &["sync_repositories", "process_webhook"],
        Duration::from_secs(120),
    )
    .await;
    worker.stop().await;
}

async fn repo_count(app: &TestApp, removed: bool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM repositories WHERE (removed_at IS NOT NULL) = $1")
        .bind(removed)
        .fetch_one(&app.db.pool)
        .await
        .expect("the repository count query runs")
}

#[tokio::test]
async fn installing_the_app_links_the_installation_and_syncs_its_repositories() {
    let (fake, app, admin, org) = setup(250).await;
    let linked = install(&app, &admin, &org).await;
    assert_eq!(linked.org_id, org);
    let job = linked.job_id;
    let caller = app.caller(Some(&admin)).in_org(&org);
    let status: Job = caller
        .call(Method::GET, &format!("jobs/{job}"), None, 200)
        .await;
    assert_eq!(status.state, "pending", "{status:?}");

    run_syncs(&app, &fake).await;
    assert_eq!(repo_count(&app, false).await, 250);
    assert_eq!(
        fake.count("GET /installation/repositories"),
        3,
        "three pages of 100"
    );
    assert_eq!(
        fake.count(&format!(
            "POST /app/installations/{INSTALLATION}/access_tokens"
        )),
        1,
        "one token, reused"
    );
    let done: Job = caller
        .call(Method::GET, &format!("jobs/{job}"), None, 200)
        .await;
    assert_eq!(done.state, "succeeded");
    let sealed: String = sqlx::query_scalar("SELECT token_sealed FROM github_installation_tokens")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert!(
        sealed.starts_with("v1.k1.") && !sealed.contains("ghs_"),
        "the installation token is sealed"
    );

    // The API lists them, searchable and paged by name.
    let page: Page<Repository> = caller
        .call(
            Method::GET,
            "repositories?search=REPO-001&limit=5",
            None,
            200,
        )
        .await;
    let names: Vec<&str> = page.items.iter().map(|r| r.full_name.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "acme/repo-00100",
            "acme/repo-00101",
            "acme/repo-00102",
            "acme/repo-00103",
            "acme/repo-00104"
        ]
    );
    let cursor = page.next_cursor.as_deref().unwrap();
    let next: Page<Repository> = caller
        .call(
            Method::GET,
            &format!("repositories?search=repo-001&limit=5&cursor={cursor}"),
            None,
            200,
        )
        .await;
    assert_eq!(next.items[0].full_name, "acme/repo-00105");
    let id = page.items[0].id;
    let one: Repository = caller
        .call(Method::GET, &format!("repositories/{id}"), None, 200)
        .await;
    assert_eq!(
        (one.default_branch.as_deref(), one.monitoring_enabled),
        (Some("main"), false)
    );

    // A second sync reuses the cached token and marks what GitHub stopped listing as removed.
    fake.set_repositories(240);
    let mut conn = app.db.pool.acquire().await.unwrap();
    common::jobs::push(
        &mut conn,
        &common::jobs::SyncRepositories {
            installation_id: common::domain::InstallationId(INSTALLATION),
        },
    )
    .await
    .unwrap();
    drop(conn);
    run_syncs(&app, &fake).await;
    assert_eq!(
        (repo_count(&app, false).await, repo_count(&app, true).await),
        (240, 10)
    );
    assert_eq!(
        fake.count(&format!(
            "POST /app/installations/{INSTALLATION}/access_tokens"
        )),
        1
    );
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_retried_then_succeed() {
    let (fake, app, admin, org) = setup(150).await;
    install(&app, &admin, &org).await;
    fake.fail_next(&[Failure::RateLimited(1), Failure::ServerError]);
    let started = std::time::Instant::now();
    run_syncs(&app, &fake).await;
    assert_eq!(repo_count(&app, false).await, 150);
    assert_eq!(
        fake.count("GET /installation/repositories"),
        4,
        "two failures, then two pages"
    );
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was honoured"
    );
}

#[tokio::test]
async fn a_token_refused_right_after_minting_is_retried() {
    let (fake, app, admin, org) = setup(10).await;
    install(&app, &admin, &org).await;
    fake.reject_fresh_tokens_once();
    run_syncs(&app, &fake).await;
    assert_eq!(repo_count(&app, false).await, 10);
    assert!(
        fake.count(&format!(
            "POST /app/installations/{INSTALLATION}/access_tokens"
        )) >= 2
    );
}

#[tokio::test]
async fn ten_thousand_repositories_in_a_hundred_pages_sync() {
    let (fake, app, admin, org) = setup(10_000).await;
    install(&app, &admin, &org).await;
    run_syncs(&app, &fake).await;
    assert_eq!(repo_count(&app, false).await, 10_000);
    assert_eq!(fake.count("GET /installation/repositories"), 100);
}

#[tokio::test]
async fn an_install_is_linked_only_for_a_verified_installer_and_a_single_use_state() {
    let (fake, app, admin, org) = setup(1).await;
    let setup_url = |state: &str, code: Option<&str>| {
        let code = code.map(|c| format!("&code={c}")).unwrap_or_default();
        format!(
            "/api/v1/github/setup?installation_id={INSTALLATION}&setup_action=install&state={state}{code}"
        )
    };
    let code_of = |res: &repopal_tests::http::TestResponse| {
        (
            res.status.as_u16(),
            res.json()["error"]["code"].as_str().map(str::to_owned),
        )
    };

    let (_, some_cookie) = install_state(&app, &admin, &org).await;
    let forged = app
        .browser_get(
            &setup_url("forged.state", Some("install-code")),
            Some(&some_cookie),
        )
        .await;
    assert_eq!(
        code_of(&forged),
        (400, Some("invalid_install_state".into()))
    );

    let (state, cookie) = install_state(&app, &admin, &org).await;
    let no_code = app
        .browser_get(&setup_url(&state, None), Some(&cookie))
        .await;
    assert_eq!(
        code_of(&no_code),
        (400, Some("install_code_missing".into()))
    );

    // Someone whose GitHub account cannot access the installation cannot claim it by its id.
    let stranger = repopal_tests::fake_github::FakeAccount {
        id: 13,
        login: "stranger".into(),
        ..installer()
    };
    fake.authorize("stranger-code", stranger);
    let (state, cookie) = install_state(&app, &admin, &org).await;
    let claim = app
        .browser_get(&setup_url(&state, Some("stranger-code")), Some(&cookie))
        .await;
    assert_eq!(
        code_of(&claim),
        (403, Some("installation_not_yours".into()))
    );
    let linked: i64 =
        sqlx::query_scalar("SELECT count(*) FROM github_installations WHERE org_id IS NOT NULL")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(linked, 0);

    // The real installer links it; the same state cannot be used again.
    let (state, cookie) = install_state(&app, &admin, &org).await;
    let ok = app
        .browser_get(&setup_url(&state, Some("install-code")), Some(&cookie))
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert!(
        ok.set_cookie("repopal_install")
            .is_some_and(|c| c.contains("Max-Age=0")),
        "the install cookie is cleared"
    );
    fake.authorize("install-code", installer());
    let again = app
        .browser_get(&setup_url(&state, Some("install-code")), Some(&cookie))
        .await;
    assert_eq!(code_of(&again), (400, Some("invalid_install_state".into())));

    // Another organisation cannot take the installation over, even with the installer's account.
    let other = app.register("other-admin@example.com", Some("Mike")).await;
    let (state, cookie) = install_state(&app, &other, &other.first_org()).await;
    let res = app
        .browser_get(&setup_url(&state, Some("install-code")), Some(&cookie))
        .await;
    assert_eq!(
        code_of(&res),
        (409, Some("installation_linked_elsewhere".into()))
    );

    // A request waiting for an owner's approval has no installation yet.
    let pending: Value = app
        .caller(None)
        .call(
            Method::GET,
            "/api/v1/github/setup?setup_action=request&state=x",
            None,
            202,
        )
        .await;
    assert_eq!(pending["pending_approval"].as_bool(), Some(true));
}

#[tokio::test]
async fn installation_webhooks_resync_and_deletion_removes_repositories() {
    let (fake, app, admin, org) = setup(20).await;
    install(&app, &admin, &org).await;
    run_syncs(&app, &fake).await;
    assert_eq!(repo_count(&app, false).await, 20);

    let deliver = |event: &'static str, file: &'static str, guid: &'static str| {
        let app = &app;
        async move {
            let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join(format!("fixtures/github/webhooks/{event}/{file}"));
            let mut body: serde_json::Value =
                serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
            body["installation"]["id"] = serde_json::json!(INSTALLATION);
            let body = serde_json::to_vec(&body).unwrap();
            let req = axum::http::Request::builder()
                .method(Method::POST)
                .uri("/api/v1/webhooks/github")
                .header("content-type", "application/json")
                .header("x-github-event", event)
                .header("x-github-delivery", guid)
                .header(
                    "x-hub-signature-256",
                    common::crypto::signature::sign(
                        repopal_tests::http::TEST_WEBHOOK_SECRET.as_bytes(),
                        &body,
                    ),
                )
                .body(axum::body::Body::from(body))
                .unwrap();
            app.request(req).await
        }
    };
    fake.set_repositories(25);
    assert_eq!(
        deliver("installation_repositories", "added.payload.json", "g-1")
            .await
            .status,
        202
    );
    run_syncs(&app, &fake).await;
    assert_eq!(
        repo_count(&app, false).await,
        25,
        "the added event triggered a sync"
    );

    assert_eq!(
        deliver("installation", "deleted.payload.json", "g-2")
            .await
            .status,
        202
    );
    run_syncs(&app, &fake).await;
    assert_eq!(
        (repo_count(&app, false).await, repo_count(&app, true).await),
        (0, 25)
    );
    let deleted: bool = sqlx::query_scalar(
        "SELECT deleted_at IS NOT NULL FROM github_installations WHERE installation_id = $1",
    )
    .bind(INSTALLATION)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert!(deleted);
    // The org's admin sees these deliveries (they belong to the linked installation).
    let list: Page = app
        .caller(Some(&admin))
        .in_org(&org)
        .call(Method::GET, "webhook-deliveries", None, 200)
        .await;
    assert_eq!(list.items.len(), 2);
}

#[tokio::test]
async fn connecting_a_repository_installs_a_verifiable_hook_once_and_disconnecting_removes_it() {
    let (fake, app, admin, org) = setup(3).await;
    install(&app, &admin, &org).await;
    run_syncs(&app, &fake).await;
    let caller = app.caller(Some(&admin)).in_org(&org);
    let list: Page<Repository> = caller.call(Method::GET, "repositories", None, 200).await;
    let repo = list.items[0].id;
    let base = format!("repositories/{repo}");

    let JobStarted { job_id: job } = caller
        .call(Method::POST, &format!("{base}/connect"), None, 202)
        .await;
    // Connecting again before the job ran is harmless: one hook in the end.
    let _: JobStarted = caller
        .call(Method::POST, &format!("{base}/connect"), None, 202)
        .await;
    run_syncs_and_hooks(&app, &fake).await;
    let hooks = fake.hooks();
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    assert_eq!(hooks[0].repo, "acme/repo-00001");
    assert_eq!(hooks[0].url, "http://repopal.test/api/v1/webhooks/github");
    assert_eq!(
        hooks[0].events,
        vec!["workflow_run", "workflow_job", "check_suite", "ping"]
    );
    assert!(hooks[0].secret.len() > 30);
    let state: Job = caller
        .call(Method::GET, &format!("jobs/{job}"), None, 200)
        .await;
    assert_eq!(state.state, "succeeded");
    let status: RepositoryStatus = caller
        .call(Method::GET, &format!("{base}/status"), None, 200)
        .await;
    assert_eq!(
        (status.monitoring_enabled, status.hook_id),
        (true, Some(hooks[0].id))
    );

    // A delivery GitHub sends through this hook, signed with the hook's own secret, is accepted.
    let body = br#"{"zen":"Approachable is better than simple.","hook_id":1}"#.to_vec();
    let req = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/api/v1/webhooks/github")
        .header("content-type", "application/json")
        .header("x-github-event", "ping")
        .header("x-github-delivery", "via-hook")
        .header("x-github-hook-id", hooks[0].id.to_string())
        .header(
            "x-hub-signature-256",
            common::crypto::signature::sign(hooks[0].secret.as_bytes(), &body),
        )
        .body(axum::body::Body::from(body))
        .unwrap();
    assert_eq!(app.request(req).await.status, 202);

    // Test pings the hook.
    let _: JobStarted = caller
        .call(Method::POST, &format!("{base}/test"), None, 202)
        .await;
    run_syncs_and_hooks(&app, &fake).await;
    assert_eq!(
        fake.count(&format!(
            "POST /repos/acme/repo-00001/hooks/{}/pings",
            hooks[0].id
        )),
        1
    );

    // Settings.
    let patched: Repository = caller
        .call(
            Method::PATCH,
            &base,
            Some(serde_json::json!({"auto_incident": false, "slack_channels": ["#ci-alerts"]})),
            200,
        )
        .await;
    assert_eq!(patched.slack_channels, serde_json::json!(["#ci-alerts"]));
    let _: ErrorEnvelope = caller
        .call(
            Method::PATCH,
            &base,
            Some(serde_json::json!({"slack_channels": ["no spaces allowed"]})),
            422,
        )
        .await;

    // Disconnect removes the hook; a hook already gone on GitHub counts as removed.
    let _: JobStarted = caller
        .call(Method::POST, &format!("{base}/disconnect"), None, 202)
        .await;
    run_syncs_and_hooks(&app, &fake).await;
    assert!(fake.hooks().is_empty());
    let status: RepositoryStatus = caller
        .call(Method::GET, &format!("{base}/status"), None, 200)
        .await;
    assert_eq!((status.monitoring_enabled, status.hook_id), (false, None));

    let _: JobStarted = caller
        .call(Method::POST, &format!("{base}/connect"), None, 202)
        .await;
    run_syncs_and_hooks(&app, &fake).await;
    let again = fake.hooks();
    fake.drop_hook(again[0].id);
    let _: JobStarted = caller
        .call(Method::POST, &format!("{base}/disconnect"), None, 202)
        .await;
    run_syncs_and_hooks(&app, &fake).await;
    let dead: i64 = sqlx::query_scalar("SELECT count(*) FROM apalis.jobs WHERE job_type = 'repository_webhook' AND status <> 'Done'")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(dead, 0, "removing an already deleted hook succeeded");
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM github_repository_hooks")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(rows, 0);
}

async fn run_syncs_and_hooks(app: &TestApp, fake: &FakeGithub) {
    let env = fake.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let worker = InProcessWorker::start_with(app.db.pool.clone(), test_worker_config(&[]), &env);
    drain(
        &app.db.pool,
        &["sync_repositories", "repository_webhook", "process_webhook"],
        Duration::from_secs(60),
    )
    .await;
    worker.stop().await;
}
