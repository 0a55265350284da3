//! Repositories reached only through a user's GitHub connection are monitored like App ones:
//! the hook is created with the connection's token, GitHub's immediate ping verifies, failures
//! become incidents and successes resolve them, disconnect deletes the hook, health checks
//! reinstall a vanished hook; a failed connect is visible with a stable code; the App is
//! preferred when both reach a repository; GitHub's OAuth code errors (HTTP 200 + `error`) are 400.

use axum::{body::Body, http::Method, http::Request};
use repopal_tests::TestApp;
use repopal_tests::app::{OAuthToken, decode};
use repopal_tests::oauth_monitored::connector;
use repopal_tests::resources::{Job, JobStarted, Repository, RepositoryStatus};
use repopal_tests::shapes::{Created, Link, Page};
use serde_json::{Value, json};

#[tokio::test]
async fn an_oauth_connected_repository_is_monitored_end_to_end() {
    let m = TestApp::builder().oauth_repo(OAuthToken::NonExpiring).await;
    let admin = m.as_admin();
    let before: Repository = admin
        .call(Method::GET, &format!("repositories/{}", m.repo), None, 200)
        .await;
    assert!(!before.monitored);
    assert_eq!(before.hook.state, "none");

    m.monitor().await;
    let hooks_path = format!("POST /repos/{}/hooks", m.full_name);
    let hooks = m.github.hooks();
    assert_eq!(hooks.len(), 1, "one hook created");
    assert_eq!(
        hooks[0].events,
        ["workflow_run", "workflow_job", "check_suite", "ping"]
    );
    assert!(hooks[0].secret.starts_with("rph_"), "a per-hook secret");
    let used = m.github.tokens_used(&hooks_path);
    assert!(
        !used.is_empty() && used.iter().all(|t| t.starts_with("gho_")),
        "created with the user's OAuth token, not an installation token: {used:?}"
    );
    // GitHub pinged the hook before answering 201; the receiver already knew the secret.
    assert_eq!(
        m.github.deliveries(),
        vec![(hooks[0].id, "ping".to_owned(), 202)]
    );
    let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM github_pending_hook_secrets")
        .fetch_one(&m.app.db.pool)
        .await
        .expect("as set up");
    assert_eq!(pending, 0, "the pending secret moved to the installed hook");
    let status: RepositoryStatus = admin
        .call(
            Method::GET,
            &format!("repositories/{}/status", m.repo),
            None,
            200,
        )
        .await;
    assert!(status.monitored, "{status:?}");
    assert_eq!(status.hook.state, "active");
    assert_eq!(status.hook_id, Some(hooks[0].id));

    // A failure from the repository hook becomes an incident, with context fetched with the
    // user's token.
    m.github.set_run_jobs(
        8101,
        &[
            ("build", "failure", Some("Run tests")),
            ("lint", "success", None),
        ],
    );
    let res = m
        .deliver_from_hook(
            "workflow_run",
            "d-fail-1",
            &m.hook_workflow_run(8101, "failure"),
        )
        .await;
    assert_eq!(res.status, 202, "{}", res.text());
    m.run_jobs().await;
    let list: Page = admin.call(Method::GET, "incidents", None, 200).await;
    let items = list.items;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["status"], "open");
    let jobs_call = format!(
        "GET /repos/{}/actions/runs/8101/attempts/1/jobs",
        m.full_name
    );
    let used = m.github.tokens_used(&jobs_call);
    assert!(
        !used.is_empty() && used.iter().all(|t| t.starts_with("gho_")),
        "{used:?}"
    );
    let id = items[0]["id"].as_str().expect("as set up");
    let detail: Value = admin
        .call(Method::GET, &format!("incidents/{id}"), None, 200)
        .await;
    let failed = &detail["context"]["failed_jobs"][0];
    assert_eq!(failed["name"], "build");
    assert!(
        failed["log_tail"]
            .as_str()
            .is_some_and(|t| t.contains("Run tests failed")),
        "{detail}"
    );

    // A success resolves it.
    let res = m
        .deliver_from_hook(
            "workflow_run",
            "d-ok-1",
            &m.hook_workflow_run(8102, "success"),
        )
        .await;
    assert_eq!(res.status, 202, "{}", res.text());
    m.run_jobs().await;
    let after: Value = admin
        .call(Method::GET, &format!("incidents/{id}"), None, 200)
        .await;
    assert_eq!(after["status"], "resolved", "{after}");

    // Disconnecting deletes the hook, with the user's token.
    let _: JobStarted = admin
        .call(
            Method::POST,
            &format!("repositories/{}/disconnect", m.repo),
            None,
            202,
        )
        .await;
    m.run_jobs().await;
    assert!(m.github.hooks().is_empty(), "the hook is gone");
    let deleted = m.github.tokens_used(&format!(
        "DELETE /repos/{}/hooks/{}",
        m.full_name, hooks[0].id
    ));
    assert!(deleted.iter().all(|t| t.starts_with("gho_")) && !deleted.is_empty());
    let repo: Repository = admin
        .call(Method::GET, &format!("repositories/{}", m.repo), None, 200)
        .await;
    assert_eq!((repo.monitored, repo.hook.state.as_str()), (false, "none"));
}

