//! No password, token or hash appears in any response or log line: every flow that handles a
//! secret runs with all logs (TRACE, every crate) captured, then both are searched.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    body::Body,
    http::{Method, Request},
};
use repopal_tests::{
    TestApp,
    auth::PASSWORD,
    fake_github::{FakeAccount, FakeGithub},
    http::{TEST_ENCRYPTION_KEYS, TEST_JWT_KEY, TEST_WEBHOOK_SECRET},
    log_capture::CapturedLogs,
    worker::{InProcessWorker, drain, test_worker_config},
};
use serde_json::json;

#[tokio::test]
async fn secrets_never_reach_responses_or_logs() {
    let logs = CapturedLogs::install();

    let fake = FakeGithub::start().await;
    let env = fake.env();
    let mut env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.push(("LOGIN_LOCKOUT_THRESHOLD", "2"));
    let app = TestApp::builder().envs(&env).build().await;
    let responses = Arc::new(Mutex::new(Vec::new()));
    let record = |r: repopal_tests::http::TestResponse| {
        responses.lock().unwrap().push(r.text());
        r
    };

    // Accounts and sessions.
    let s = app.register("secret@example.com", Some("Hotel")).await;
    let verify_token = app.mailed_token("secret@example.com").await;
    assert!(verify_token.starts_with("rpv_"));
    responses.lock().unwrap().push(s.body.to_string());
    record(app.login("secret@example.com", "Wrong-password-7").await);
    record(app.login("secret@example.com", "Wrong-password-7").await);
    record(app.login("secret@example.com", PASSWORD).await); // locked
    sqlx::query("DELETE FROM login_throttle")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let login = record(app.login("secret@example.com", PASSWORD).await);
    let refresh = login.json()["data"]["tokens"]["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let access = login.json()["data"]["tokens"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let rotated = record(
        app.call(
            Method::POST,
            "/api/v1/auth/refresh-token",
            None,
            Some(json!({"refresh_token": refresh})),
        )
        .await,
    );
    let rotated_refresh = rotated.json()["data"]["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    record(
        app.call(
            Method::POST,
            "/api/v1/auth/refresh-token",
            None,
            Some(json!({"refresh_token": refresh})),
        )
        .await,
    );
    record(
        app.call(Method::GET, "/api/v1/auth/me", Some(&s.access_token), None)
            .await,
    );
    record(
        app.call(
            Method::GET,
            "/api/v1/auth/sessions",
            Some(&s.access_token),
            None,
        )
        .await,
    );
    record(
        app.call(
            Method::POST,
            "/api/v1/auth/change-password",
            Some(&s.access_token),
            Some(json!({"current_password": PASSWORD, "new_password": "Changed-pass-8"})),
        )
        .await,
    );
    record(
        app.call(
            Method::POST,
            "/api/v1/auth/forgot-password",
            None,
            Some(json!({"email": "secret@example.com"})),
        )
        .await,
    );
    let reset_token = app.mailed_token("secret@example.com").await;
    record(
        app.call(
            Method::POST,
            "/api/v1/auth/reset-password",
            None,
            Some(json!({"token": reset_token, "new_password": "Reset-pass-9"})),
        )
        .await,
    );
    record(
        app.call(
            Method::POST,
            "/api/v1/auth/reset-password",
            None,
            Some(json!({"token": reset_token, "new_password": "Reset-pass-9"})),
        )
        .await,
    );
    let org = s.first_org();
    let admin = app
        .login_ok_with("secret@example.com", "Reset-pass-9")
        .await;
    record(
        app.call(
            Method::POST,
            &format!("/api/v1/orgs/{org}/invitations"),
            Some(&admin),
            Some(json!({"email": "friend@example.com", "role": "viewer"})),
        )
        .await,
    );
    let invite_token = app.mailed_token("friend@example.com").await;
    record(
        app.call(
            Method::GET,
            &format!("/api/v1/orgs/{org}/audit-logs"),
            Some(&admin),
            None,
        )
        .await,
    );
    record(
        app.call(
            Method::GET,
            &format!("/api/v1/orgs/{org}/members"),
            Some(&admin),
            None,
        )
        .await,
    );

    // GitHub login.
    fake.authorize(
        "the-code",
        FakeAccount {
            id: 99,
            login: "hush".into(),
            name: "Hush".into(),
            email: "hush@example.com".into(),
            email_verified: true,
        },
    );
    let start = record(
        app.call(
            Method::GET,
            "/api/v1/auth/oauth/github/authorize",
            None,
            None,
        )
        .await,
    );
    let location = url::Url::parse(start.headers["location"].to_str().unwrap()).unwrap();
    let state = location
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let cookie = start.headers["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let req = Request::builder()
        .uri(format!(
            "/api/v1/auth/oauth/github/callback?code=the-code&state={state}"
        ))
        .header("cookie", &cookie)
        .body(Body::empty())
        .unwrap();
    let gh = record(app.request(req).await);
    assert_eq!(gh.status, 200, "{}", gh.text());

    // The mail job.
    let worker = InProcessWorker::start(app.db.pool.clone(), test_worker_config(&[]));
    drain(&app.db.pool, &["send_email"], Duration::from_secs(20)).await;
    worker.stop().await;

    // What must never be echoed or logged.
    let hashes: Vec<String> =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE password_hash IS NOT NULL")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    let sealed: Vec<String> =
        sqlx::query_scalar("SELECT access_token_sealed FROM oauth_connections")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    let token_hashes: Vec<String> = sqlx::query_scalar(
        "SELECT token_hash FROM refresh_tokens UNION ALL SELECT token_hash FROM email_tokens UNION ALL SELECT token_hash FROM invitations UNION ALL SELECT state_hash FROM oauth_states",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    let mut never_in_responses: Vec<String> = vec![
        PASSWORD.into(),
        "Wrong-password-7".into(),
        "Changed-pass-8".into(),
        "Reset-pass-9".into(),
        reset_token.clone(),
        invite_token.clone(),
        verify_token.clone(),
        "gho_".into(),
        "$argon2".into(),
        "v1.k1.".into(),
        TEST_JWT_KEY.into(),
        TEST_ENCRYPTION_KEYS.into(),
        TEST_WEBHOOK_SECRET.into(),
        "test-client-secret-value".into(),
        "the-code".into(),
    ];
    never_in_responses.extend(hashes.iter().cloned());
    never_in_responses.extend(sealed.iter().cloned());
    never_in_responses.extend(token_hashes.iter().cloned());
    let mut never_in_logs = never_in_responses.clone();
    never_in_logs.extend([
        refresh.clone(),
        rotated_refresh,
        access,
        s.access_token.clone(),
        s.refresh_token.clone(),
        admin,
        state,
        cookie.split_once('=').unwrap().1.to_owned(),
    ]);

    for r in responses.lock().unwrap().iter() {
        for secret in &never_in_responses {
            assert!(
                !r.contains(secret.as_str()),
                "a response contains a secret ({}…): {r}",
                &secret[..secret.len().min(6)]
            );
        }
    }
    let log_text = logs.text();
    assert!(log_text.lines().count() > 50, "logs were captured");
    for line in log_text.lines() {
        for secret in &never_in_logs {
            assert!(
                !line.contains(secret.as_str()),
                "a log line contains a secret ({}…): {line}",
                &secret[..secret.len().min(6)]
            );
        }
    }
}
