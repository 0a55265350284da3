//! Connecting GitHub for repository access, token refresh (single flight, reauth on a refused refresh
//! token, retry on 5xx), listing and disconnecting, against the fake GitHub over HTTP.

use std::time::Duration;

use axum::{
    body::Body,
    http::{Method, Request},
};
use repopal_tests::{
    TestApp,
    app::{ErrorEnvelope, decode},
    auth::Session,
    fake_github::{FakeAccount, FakeGithub},
    shapes::{Created, Link, Page},
    worker::{InProcessWorker, drain, test_worker_config},
};
use serde_json::Value;

fn account() -> FakeAccount {
    FakeAccount {
        id: 9001,
        login: "dev-octo".into(),
        name: "Dev".into(),
        email: "dev@example.com".into(),
        email_verified: true,
    }
}

async fn setup() -> (FakeGithub, TestApp, Session) {
    let fake = FakeGithub::start().await;
    let env = fake.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = TestApp::builder().envs(&env).build().await;
    let user = app.register("connector@example.com", None).await;
    (fake, app, user)
}

/// Runs the connect flow; returns the connection as the callback answered it.
async fn connect(app: &TestApp, fake: &FakeGithub, user: &Session) -> serde_json::Value {
    fake.authorize_expiring("repo-code", account());
    // The flow cookie matters: the raw answer.
    let start = app
        .caller(Some(user))
        .send(Method::GET, "/api/v1/oauth/github/authorize", None)
        .await;
    assert_eq!(start.status, 200, "{}", start.text());
    let link: Link = decode(&start);
    let url = url::Url::parse(&link.url).expect("an authorize URL");
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q["scope"], "repo admin:repo_hook read:user");
    assert_eq!(
        q["redirect_uri"],
        "http://repopal.test/api/v1/oauth/github/callback"
    );
    let cookie = start.headers["set-cookie"]
        .to_str()
        .expect("the set-cookie header is ASCII")
        .split(';')
        .next()
        .expect("splitting yields at least one piece")
        .to_owned();
    let req = Request::builder()
        .uri(format!(
            "/api/v1/oauth/github/callback?code=repo-code&state={}",
            q["state"]
        ))
        .header("cookie", cookie)
        .body(Body::empty())
        .expect("the callback request is well-formed");
    let res = app.request(req).await;
    assert_eq!(res.status, 200, "{}", res.text());
    res.json()
}

async fn run_refreshes(app: &TestApp, fake: &FakeGithub) {
    let env = fake.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let worker = InProcessWorker::start_with(
        app.db.pool.clone(),
        test_worker_config(&[("WORKER_CONCURRENCY", "20")]),
        &env,
    );
    drain(
        &app.db.pool,
        &["refresh_oauth_token", "refresh_due_tokens"],
        Duration::from_secs(60),
    )
    .await;
    worker.stop().await;
}

#[tokio::test]
async fn connecting_stores_sealed_expiring_tokens_and_lists_them_without_secrets() {
    let (fake, app, user) = setup().await;
    let conn = connect(&app, &fake, &user).await;
    assert_eq!(
        (
            conn["data"]["status"].as_str(),
            conn["data"]["purpose"].as_str()
        ),
        (Some("active"), Some("repo_access"))
    );
    assert_eq!(
        conn["data"]["scopes"],
        serde_json::json!(["repo", "read:org"])
    );
    assert!(conn["data"]["token_expires_at"].is_string());
    let (access, refresh): (String, Option<String>) =
        sqlx::query_as("SELECT access_token_sealed, refresh_token_sealed FROM oauth_connections")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert!(access.starts_with("v1.k1.") && refresh.unwrap().starts_with("v1.k1."));
    // The whole list (a success envelope holds nothing but `data`), read as JSON text.
    let list: Value = app
        .caller(Some(&user))
        .call(Method::GET, "/api/v1/oauth/connections", None, 200)
        .await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "{list}");
    let text = list.to_string();
    assert!(!text.contains("ghu_") && !text.contains("ghr_") && !text.contains("v1.k1."));
}

