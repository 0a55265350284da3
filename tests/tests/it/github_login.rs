//! "Sign in with GitHub" against a fake GitHub over HTTP: success, linking, bad and reused state,
//! denial, provider errors, and unlinking.

use axum::{
    body::Body,
    http::{Method, Request},
};
use repopal_tests::{
    TestApp,
    app::ErrorEnvelope,
    fake_github::{FakeAccount, FakeGithub},
    http::TestResponse,
};
use serde_json::Value;

async fn app_with(fake: &FakeGithub) -> TestApp {
    let env = fake.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    TestApp::builder().envs(&env).build().await
}

fn account(id: i64, login: &str, email: &str) -> FakeAccount {
    FakeAccount {
        id,
        login: login.into(),
        name: format!("{login} name"),
        email: email.into(),
        email_verified: true,
    }
}

/// Starts the flow: returns the `state` GitHub would echo and the browser cookie.
async fn start(app: &TestApp, fake: &FakeGithub) -> (String, String) {
    // A redirect with a cookie: the raw answer.
    let res = app
        .caller(None)
        .send(Method::GET, "/api/v1/auth/oauth/github/authorize", None)
        .await;
    assert_eq!(res.status, 302, "{}", res.text());
    let location = res.headers["location"]
        .to_str()
        .expect("the location header is ASCII");
    assert!(
        location.starts_with(&format!("{}/login/oauth/authorize?", fake.url)),
        "{location}"
    );
    let url = url::Url::parse(location).expect("the location is a URL");
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q["client_id"], "Iv1.testclient");
    assert_eq!(
        q["redirect_uri"],
        "http://repopal.test/api/v1/auth/oauth/github/callback"
    );
    assert_eq!(q["scope"], "read:user user:email");
    let cookie = res.headers["set-cookie"]
        .to_str()
        .expect("the set-cookie header is ASCII");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let cookie = cookie
        .split(';')
        .next()
        .expect("splitting yields at least one piece")
        .to_owned();
    (q["state"].clone(), cookie)
}

async fn callback(app: &TestApp, query: &str, cookie: Option<&str>) -> TestResponse {
    let mut req = Request::builder()
        .method(Method::GET)
        .uri(format!("/api/v1/auth/oauth/github/callback?{query}"));
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    app.request(req.body(Body::empty()).expect("the request is well-formed"))
        .await
}

#[tokio::test]
async fn a_new_github_user_gets_an_account_and_a_session() {
    let fake = FakeGithub::start().await;
    let app = app_with(&fake).await;
    fake.authorize("code-1", account(583231, "octocat", "octocat@github.com"));
    let (state, cookie) = start(&app, &fake).await;

    let res = callback(&app, &format!("code=code-1&state={state}"), Some(&cookie)).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let body = res.json();
    assert_eq!(body["data"]["user"]["email"], "octocat@github.com");
    assert_eq!(body["data"]["user"]["email_verified"], true);
    assert_eq!(body["data"]["user"]["full_name"], "octocat name");
    let access = body["data"]["tokens"]["access_token"].as_str().unwrap();
    let _: Value = app
        .caller_with_token(access)
        .call(Method::GET, "/api/v1/auth/me", None, 200)
        .await;
    assert_eq!(
        fake.calls(),
        vec![
            "POST /login/oauth/access_token",
            "GET /user",
            "GET /user/emails"
        ]
    );

    let (login, scopes, sealed): (String, Vec<String>, String) =
        sqlx::query_as("SELECT login, scopes, access_token_sealed FROM oauth_connections")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(login, "octocat");
    assert_eq!(scopes, vec!["read:user", "user:email"]);
    assert!(
        sealed.starts_with("v1.k1.") && !sealed.contains("gho_"),
        "the token is sealed"
    );

    // The same state cannot be used twice.
    fake.authorize("code-2", account(583231, "octocat", "octocat@github.com"));
    let reused = callback(&app, &format!("code=code-2&state={state}"), Some(&cookie)).await;
    assert_eq!(
        (
            reused.status.as_u16(),
            reused.json()["error"]["code"].as_str()
        ),
        (400, Some("oauth_state_reused"))
    );

    // Signing in again logs into the same account.
    fake.authorize("code-3", account(583231, "octocat", "octocat@github.com"));
    let (state, cookie) = start(&app, &fake).await;
    let again = callback(&app, &format!("code=code-3&state={state}"), Some(&cookie)).await;
    assert_eq!(
        again.json()["data"]["user"]["id"],
        body["data"]["user"]["id"]
    );
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(users, 1);
}