#[tokio::test]
async fn a_vanished_hook_of_an_oauth_repository_is_reinstalled_by_the_health_check() {
    let m = TestApp::builder().oauth_repo(OAuthToken::NonExpiring).await;
    m.monitor().await;
    let first = m.github.hooks()[0].id;
    m.github.drop_hook(first);
    // Every hook is due at once (as after one health-check interval).
    sqlx::query("UPDATE repositories SET hook_state_at = now() - interval '1 day'")
        .execute(&m.app.db.pool)
        .await
        .expect("as set up");
    let mut conn = m.app.db.pool.acquire().await.expect("as set up");
    common::jobs::push(&mut conn, &common::jobs::CheckRepositoryHooks {})
        .await
        .expect("as set up");
    drop(conn);
    m.run_jobs().await;
    let hooks = m.github.hooks();
    assert_eq!(hooks.len(), 1, "reinstalled");
    assert_ne!(hooks[0].id, first);
    let status: RepositoryStatus = m
        .as_admin()
        .call(
            Method::GET,
            &format!("repositories/{}/status", m.repo),
            None,
            200,
        )
        .await;
    assert_eq!(status.hook.state, "active");
    assert_eq!(status.hook_id, Some(hooks[0].id));
}

#[tokio::test]
async fn a_connect_without_hook_rights_fails_visibly_with_a_stable_code() {
    // GitHub granted only `read:user`: creating a hook answers 404.
    let m = TestApp::builder().oauth_repo_with_scopes("read:user").await;
    let admin = m.as_admin();
    let JobStarted { job_id: job } = admin
        .call(
            Method::POST,
            &format!("repositories/{}/connect", m.repo),
            None,
            202,
        )
        .await;
    let pairs: Vec<(&str, &str)> = m.env().iter().map(|(k, v)| (*k, v.as_str())).collect();
    let worker = repopal_tests::worker::InProcessWorker::start_with(
        m.app.db.pool.clone(),
        repopal_tests::worker::test_worker_config(&[]),
        &pairs,
    );
    let dead = repopal_tests::worker::drain_expecting_dead(
        &m.app.db.pool,
        repopal_tests::oauth_monitored::QUEUES,
        std::time::Duration::from_secs(60),
    )
    .await;
    worker.stop().await;
    assert_eq!(dead.len(), 1);
    assert!(m.github.hooks().is_empty());
    let repo: Repository = admin
        .call(Method::GET, &format!("repositories/{}", m.repo), None, 200)
        .await;
    assert!(repo.monitoring_enabled);
    assert!(!repo.monitored, "{repo:?}");
    assert_eq!(repo.hook.state, "failed");
    assert_eq!(
        repo.hook.error_code.as_deref(),
        Some("github_hook_forbidden")
    );
    let listed: Page<Repository> = admin
        .call(Method::GET, "repositories?monitored=true", None, 200)
        .await;
    assert!(listed.items.is_empty(), "not listed as monitored");
    let job: Job = admin
        .call(Method::GET, &format!("jobs/{job}"), None, 200)
        .await;
    assert_eq!(job.state, "dead");
    assert_eq!(
        job.error_code.as_deref(),
        Some("github_hook_forbidden"),
        "{job:?}"
    );
    let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM github_pending_hook_secrets")
        .fetch_one(&m.app.db.pool)
        .await
        .expect("as set up");
    assert_eq!(pending, 0, "the unused secret is dropped");
}

