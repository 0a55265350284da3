//! Accounts and sessions: the full flows, token rotation and reuse detection, revocation, JWT
//! tampering, rate limiting and lockout.

use std::time::Duration;

use axum::http::Method;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use repopal_tests::{
    TestApp,
    app::ErrorEnvelope,
    auth::PASSWORD,
    shapes::Page,
    worker::{InProcessWorker, drain, test_worker_config},
};
use serde::Deserialize;
use serde_json::{Value, json};

const ME: &str = "/api/v1/auth/me";
const REFRESH: &str = "/api/v1/auth/refresh-token";

/// The signed-in user as `/api/v1/auth/me` answers.
#[derive(Deserialize)]
struct Me {
    id: String,
    full_name: String,
    email_verified: bool,
}

/// A token pair as a refresh answers it.
#[derive(Deserialize)]
struct Tokens {
    access_token: String,
    refresh_token: String,
}

/// One of the user's sessions as `/api/v1/auth/sessions` lists it.
#[derive(Debug, Deserialize)]
struct SessionItem {
    id: String,
    user_agent: Option<String>,
    current: bool,
}

#[tokio::test]
async fn register_returns_user_orgs_and_tokens_and_me_works() {
    let app = TestApp::builder().build().await;
    let s = app
        .register("Ada@Example.com", Some("Analytical Engines"))
        .await;
    let user = &s.body["data"]["user"];
    assert_eq!(user["email"], "ada@example.com", "emails are normalised");
    assert_eq!(user["email_verified"], false);
    assert_eq!(user["organizations"][0]["role"], "org_admin");
    assert_eq!(user["organizations"][0]["slug"], "analytical-engines");
    assert_eq!(s.body["data"]["tokens"]["expires_in"], 900);
    assert!(user.get("password_hash").is_none());

    let ada = app.caller(Some(&s));
    let me: Me = ada.call(Method::GET, ME, None, 200).await;
    assert_eq!(me.id, s.user_id);

    let patched: Me = ada
        .call(
            Method::PATCH,
            ME,
            Some(json!({"full_name": "Ada Lovelace"})),
            200,
        )
        .await;
    assert_eq!(patched.full_name, "Ada Lovelace");

    let dup: ErrorEnvelope = app
        .caller(None)
        .call(
            Method::POST,
            "/api/v1/auth/register",
            Some(json!({"email": "ada@example.com", "password": PASSWORD, "full_name": "X"})),
            409,
        )
        .await;
    assert_eq!(dup.error.code, "email_taken");
}

#[tokio::test]
async fn bad_registration_input_lists_the_failing_fields() {
    let app = TestApp::builder().build().await;
    let anonymous = app.caller(None);
    let body: Value = anonymous
        .call(
            Method::POST,
            "/api/v1/auth/register",
            Some(json!({"email": "nope", "password": "short", "full_name": ""})),
            422,
        )
        .await;
    assert_eq!(body["error"]["code"], "validation_failed");
    let fields = repopal_tests::shapes::field_errors(&body);
    assert!(
        fields.contains_key("email")
            && fields.contains_key("password")
            && fields.contains_key("full_name"),
        "{body}"
    );

    let e: ErrorEnvelope = anonymous
        .call(
            Method::POST,
            "/api/v1/auth/register",
            Some(json!({"email": 1})),
            422,
        )
        .await;
    assert_eq!(e.error.code, "validation_failed");
    let req = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/api/v1/auth/login")
        .header("content-type", "application/json")
        .body(axum::body::Body::from("{not json"))
        .unwrap();
    let res = app.request(req).await;
    assert_eq!(
        (res.status.as_u16(), res.json()["error"]["code"].as_str()),
        (400, Some("invalid_json"))
    );
    let req = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/api/v1/auth/login")
        .body(axum::body::Body::from("x"))
        .unwrap();
    assert_eq!(app.request(req).await.status, 415);
}