#[tokio::test]
async fn an_existing_account_with_the_same_verified_email_is_linked() {
    let fake = FakeGithub::start().await;
    let app = app_with(&fake).await;
    let existing = app.register("linus@example.com", None).await;
    // The password is proven through the mailed reset link (the owner chose it with the mailbox).
    let _: Value = app
        .caller(None)
        .call(
            Method::POST,
            "/api/v1/auth/forgot-password",
            Some(serde_json::json!({"email": "linus@example.com"})),
            202,
        )
        .await;
    let token = app.mailed_token("linus@example.com").await;
    let _: Value = app
        .caller(None)
        .call(
            Method::POST,
            "/api/v1/auth/reset-password",
            Some(serde_json::json!({"token": token, "new_password": "Linus-owns-it-1"})),
            200,
        )
        .await;
    let session = app
        .login_ok_with("linus@example.com", "Linus-owns-it-1")
        .await;
    fake.authorize("code", account(42, "linus", "linus@example.com"));
    let (state, cookie) = start(&app, &fake).await;
    let res = callback(&app, &format!("code=code&state={state}"), Some(&cookie)).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["data"]["user"]["id"], existing.user_id);
    let audit: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_logs WHERE actor_user_id = $1::uuid ORDER BY id",
    )
    .bind(&existing.user_id)
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert!(audit.contains(&"auth.oauth_link".to_owned()), "{audit:?}");
    assert!(
        !audit.contains(&"auth.account_reclaim".to_owned()),
        "{audit:?}"
    );
    // A session token from a sign-in (not a `Session`): the raw bearer.
    let owner = app.caller_with_token(&session);
    // A proven owner's own sessions are untouched.
    let _: Value = owner.call(Method::GET, "/api/v1/auth/me", None, 200).await;

    // With a password, GitHub can be unlinked; the account still signs in with the password.
    let disconnect = "/api/v1/auth/oauth/github/disconnect";
    let _: Value = owner.call(Method::POST, disconnect, None, 200).await;
    let _: ErrorEnvelope = owner.call(Method::POST, disconnect, None, 404).await;
    assert_eq!(
        app.login("linus@example.com", "Linus-owns-it-1")
            .await
            .status,
        200
    );
}

/// Pre-hijack through the verification mail (found by a review): a squatter registers the
/// owner's address with a password; the owner clicks the verification mail that sign-up sent,
/// then signs in with GitHub. The password chosen before the address was proven, and every
/// session, must go.
#[tokio::test]
async fn a_password_chosen_before_the_address_was_proven_goes_when_github_proves_it() {
    let fake = FakeGithub::start().await;
    let app = app_with(&fake).await;
    let squatter = app.register("linus@example.com", None).await;
    let token = app.mailed_token("linus@example.com").await;
    let _: Value = app
        .caller(None)
        .call(
            Method::POST,
            "/api/v1/auth/verify-email",
            Some(serde_json::json!({"token": token})),
            200,
        )
        .await;
    fake.authorize("code", account(42, "linus", "linus@example.com"));
    let (state, cookie) = start(&app, &fake).await;
    let res = callback(&app, &format!("code=code&state={state}"), Some(&cookie)).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["data"]["user"]["id"], squatter.user_id);
    // The registrant's sessions end.
    let _: ErrorEnvelope = app
        .caller(Some(&squatter))
        .call(Method::GET, "/api/v1/auth/me", None, 401)
        .await;
    assert_eq!(
        app.login("linus@example.com", repopal_tests::auth::PASSWORD)
            .await
            .status,
        401,
        "the registrant's password is gone"
    );
    let reason: String = sqlx::query_scalar(
        "SELECT metadata->>'reason' FROM audit_logs WHERE action = 'auth.account_reclaim'",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(reason, "password_set_before_email_proved");
}

#[tokio::test]
async fn an_unverified_squatter_loses_the_account_to_the_proven_email_owner() {
    let fake = FakeGithub::start().await;
    let app = app_with(&fake).await;
    // Someone registers the victim's address first (never verified) and keeps a session.
    let squatter = app.register("victim@example.com", None).await;
    fake.authorize("code", account(77, "victim", "victim@example.com"));
    let (state, cookie) = start(&app, &fake).await;
    let res = callback(&app, &format!("code=code&state={state}"), Some(&cookie)).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["data"]["user"]["email_verified"], true);
    // The squatter's sessions end.
    let _: ErrorEnvelope = app
        .caller(Some(&squatter))
        .call(Method::GET, "/api/v1/auth/me", None, 401)
        .await;
    assert_eq!(
        app.login("victim@example.com", repopal_tests::auth::PASSWORD)
            .await
            .status,
        401,
        "the squatter's password no longer works"
    );
    let reclaimed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_logs WHERE action = 'auth.account_reclaim'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(reclaimed, 1);
}