#[tokio::test]
async fn twenty_concurrent_refresh_jobs_call_the_token_endpoint_once() {
    let (fake, app, user) = setup().await;
    let conn = connect(&app, &fake, &user).await;
    let id: uuid::Uuid = conn["data"]["id"].as_str().unwrap().parse().unwrap();
    // The token is about to expire.
    sqlx::query("UPDATE oauth_connections SET token_expires_at = now() + interval '5 minutes'")
        .execute(&app.db.pool)
        .await
        .unwrap();
    fake.set_refresh_delay_ms(200);
    let mut conn_db = app.db.pool.acquire().await.unwrap();
    let jobs: Vec<common::jobs::RefreshOAuthToken> = (0..20)
        .map(|_| common::jobs::RefreshOAuthToken {
            connection_id: common::domain::ConnectionId(id),
            force: false,
        })
        .collect();
    common::jobs::push_many(&mut conn_db, &jobs).await.unwrap();
    drop(conn_db);
    run_refreshes(&app, &fake).await;
    assert_eq!(
        fake.count("POST /login/oauth/access_token refresh"),
        1,
        "{:?}",
        fake.calls()
    );
    let expires: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT token_expires_at FROM oauth_connections")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert!(
        expires > chrono::Utc::now() + chrono::Duration::hours(7),
        "the new token lasts 8 hours"
    );
    let failed: i64 = sqlx::query_scalar("SELECT count(*) FROM apalis.jobs WHERE job_type = 'refresh_oauth_token' AND status <> 'Done'")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(failed, 0);
}

#[tokio::test]
async fn the_scheduler_refreshes_expiring_tokens_and_a_refused_refresh_token_requires_reauth() {
    let (fake, app, user) = setup().await;
    connect(&app, &fake, &user).await;
    sqlx::query("UPDATE oauth_connections SET token_expires_at = now() + interval '10 minutes'")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let mut c = app.db.pool.acquire().await.unwrap();
    common::jobs::push(&mut c, &common::jobs::RefreshDueTokens {})
        .await
        .unwrap();
    drop(c);
    run_refreshes(&app, &fake).await;
    assert_eq!(fake.count("POST /login/oauth/access_token refresh"), 1);

    // Someone (or a bug) already used the stored refresh token: GitHub refuses it.
    sqlx::query("UPDATE oauth_connections SET token_expires_at = now() + interval '1 minute', last_refreshed_at = now() - interval '1 hour'")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let keyring = common::crypto::keyring::Keyring::parse(
        &secrecy::SecretString::from(repopal_tests::http::TEST_ENCRYPTION_KEYS.to_owned()),
        None,
    )
    .unwrap();
    let id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM oauth_connections")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let stale = keyring
        .seal(
            common::crypto::keyring::Binding::new(
                common::crypto::keyring::SealedColumn::OauthRefreshToken,
                &id.to_string(),
            ),
            &secrecy::SecretString::from("ghr_already_spent".to_owned()),
        )
        .unwrap();
    sqlx::query("UPDATE oauth_connections SET refresh_token_sealed = $1")
        .bind(stale)
        .execute(&app.db.pool)
        .await
        .unwrap();
    let as_user = app.caller(Some(&user));
    let refresh: Value = as_user
        .call(
            Method::POST,
            &format!("/api/v1/oauth/connections/{id}/refresh"),
            None,
            202,
        )
        .await;
    let job = refresh["job_id"].as_str().expect("a job id").to_owned();
    run_refreshes(&app, &fake).await;
    let list: Page = as_user
        .call(Method::GET, "/api/v1/oauth/connections", None, 200)
        .await;
    assert_eq!(list.items[0]["status"], "reauth_required");
    let state: Value = as_user
        .call(Method::GET, &format!("/api/v1/jobs/{job}"), None, 200)
        .await;
    assert_eq!(
        (state["state"].as_str(), state["attempts"].as_i64()),
        (Some("succeeded"), Some(1)),
        "no retries"
    );
    // Another user cannot see that job.
    let other = app.register("nosy@example.com", None).await;
    let _: ErrorEnvelope = app
        .caller(Some(&other))
        .call(Method::GET, &format!("/api/v1/jobs/{job}"), None, 404)
        .await;
}