#[tokio::test]
async fn unknown_email_and_wrong_password_get_the_same_answer() {
    let app = TestApp::builder().build().await;
    app.register("bob@example.com", None).await;
    let wrong = app.login("bob@example.com", "Wrong-password-1").await;
    let unknown = app.login("nobody@example.com", "Wrong-password-1").await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.status, unknown.status);
    assert_eq!(wrong.json()["error"], unknown.json()["error"]);
    assert_eq!(wrong.json()["error"]["code"], "invalid_credentials");
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_whole_session() {
    let app = TestApp::builder().build().await;
    let s = app.register("carol@example.com", None).await;

    let anonymous = app.caller(None);
    let first: Tokens = anonymous
        .call(
            Method::POST,
            REFRESH,
            Some(json!({"refresh_token": s.refresh_token})),
            200,
        )
        .await;
    let rotated = first.refresh_token;
    let new_access = first.access_token;
    assert_ne!(rotated, s.refresh_token);

    // The old refresh token again: theft suspected, the session (all its tokens) ends.
    let reuse: ErrorEnvelope = anonymous
        .call(
            Method::POST,
            REFRESH,
            Some(json!({"refresh_token": s.refresh_token})),
            401,
        )
        .await;
    assert_eq!(reuse.error.code, "refresh_token_reused");
    // The rotated token died with its session.
    let _: ErrorEnvelope = anonymous
        .call(
            Method::POST,
            REFRESH,
            Some(json!({"refresh_token": rotated})),
            401,
        )
        .await;
    // Access tokens of the revoked session stop at once.
    let _: ErrorEnvelope = app
        .caller_with_token(&new_access)
        .call(Method::GET, ME, None, 401)
        .await;
    let logged: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_logs WHERE action = 'auth.refresh_reuse'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(logged, 1);
}

#[tokio::test]
async fn logout_and_ending_a_session_revoke_access_at_once() {
    let app = TestApp::builder().build().await;
    let a = app.register("dan@example.com", None).await;
    let b = app.login_ok("dan@example.com").await;

    let as_a = app.caller(Some(&a));
    let list: Page<SessionItem> = as_a
        .call(Method::GET, "/api/v1/auth/sessions", None, 200)
        .await;
    let sessions = &list.items;
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s.current).count(), 1);
    assert_eq!(sessions[0].user_agent.as_deref(), Some("repopal-tests/1.0"));
    let other = &sessions
        .iter()
        .find(|s| !s.current)
        .expect("the other session")
        .id;

    let _: Value = as_a
        .call(
            Method::DELETE,
            &format!("/api/v1/auth/sessions/{other}"),
            None,
            200,
        )
        .await;
    let _: ErrorEnvelope = app.caller(Some(&b)).call(Method::GET, ME, None, 401).await;

    let _: Value = as_a
        .call(Method::POST, "/api/v1/auth/logout", None, 200)
        .await;
    let _: ErrorEnvelope = as_a.call(Method::GET, ME, None, 401).await;
    let _: ErrorEnvelope = app
        .caller(None)
        .call(
            Method::POST,
            REFRESH,
            Some(json!({"refresh_token": a.refresh_token})),
            401,
        )
        .await;
}

fn forge(token: &str, header: &str, payload: Option<serde_json::Value>) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let payload = payload.map_or_else(
        || parts[1].to_owned(),
        |p| URL_SAFE_NO_PAD.encode(p.to_string()),
    );
    format!("{}.{payload}.{}", URL_SAFE_NO_PAD.encode(header), parts[2])
}

#[tokio::test]
async fn forged_expired_and_wrong_algorithm_tokens_are_refused() {
    let app = TestApp::builder().build().await;
    let s = app.register("eve@example.com", None).await;
    let claims: serde_json::Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(s.access_token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();

    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT","kid":"k1"}"#),
        s.access_token.split('.').nth(1).unwrap()
    );
    let hs512 = forge(
        &s.access_token,
        r#"{"alg":"HS512","typ":"JWT","kid":"k1"}"#,
        None,
    );
    let mut other_user = claims.clone();
    other_user["sub"] = json!(uuid::Uuid::new_v4());
    let tampered = forge(
        &s.access_token,
        r#"{"alg":"HS256","typ":"JWT","kid":"k1"}"#,
        Some(other_user),
    );
    let mut expired_claims = claims.clone();
    expired_claims["exp"] = json!(chrono::Utc::now().timestamp() - 60);
    let expired = jsonwebtoken::encode(
        &{
            let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
            h.kid = Some("k1".into());
            h
        },
        &expired_claims,
        &jsonwebtoken::EncodingKey::from_secret(repopal_tests::http::TEST_JWT_KEY.as_bytes()),
    )
    .unwrap();
    let wrong_key = jsonwebtoken::encode(
        &{
            let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
            h.kid = Some("k1".into());
            h
        },
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(b"not-the-server-key-at-all-0123456789"),
    )
    .unwrap();

    let _: Me = app.caller(Some(&s)).call(Method::GET, ME, None, 200).await;
    for (what, token) in [
        ("alg none", none),
        ("HS512", hs512),
        ("tampered", tampered),
        ("expired", expired),
        ("wrong key", wrong_key),
        ("garbage", "abc".into()),
    ] {
        let e: ErrorEnvelope = app
            .caller_with_token(&token)
            .call(Method::GET, ME, None, 401)
            .await;
        assert_eq!(e.error.code, "unauthorized", "{what}");
    }
    let _: ErrorEnvelope = app.caller(None).call(Method::GET, ME, None, 401).await;
}