#[tokio::test]
async fn github_cannot_be_unlinked_when_it_is_the_only_way_in() {
    let fake = FakeGithub::start().await;
    let app = app_with(&fake).await;
    fake.authorize("c", account(7, "solo", "solo@example.com"));
    let (state, cookie) = start(&app, &fake).await;
    let res = callback(&app, &format!("code=c&state={state}"), Some(&cookie)).await;
    let access = res.json()["data"]["tokens"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused: ErrorEnvelope = app
        .caller_with_token(&access)
        .call(
            Method::POST,
            "/api/v1/auth/oauth/github/disconnect",
            None,
            409,
        )
        .await;
    assert_eq!(refused.error.code, "last_login_method");
}

#[tokio::test]
async fn bad_state_missing_cookie_and_another_browser_are_refused() {
    let fake = FakeGithub::start().await;
    let app = app_with(&fake).await;
    fake.authorize("c", account(1, "octocat", "octocat@github.com"));
    let (state, cookie) = start(&app, &fake).await;
    for (query, cookie) in [
        (format!("code=c&state=forged{state}"), Some(cookie.clone())),
        (format!("code=c&state={state}"), None),
        (
            format!("code=c&state={state}"),
            Some("repopal_oauth=someone-else".to_owned()),
        ),
        ("code=c".to_owned(), Some(cookie.clone())),
    ] {
        let res = callback(&app, &query, cookie.as_deref()).await;
        assert_eq!(res.status, 400, "{query}");
        assert_eq!(
            res.json()["error"]["code"],
            "invalid_oauth_state",
            "{query}"
        );
    }
    assert!(
        fake.calls().is_empty(),
        "GitHub is never called without a valid state"
    );
    // The genuine browser can still finish.
    assert_eq!(
        callback(&app, &format!("code=c&state={state}"), Some(&cookie))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn a_denied_authorisation_and_provider_errors_are_reported() {
    let fake = FakeGithub::start().await;
    let app = app_with(&fake).await;

    let (state, cookie) = start(&app, &fake).await;
    let denied = callback(
        &app,
        &format!("error=access_denied&error_description=denied&state={state}"),
        Some(&cookie),
    )
    .await;
    assert_eq!(
        (
            denied.status.as_u16(),
            denied.json()["error"]["code"].as_str()
        ),
        (400, Some("oauth_denied"))
    );

    let (state, cookie) = start(&app, &fake).await;
    let bad_code = callback(
        &app,
        &format!("code=never-issued&state={state}"),
        Some(&cookie),
    )
    .await;
    assert_eq!(
        (
            bad_code.status.as_u16(),
            bad_code.json()["error"]["code"].as_str()
        ),
        (400, Some("oauth_code_invalid"))
    );

    fake.set_token_endpoint_down(true);
    fake.authorize("c", account(1, "octocat", "octocat@github.com"));
    let (state, cookie) = start(&app, &fake).await;
    let down = callback(&app, &format!("code=c&state={state}"), Some(&cookie)).await;
    assert_eq!(
        (down.status.as_u16(), down.json()["error"]["code"].as_str()),
        (502, Some("upstream_error"))
    );
    assert_eq!(down.json()["error"]["details"]["provider"], "github");

    let mut unverified = account(9, "shy", "shy@example.com");
    unverified.email_verified = false;
    fake.set_token_endpoint_down(false);
    fake.authorize("u", unverified);
    let (state, cookie) = start(&app, &fake).await;
    let res = callback(&app, &format!("code=u&state={state}"), Some(&cookie)).await;
    // The fake also lists a verified noreply address, which is used.
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        res.json()["data"]["user"]["email"],
        "shy@users.noreply.github.com"
    );
}

#[tokio::test]
async fn github_login_is_refused_clearly_when_not_configured() {
    let app = TestApp::builder().build().await;
    let e: ErrorEnvelope = app
        .caller(None)
        .call(
            Method::GET,
            "/api/v1/auth/oauth/github/authorize",
            None,
            400,
        )
        .await;
    assert_eq!(e.error.code, "oauth_not_configured");
}