#[tokio::test]
async fn a_token_endpoint_outage_is_retried_until_it_recovers() {
    let (fake, app, user) = setup().await;
    let conn = connect(&app, &fake, &user).await;
    let id = conn["data"]["id"].as_str().unwrap();
    sqlx::query("UPDATE oauth_connections SET last_refreshed_at = now() - interval '1 hour'")
        .execute(&app.db.pool)
        .await
        .unwrap();
    fake.set_token_endpoint_down(true);
    let _: Value = app
        .caller(Some(&user))
        .call(
            Method::POST,
            &format!("/api/v1/oauth/connections/{id}/refresh"),
            None,
            202,
        )
        .await;
    let env = fake.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let worker = InProcessWorker::start_with(app.db.pool.clone(), test_worker_config(&[]), &env);
    repopal_tests::worker::eventually("a failed attempt", Duration::from_secs(20), || async {
        (fake.count("POST /login/oauth/access_token refresh") >= 1).then_some(())
    })
    .await;
    fake.set_token_endpoint_down(false);
    drain(
        &app.db.pool,
        &["refresh_oauth_token"],
        Duration::from_secs(30),
    )
    .await;
    worker.stop().await;
    assert!(fake.count("POST /login/oauth/access_token refresh") >= 2);
    let list: Page = app
        .caller(Some(&user))
        .call(Method::GET, "/api/v1/oauth/connections", None, 200)
        .await;
    assert_eq!(list.items[0]["status"], "active");
    assert!(list.items[0]["last_refreshed_at"].is_string());
}

#[tokio::test]
async fn disconnecting_revokes_the_token_at_github_then_deletes() {
    let (fake, app, user) = setup().await;
    let conn = connect(&app, &fake, &user).await;
    let id = conn["data"]["id"].as_str().unwrap();
    let other = app.register("intruder@example.com", None).await;
    let path = format!("/api/v1/oauth/connections/{id}");
    let _: ErrorEnvelope = app
        .caller(Some(&other))
        .call(Method::DELETE, &path, None, 404)
        .await;
    let _: Value = app
        .caller(Some(&user))
        .call(Method::DELETE, &path, None, 200)
        .await;
    assert_eq!(fake.count("DELETE /applications/Iv1.testclient/token"), 1);
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM oauth_connections")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn a_connection_syncs_the_users_repositories_into_an_organisation() {
    let (fake, app, user) = setup().await;
    fake.set_repositories(130);
    let conn = connect(&app, &fake, &user).await;
    let id = conn["data"]["id"].as_str().unwrap();
    let org: Created = app
        .caller(Some(&user))
        .call(
            Method::POST,
            "/api/v1/orgs",
            Some(serde_json::json!({"name": "November"})),
            201,
        )
        .await;
    let _: Value = app
        .caller(Some(&user))
        .call(
            Method::POST,
            &format!("/api/v1/orgs/{}/repositories/sync", org.id),
            Some(serde_json::json!({"connection_id": id})),
            202,
        )
        .await;
    let env = fake.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let worker = InProcessWorker::start_with(app.db.pool.clone(), test_worker_config(&[]), &env);
    drain(
        &app.db.pool,
        &["sync_connection_repositories"],
        Duration::from_secs(60),
    )
    .await;
    worker.stop().await;
    let count: i64 =
        sqlx::query_scalar("SELECT count(*) FROM repositories WHERE removed_at IS NULL")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(count, 130);
    assert_eq!(fake.count("GET /user/repos"), 2);
    // Someone else's connection cannot be used.
    let other = app.register("borrower@example.com", Some("Oscar")).await;
    let _: ErrorEnvelope = app
        .caller(Some(&other))
        .call(
            Method::POST,
            &format!("/api/v1/orgs/{}/repositories/sync", other.first_org()),
            Some(serde_json::json!({"connection_id": id})),
            404,
        )
        .await;
}