#[tokio::test]
async fn change_password_ends_the_other_sessions() {
    let app = TestApp::builder().build().await;
    let a = app.register("fay@example.com", None).await;
    let b = app.login_ok("fay@example.com").await;
    let as_a = app.caller(Some(&a));
    let wrong: ErrorEnvelope = as_a
        .call(
            Method::POST,
            "/api/v1/auth/change-password",
            Some(json!({"current_password": "Nope-nope-1", "new_password": "Another-pass-2"})),
            403,
        )
        .await;
    assert_eq!(wrong.error.code, "wrong_password");
    let _: Value = as_a
        .call(
            Method::POST,
            "/api/v1/auth/change-password",
            Some(json!({"current_password": PASSWORD, "new_password": "Another-pass-2"})),
            200,
        )
        .await;
    // This session stays; the others end.
    let _: Me = as_a.call(Method::GET, ME, None, 200).await;
    let _: ErrorEnvelope = app.caller(Some(&b)).call(Method::GET, ME, None, 401).await;
    assert_eq!(app.login("fay@example.com", PASSWORD).await.status, 401);
    assert_eq!(
        app.login("fay@example.com", "Another-pass-2").await.status,
        200
    );
}

#[tokio::test]
async fn forgot_and_reset_password_use_a_single_use_mailed_token() {
    let app = TestApp::builder().build().await;
    let s = app.register("gus@example.com", None).await;
    let anonymous = app.caller(None);
    // No account enumeration: both answer 202, the same.
    let unknown: Value = anonymous
        .call(
            Method::POST,
            "/api/v1/auth/forgot-password",
            Some(json!({"email": "none@example.com"})),
            202,
        )
        .await;
    let known: Value = anonymous
        .call(
            Method::POST,
            "/api/v1/auth/forgot-password",
            Some(json!({"email": "gus@example.com"})),
            202,
        )
        .await;
    assert_eq!(unknown, known, "no account enumeration");

    let token = app.mailed_token("gus@example.com").await;
    assert!(token.starts_with("rpp_"));
    let _: Value = anonymous
        .call(
            Method::POST,
            "/api/v1/auth/reset-password",
            Some(json!({"token": token, "new_password": "Brand-new-pass-3"})),
            200,
        )
        .await;
    // All sessions end.
    let _: ErrorEnvelope = app.caller(Some(&s)).call(Method::GET, ME, None, 401).await;
    let again: ErrorEnvelope = anonymous
        .call(
            Method::POST,
            "/api/v1/auth/reset-password",
            Some(json!({"token": token, "new_password": "Brand-new-pass-4"})),
            400,
        )
        .await;
    assert_eq!(again.error.code, "invalid_token");
    assert_eq!(
        app.login("gus@example.com", "Brand-new-pass-3")
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn email_verification_goes_out_through_the_mail_job() {
    let app = TestApp::builder().build().await;
    let s = app.register("hal@example.com", None).await;
    let worker = InProcessWorker::start(app.db.pool.clone(), test_worker_config(&[]));
    drain(&app.db.pool, &["send_email"], Duration::from_secs(20)).await;
    worker.stop().await;
    let (sent, delivery): (bool, Option<String>) =
        sqlx::query_as("SELECT sent_at IS NOT NULL, delivery FROM email_outbox WHERE to_address = 'hal@example.com'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert!(sent);
    assert_eq!(
        delivery.as_deref(),
        Some("outbox"),
        "no SMTP_URL: kept in the outbox"
    );

    let token = app.mailed_token("hal@example.com").await;
    let anonymous = app.caller(None);
    let _: Value = anonymous
        .call(
            Method::POST,
            "/api/v1/auth/verify-email",
            Some(json!({"token": token})),
            200,
        )
        .await;
    let me: Me = app.caller(Some(&s)).call(Method::GET, ME, None, 200).await;
    assert!(me.email_verified);
    // Single use.
    let _: ErrorEnvelope = anonymous
        .call(
            Method::POST,
            "/api/v1/auth/verify-email",
            Some(json!({"token": token})),
            400,
        )
        .await;
}

#[tokio::test]
async fn the_auth_rate_limit_answers_429_with_retry_after_per_client_ip() {
    let app = TestApp::builder()
        .envs(&[("AUTH_RATE_LIMIT_PER_MINUTE", "3")])
        .build()
        .await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(
            app.login_from("198.51.100.7", "x@example.com", "Whatever-1")
                .await,
        );
    }
    assert_eq!(
        statuses
            .iter()
            .map(|r| r.status.as_u16())
            .collect::<Vec<_>>(),
        vec![401, 401, 401, 429, 429]
    );
    let limited = &statuses[3];
    assert_eq!(limited.json()["error"]["code"], "rate_limited");
    let retry: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    // Another client is not affected, nor are other routes.
    assert_eq!(
        app.login_from("198.51.100.8", "x@example.com", "Whatever-1")
            .await
            .status,
        401
    );
    assert_eq!(app.get("/healthz").await.status, 200);
}

#[tokio::test]
async fn lockout_engages_grows_is_capped_and_a_success_clears_it() {
    let app = TestApp::builder()
        .envs(&[
            ("LOGIN_LOCKOUT_THRESHOLD", "3"),
            ("LOGIN_LOCKOUT_BASE_SECS", "60"),
            ("LOGIN_LOCKOUT_MAX_SECS", "100"),
        ])
        .build()
        .await;
    app.register("ivy@example.com", None).await;
    let attacker = "203.0.113.66";
    for _ in 0..3 {
        assert_eq!(
            app.login_from(attacker, "ivy@example.com", "Wrong-pass-1")
                .await
                .status,
            401
        );
    }
    let locked = app.login_from(attacker, "ivy@example.com", PASSWORD).await;
    assert_eq!(
        locked.status,
        429,
        "the account waits even with the right password: {}",
        locked.text()
    );
    assert_eq!(locked.json()["error"]["code"], "account_locked");
    let retry: u64 = locked.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (50..=60).contains(&retry),
        "first lock is the base: {retry}"
    );
    // The lock is the account's, whatever the address.
    assert_eq!(
        app.login_from("192.0.2.10", "ivy@example.com", PASSWORD)
            .await
            .status,
        429
    );

    // Time passes beyond the lock; one more failure locks again for twice as long, capped at 100 s.
    sqlx::query("UPDATE login_throttle SET locked_until = now() - interval '1 second'")
        .execute(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(
        app.login_from(attacker, "ivy@example.com", "Wrong-pass-1")
            .await
            .status,
        401
    );
    let relocked = app
        .login_from(attacker, "ivy@example.com", "Wrong-pass-1")
        .await;
    let retry: u64 = relocked.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (90..=100).contains(&retry),
        "doubled (120 s) and capped at 100 s: {retry}"
    );

    // Once the lock has passed, the right password signs in and clears the count.
    sqlx::query("UPDATE login_throttle SET locked_until = now() - interval '1 second'")
        .execute(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(
        app.login_from("192.0.2.10", "ivy@example.com", PASSWORD)
            .await
            .status,
        200
    );
    assert_eq!(
        app.login_from(attacker, "ivy@example.com", "Wrong-pass-1")
            .await
            .status,
        401,
        "a fresh count after the success"
    );
    let failures: i64 =
        sqlx::query_scalar("SELECT count(*) FROM login_attempts WHERE NOT succeeded")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(
        failures, 5,
        "attempts during a lock are refused without a hash and without being counted"
    );
}

#[tokio::test]
async fn two_concurrent_uses_of_one_refresh_token_succeed_at_most_once() {
    let app = TestApp::builder().build().await;
    let s = app.register("race@example.com", None).await;
    let body = json!({"refresh_token": s.refresh_token});
    // Which of the two wins is not fixed, so the raw answers.
    let anonymous = app.caller(None);
    let (a, b) = tokio::join!(
        anonymous.send(Method::POST, REFRESH, Some(body.clone())),
        anonymous.send(Method::POST, REFRESH, Some(body.clone())),
    );
    let mut statuses = vec![a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(
        statuses,
        vec![200, 401],
        "exactly one use wins; the other is treated as reuse"
    );
}

#[tokio::test]
async fn with_smtp_url_mail_is_delivered_over_smtp() {
    let smtp = repopal_tests::fake_smtp::FakeSmtp::start().await;
    let app = TestApp::builder().build().await;
    app.register("mia@example.com", None).await;
    let worker = InProcessWorker::start_with(
        app.db.pool.clone(),
        test_worker_config(&[]),
        &[
            ("SMTP_URL", &smtp.url),
            ("MAIL_FROM", "RepoPal <noreply@repopal.test>"),
        ],
    );
    drain(&app.db.pool, &["send_email"], Duration::from_secs(20)).await;
    worker.stop().await;

    let messages = smtp.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0].to, vec!["<mia@example.com>"]);
    assert!(messages[0].from.contains("noreply@repopal.test"));
    assert!(
        messages[0]
            .data
            .contains("Subject: Confirm your RepoPal email address"),
        "{}",
        messages[0].data
    );
    let (delivery, body): (Option<String>, String) =
        sqlx::query_as("SELECT delivery, body FROM email_outbox")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(delivery.as_deref(), Some("smtp"));
    assert!(
        !body.contains("rpv_"),
        "the token does not stay in the database once mailed: {body}"
    );
}
