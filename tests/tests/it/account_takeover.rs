//! Account takeover, attempted: a squatter pre-registers the victim's address and links their own
//! GitHub (by "Connect GitHub" or by a link made while unverified), then waits for the owner to reset
//! or reclaim; a stolen old session sets a first password; forty addresses guess one password; 25
//! guesses race the lock. Each attack must fail.

use axum::{
    body::Body,
    http::{Method, Request},
};
use repopal_tests::{
    TestApp,
    app::{ErrorEnvelope, decode},
    auth::{PASSWORD, Session},
    fake_github::{FakeAccount, FakeGithub},
    http::TestResponse,
    shapes::Link,
};
use serde_json::{Value, json};

const VICTIM: &str = "victim@corp.example";

fn account(id: i64, login: &str, email: &str) -> FakeAccount {
    FakeAccount {
        id,
        login: login.into(),
        name: login.into(),
        email: email.into(),
        email_verified: true,
    }
}

/// The squatter's own GitHub account: its verified address is the squatter's, not the victim's.
fn squatter_github() -> FakeAccount {
    account(666, "squatter", "squatter@evil.example")
}

fn owner_github() -> FakeAccount {
    account(42, "owner", VICTIM)
}

async fn app_with(fake: &FakeGithub) -> TestApp {
    let env = fake.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    TestApp::builder().envs(&env).build().await
}

fn state_of(url: &str) -> String {
    url::Url::parse(url)
        .expect("the authorize redirect is a URL")
        .query_pairs()
        .find(|(k, _)| k == "state")
        .expect("the authorize redirect carries a state")
        .1
        .into_owned()
}

async fn get_with_cookie(app: &TestApp, uri: &str, cookie: &str) -> TestResponse {
    let req = Request::builder()
        .uri(uri)
        .header("cookie", cookie)
        .body(Body::empty())
        .expect("the callback request is well-formed");
    app.request(req).await
}

/// "Sign in with GitHub" with `code` in a fresh browser.
async fn github_sign_in(app: &TestApp, code: &str) -> TestResponse {
    const COOKIE: &str = "repopal_oauth";
    // A redirect with a cookie: the raw answer.
    let start = app
        .caller(None)
        .send(Method::GET, "/api/v1/auth/oauth/github/authorize", None)
        .await;
    assert_eq!(start.status, 302, "{}", start.text());
    let state = state_of(
        start.headers["location"]
            .to_str()
            .expect("the location header is ASCII"),
    );
    let uri = format!("/api/v1/auth/oauth/github/callback?code={code}&state={state}");
    get_with_cookie(app, &uri, &start.cookie(COOKIE).expect("flow cookie")).await
}

/// "Connect GitHub" for repository access by a signed-in user.
async fn connect_github(app: &TestApp, user: &Session, code: &str) -> TestResponse {
    const COOKIE: &str = "repopal_connect";
    // The flow cookie matters: the raw answer.
    let start = app
        .caller(Some(user))
        .send(Method::GET, "/api/v1/oauth/github/authorize", None)
        .await;
    assert_eq!(start.status, 200, "{}", start.text());
    let link: Link = decode(&start);
    let state = state_of(&link.url);
    let uri = format!("/api/v1/oauth/github/callback?code={code}&state={state}");
    get_with_cookie(app, &uri, &start.cookie(COOKIE).expect("flow cookie")).await
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(&app.db.pool)
        .await
        .expect("the count query runs")
}

/// The squatter registers the victim's address, connects their own GitHub for repository access,
/// and tries to use it as a way in: refused at once, and gone after the owner's reset.
#[tokio::test]
async fn a_github_link_made_while_unverified_never_signs_in_and_a_reset_removes_it() {
    let fake = FakeGithub::start().await;
    let app = app_with(&fake).await;
    let squatter = app.register(VICTIM, None).await;
    fake.authorize_expiring("squat-connect", squatter_github());
    let linked = connect_github(&app, &squatter, "squat-connect").await;
    assert_eq!(linked.status, 200, "{}", linked.text());
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM oauth_connections WHERE linked_unverified"
        )
        .await,
        1
    );

    // The link is not a sign-in method of the unverified account.
    fake.authorize("squat-login", squatter_github());
    let refused = github_sign_in(&app, "squat-login").await;
    assert_eq!(
        refused.error_code(),
        (403, "github_link_unverified".to_owned()),
        "{}",
        refused.text()
    );

    // The owner resets the password through the mailed link.
    let _: Value = app
        .caller(None)
        .call(
            Method::POST,
            "/api/v1/auth/forgot-password",
            Some(json!({"email": VICTIM})),
            202,
        )
        .await;
    let token = app.mailed_token(VICTIM).await;
    let _: Value = app
        .caller(None)
        .call(
            Method::POST,
            "/api/v1/auth/reset-password",
            Some(json!({"token": token, "new_password": "Owner-owns-it-7"})),
            200,
        )
        .await;

    // Every link made while unverified is gone, and the squatter's sessions ended.
    assert_eq!(
        count(&app, "SELECT count(*) FROM oauth_connections").await,
        0
    );
    let _: ErrorEnvelope = app
        .caller(Some(&squatter))
        .call(Method::GET, "/api/v1/auth/me", None, 401)
        .await;
    // The squatter's GitHub now signs in only to an account of its own address.
    fake.authorize("squat-login-2", squatter_github());
    let own = github_sign_in(&app, "squat-login-2").await;
    assert_eq!(own.status, 200, "{}", own.text());
    assert_eq!(own.json()["data"]["user"]["email"], "squatter@evil.example");
    assert_ne!(own.json()["data"]["user"]["id"], squatter.user_id.as_str());
    assert_eq!(app.login(VICTIM, "Owner-owns-it-7").await.status, 200);
    assert_eq!(
        count(&app, "SELECT count(*) FROM audit_logs WHERE action = 'auth.password_reset' AND metadata->>'unverified_links_removed' = '1'").await,
        1
    );
}

