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
use serde_json::{Value, json};

#[tokio::test]
async fn secrets_never_reach_responses_or_logs() {
    let logs = CapturedLogs::install();

    let fake = FakeGithub::start().await;
    let env = fake.env();
    let mut env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.push(("LOGIN_LOCKOUT_THRESHOLD", "2"));
    let app = TestApp::builder().envs(&env).build().await;
    let responses = Arc::new(Mutex::new(Vec::new()));
    // A raw answer (a login's status varies, a redirect's headers are read) ...
    let record = |r: repopal_tests::http::TestResponse| {
        responses.lock().unwrap().push(r.text());
        r
    };
    // ... and a typed one, whole (a success envelope holds nothing but `data`; an error has none).
    let record_value = |v: Value| {
        responses.lock().expect("responses").push(v.to_string());
        v
    };
    let anonymous = app.caller(None);

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
    let refresh_body = json!({"refresh_token": refresh});
    let rotated = record_value(
        anonymous
            .call(
                Method::POST,
                "/api/v1/auth/refresh-token",
                Some(refresh_body.clone()),
                200,
            )
            .await,
    );
    let rotated_refresh = rotated["refresh_token"]
        .as_str()
        .expect("a rotated refresh token")
        .to_owned();
    // The spent refresh token again: refused.
    record_value(
        anonymous
            .call(
                Method::POST,
                "/api/v1/auth/refresh-token",
                Some(refresh_body),
                401,
            )
            .await,
    );
    let user = app.caller(Some(&s));
    record_value(user.call(Method::GET, "/api/v1/auth/me", None, 200).await);
    record_value(
        user.call(Method::GET, "/api/v1/auth/sessions", None, 200)
            .await,
    );
    record_value(
        user.call(
            Method::POST,
            "/api/v1/auth/change-password",
            Some(json!({"current_password": PASSWORD, "new_password": "Changed-pass-8"})),
            200,
        )
        .await,
    );
    record_value(
        anonymous
            .call(
                Method::POST,
                "/api/v1/auth/forgot-password",
                Some(json!({"email": "secret@example.com"})),
                202,
            )
            .await,
    );
    let reset_token = app.mailed_token("secret@example.com").await;
    let reset_body = json!({"token": reset_token, "new_password": "Reset-pass-9"});
    record_value(
        anonymous
            .call(
                Method::POST,
                "/api/v1/auth/reset-password",
                Some(reset_body.clone()),
                200,
            )
            .await,
    );
    // The spent reset token again: refused.
    record_value(
        anonymous
            .call(
                Method::POST,
                "/api/v1/auth/reset-password",
                Some(reset_body),
                400,
            )
            .await,
    );
    let org = s.first_org();
    let admin = app
        .login_ok_with("secret@example.com", "Reset-pass-9")
        .await;
    // A session token from a sign-in (not a `Session`): the raw bearer.
    let as_admin = app.caller_with_token(&admin).in_org(&org);
    record_value(
        as_admin
            .call(
                Method::POST,
                "invitations",
                Some(json!({"email": "friend@example.com", "role": "viewer"})),
                201,
            )
            .await,
    );
    let invite_token = app.mailed_token("friend@example.com").await;
    record_value(as_admin.call(Method::GET, "audit-logs", None, 200).await);
    record_value(as_admin.call(Method::GET, "members", None, 200).await);

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
        anonymous
            .send(Method::GET, "/api/v1/auth/oauth/github/authorize", None)
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