#[tokio::test]
async fn a_repository_reachable_both_ways_uses_the_app() {
    let m = TestApp::builder().monitored_repo().await;
    let hook_call = format!("POST /repos/{}/hooks", m.full_name);
    // The admin also connects GitHub and syncs the same repository through the connection.
    m.github
        .authorize_with_scopes("both-code", connector(), "repo,admin:repo_hook,read:user");
    // The flow's cookie is read: the raw answer.
    let start = m
        .app
        .caller(Some(&m.admin))
        .send(Method::GET, "/api/v1/oauth/github/authorize", None)
        .await;
    assert_eq!(start.status, 200, "{}", start.text());
    let link: Link = decode(&start);
    let url = url::Url::parse(&link.url).expect("as set up");
    let state = url
        .query_pairs()
        .find(|(k, _)| k == "state")
        .expect("as set up")
        .1
        .into_owned();
    let cookie = start.headers["set-cookie"]
        .to_str()
        .expect("as set up")
        .split(';')
        .next()
        .expect("as set up")
        .to_owned();
    let req = Request::builder()
        .uri(format!(
            "/api/v1/oauth/github/callback?code=both-code&state={state}"
        ))
        .header("cookie", cookie)
        .body(Body::empty())
        .expect("as set up");
    let conn = m.app.request(req).await;
    assert_eq!(conn.status, 200, "{}", conn.text());
    let connection: Created = decode(&conn);
    let _: JobStarted = m
        .as_admin()
        .call(
            Method::POST,
            "repositories/sync",
            Some(json!({"connection_id": connection.id})),
            202,
        )
        .await;
    let pairs: Vec<(&str, &str)> = m.env().iter().map(|(k, v)| (*k, v.as_str())).collect();
    let worker = repopal_tests::worker::InProcessWorker::start_with(
        m.app.db.pool.clone(),
        repopal_tests::worker::test_worker_config(&[]),
        &pairs,
    );
    repopal_tests::worker::drain(
        &m.app.db.pool,
        &["sync_connection_repositories"],
        std::time::Duration::from_secs(60),
    )
    .await;
    worker.stop().await;
    let connection_id: Option<uuid::Uuid> =
        sqlx::query_scalar("SELECT connection_id FROM repositories WHERE id = $1::uuid")
            .bind(&m.repo)
            .fetch_one(&m.app.db.pool)
            .await
            .expect("as set up");
    assert!(connection_id.is_some(), "the connection reaches it too");
    let repo: Repository = m
        .as_admin()
        .call(Method::GET, &format!("repositories/{}", m.repo), None, 200)
        .await;
    assert_eq!(repo.access.as_deref(), Some("installation"));
    // Reinstalling the hook uses the installation's token.
    m.github.drop_hook(m.github.hooks()[0].id);
    common::github::reinstall_hook(
        &m.app.db.pool,
        common::domain::OrgId(m.org.parse().expect("as set up")),
        common::domain::RepositoryId(m.repo.parse().expect("as set up")),
    )
    .await
    .expect("as set up");
    m.run_jobs().await;
    let used = m.github.tokens_used(&hook_call);
    assert_eq!(used.len(), 2, "{used:?}");
    assert!(used.iter().all(|t| t.starts_with("ghs_")), "{used:?}");
}