/// The owner reclaims the address through GitHub: the squatter's GitHub link, password and sessions
/// all go, and the squatter's GitHub cannot sign in to the owner's account afterwards.
#[tokio::test]
async fn a_reclaim_through_github_removes_the_squatters_links_and_sessions() {
    let fake = FakeGithub::start().await;
    let app = app_with(&fake).await;
    let squatter = app.register(VICTIM, None).await;
    fake.authorize_expiring("squat-connect", squatter_github());
    assert_eq!(
        connect_github(&app, &squatter, "squat-connect")
            .await
            .status,
        200
    );

    fake.authorize("owner-login", owner_github());
    let owner = github_sign_in(&app, "owner-login").await;
    assert_eq!(owner.status, 200, "{}", owner.text());
    assert_eq!(
        owner.json()["data"]["user"]["id"],
        squatter.user_id.as_str()
    );
    assert_eq!(owner.json()["data"]["user"]["email_verified"], true);

    let logins: Vec<String> =
        sqlx::query_scalar("SELECT login FROM oauth_connections ORDER BY login")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(logins, vec!["owner"], "only the owner's own link remains");
    // The squatter's sessions ended.
    let _: ErrorEnvelope = app
        .caller(Some(&squatter))
        .call(Method::GET, "/api/v1/auth/me", None, 401)
        .await;
    assert_eq!(
        app.login(VICTIM, PASSWORD).await.status,
        401,
        "their password is gone"
    );

    fake.authorize("squat-login", squatter_github());
    let squat = github_sign_in(&app, "squat-login").await;
    assert_eq!(squat.status, 200, "{}", squat.text());
    assert_ne!(
        squat.json()["data"]["user"]["id"],
        squatter.user_id.as_str(),
        "the squatter's GitHub gets an account of its own, never the owner's"
    );
}

/// The owner connected GitHub before verifying; proving the address with that same GitHub
/// identity makes it a sign-in method (it was verified by that identity).
#[tokio::test]
async fn the_owners_own_early_link_becomes_a_sign_in_method_once_it_proves_the_address() {
    let fake = FakeGithub::start().await;
    let app = app_with(&fake).await;
    let owner = app.register(VICTIM, None).await;
    fake.authorize_expiring("connect", owner_github());
    assert_eq!(connect_github(&app, &owner, "connect").await.status, 200);
    fake.authorize("login", owner_github());
    let signed_in = github_sign_in(&app, "login").await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.text());
    assert_eq!(
        signed_in.json()["data"]["user"]["id"],
        owner.user_id.as_str()
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM oauth_connections WHERE NOT linked_unverified"
        )
        .await,
        1
    );
}

/// A first password on a GitHub-only account needs a sign-in from the last 10 minutes: an old
/// (stolen) session cannot add one; a fresh sign-in can.
#[tokio::test]
async fn a_first_password_needs_a_recent_sign_in() {
    let fake = FakeGithub::start().await;
    let app = app_with(&fake).await;
    fake.authorize("c1", owner_github());
    let first = github_sign_in(&app, "c1").await;
    assert_eq!(first.status, 200);
    let old_access = first.json()["data"]["tokens"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    sqlx::query("UPDATE sessions SET created_at = now() - interval '11 minutes'")
        .execute(&app.db.pool)
        .await
        .unwrap();
    // A first password set with a session token; the answer's status is asserted.
    let set = |token: String, status: u16| {
        let app = &app;
        async move {
            app.caller_with_token(&token)
                .call::<Value>(
                    Method::POST,
                    "/api/v1/auth/change-password",
                    Some(json!({"current_password": "", "new_password": "Attacker-sets-1"})),
                    status,
                )
                .await
        }
    };
    let refused = set(old_access, 403).await;
    assert_eq!(
        refused["error"]["code"], "recent_sign_in_required",
        "{refused}"
    );
    assert_eq!(app.login(VICTIM, "Attacker-sets-1").await.status, 401);

    fake.authorize("c2", owner_github());
    let fresh = github_sign_in(&app, "c2").await;
    let fresh_access = fresh.json()["data"]["tokens"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    set(fresh_access, 200).await;
    assert_eq!(app.login(VICTIM, "Attacker-sets-1").await.status, 200);
}

/// Forty wrong passwords from forty addresses lock the account (counted per account), only the
/// threshold's worth of hashes is checked, the owner waits too, and a password reset clears the
/// lock.
#[tokio::test]
async fn guesses_from_many_addresses_lock_the_account_until_a_reset() {
    let app = TestApp::builder().build().await;
    app.register("ivy@example.com", None).await;
    let mut statuses = Vec::new();
    for i in 0..40 {
        let res = app
            .login_from(
                &format!("198.51.100.{i}"),
                "ivy@example.com",
                "Wrong-pass-1",
            )
            .await;
        statuses.push(res.status.as_u16());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 401).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        35,
        "{statuses:?}"
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM login_attempts").await,
        5,
        "a locked account costs no hash"
    );
    let owner = app
        .login_from("192.0.2.200", "ivy@example.com", PASSWORD)
        .await;
    assert_eq!(owner.error_code(), (429, "account_locked".to_owned()));
    assert!(owner.headers.contains_key("retry-after"));

    let _: Value = app
        .caller(None)
        .call(
            Method::POST,
            "/api/v1/auth/forgot-password",
            Some(json!({"email": "ivy@example.com"})),
            202,
        )
        .await;
    let token = app.mailed_token("ivy@example.com").await;
    let _: Value = app
        .caller(None)
        .call(
            Method::POST,
            "/api/v1/auth/reset-password",
            Some(json!({"token": token, "new_password": "Ivy-is-back-22"})),
            200,
        )
        .await;
    assert_eq!(
        app.login_from("192.0.2.200", "ivy@example.com", "Ivy-is-back-22")
            .await
            .status,
        200
    );
}

/// 25 concurrent wrong passwords: the count is atomic, so at most the threshold's worth of hashes
/// is verified and every other guess is refused as locked.
#[tokio::test]
async fn concurrent_guesses_cannot_outrun_the_lock() {
    let app = TestApp::builder().build().await;
    app.register("race@example.com", None).await;
    let guesses = (0..25).map(|i| {
        let app = &app;
        async move {
            app.login_from(
                &format!("203.0.113.{i}"),
                "race@example.com",
                "Wrong-pass-1",
            )
            .await
            .status
            .as_u16()
        }
    });
    let statuses = futures::future::join_all(guesses).await;
    let verified = count(&app, "SELECT count(*) FROM login_attempts").await;
    assert!(verified <= 5, "{verified} hashes checked");
    assert_eq!(
        statuses.iter().filter(|s| **s == 401).count(),
        usize::try_from(verified).unwrap(),
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );
}

/// Logins refused because hashing is busy (503) never checked a password, so they do not count
/// towards the account's lock: the stored failures equal the wrong passwords actually checked.
#[tokio::test]
async fn logins_refused_as_busy_do_not_count_against_the_account() {
    let app = TestApp::builder()
        .envs(&[
            ("PASSWORD_HASH_CONCURRENCY", "1"),
            ("PASSWORD_HASH_MAX_WAIT_MS", "1"),
            ("LOGIN_LOCKOUT_THRESHOLD", "100"),
        ])
        .build()
        .await;
    app.register("busy@example.com", None).await;
    let guesses = (0..12).map(|i| {
        let app = &app;
        async move {
            app.login_from(
                &format!("203.0.113.{i}"),
                "busy@example.com",
                "Wrong-pass-1",
            )
            .await
            .status
            .as_u16()
        }
    });
    let statuses = futures::future::join_all(guesses).await;
    let checked = statuses.iter().filter(|s| **s == 401).count();
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 503) && statuses.contains(&503),
        "some logins are refused as busy, none fails otherwise: {statuses:?}"
    );
    let failures: i32 =
        sqlx::query_scalar("SELECT failures FROM login_throttle WHERE email = 'busy@example.com'")
            .fetch_one(&app.db.pool)
            .await
            .expect("a throttle row");
    assert_eq!(
        usize::try_from(failures).expect("non-negative"),
        checked,
        "only checked passwords count: {statuses:?}"
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM login_attempts").await,
        i64::try_from(checked).expect("small")
    );
}