#[tokio::test]
async fn a_reused_code_is_400_in_sign_in_connect_and_setup() {
    let m = TestApp::builder().oauth_repo(OAuthToken::NonExpiring).await;
    // Connect: the harness's code was used once; a second callback with it is refused as GitHub
    // refuses it (HTTP 200 with `error: bad_verification_code`).
    // The flow's cookie is read: the raw answer.
    let start = m
        .app
        .caller(Some(&m.admin))
        .send(Method::GET, "/api/v1/oauth/github/authorize", None)
        .await;
    assert_eq!(start.status, 200, "{}", start.text());
    let link: Link = decode(&start);
    let url = url::Url::parse(&link.url).expect("as set up");
    let state = url
        .query_pairs()
        .find(|(k, _)| k == "state")
        .expect("as set up")
        .1
        .into_owned();
    let cookie = start.headers["set-cookie"]
        .to_str()
        .expect("as set up")
        .split(';')
        .next()
        .expect("as set up")
        .to_owned();
    let req = Request::builder()
        .uri(format!(
            "/api/v1/oauth/github/callback?code=connect-code&state={state}"
        ))
        .header("cookie", cookie)
        .body(Body::empty())
        .expect("as set up");
    let res = m.app.request(req).await;
    assert_eq!(
        res.error_code(),
        (400, "oauth_code_invalid".to_owned()),
        "{}",
        res.text()
    );

    // Sign in with GitHub: a code used once, then again.
    m.github.authorize(
        "login-code",
        repopal_tests::fake_github::FakeAccount {
            id: 7002,
            login: "fresh-signin".into(),
            name: "Fresh".into(),
            email: "fresh-signin@example.com".into(),
            email_verified: true,
        },
    );
    for expected in [200u16, 400] {
        // A redirect with a cookie: the raw answer.
        let start = m
            .app
            .caller(None)
            .send(Method::GET, "/api/v1/auth/oauth/github/authorize", None)
            .await;
        assert_eq!(start.status, 302, "{}", start.text());
        let url = url::Url::parse(start.headers["location"].to_str().expect("as set up"))
            .expect("as set up");
        let state = url
            .query_pairs()
            .find(|(k, _)| k == "state")
            .expect("as set up")
            .1
            .into_owned();
        let cookie = start.headers["set-cookie"]
            .to_str()
            .expect("as set up")
            .split(';')
            .next()
            .expect("as set up")
            .to_owned();
        let req = Request::builder()
            .uri(format!(
                "/api/v1/auth/oauth/github/callback?code=login-code&state={state}"
            ))
            .header("cookie", cookie)
            .body(Body::empty())
            .expect("as set up");
        let res = m.app.request(req).await;
        assert_eq!(res.status.as_u16(), expected, "{}", res.text());
        if expected == 400 {
            assert_eq!(res.json()["error"]["code"], "oauth_code_invalid");
        }
    }

    // App setup: the App's own client exchanges the code; a never-issued one is 400.
    // The install cookie is read: the raw answer.
    let res = m.as_admin().send(Method::GET, "github/install", None).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let cookie = res.cookie("repopal_install").expect("as set up");
    let link: Link = decode(&res);
    let url = url::Url::parse(&link.url).expect("as set up");
    let state = url
        .query_pairs()
        .find(|(k, _)| k == "state")
        .expect("as set up")
        .1
        .into_owned();
    let res = m
        .app
        .browser_get(
            &format!("/api/v1/github/setup?installation_id=31337&setup_action=install&state={state}&code=never-issued"),
            Some(&cookie),
        )
        .await;
    assert_eq!(
        res.error_code(),
        (400, "oauth_code_invalid".to_owned()),
        "{}",
        res.text()
    );
    assert_eq!(
        m.github.code_clients().last().map(String::as_str),
        Some(repopal_tests::fake_github::TEST_APP_CLIENT_ID),
        "setup uses the GitHub App's own client credentials"
    );
}
