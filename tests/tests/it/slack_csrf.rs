//! Attacks on "Add to Slack" (issue 11, items 3 and 4), against the real router and a fake Slack
//! over HTTP: an attacker's authorize link completed in a victim's browser (the victim's workspace
//! token would land in the attacker's organisation), a link whose maker was demoted or removed
//! before the callback, and states signed with the access-token key or the install key.

use std::collections::HashMap;

use axum::http::Method;
use common::crypto::purpose_keys::{KeyPurpose, PurposeKey};
use repopal_tests::{
    TestApp,
    app::decode,
    auth::Session,
    fake_slack::{FakeSlack, SLACK_CLIENT_ID, SLACK_CLIENT_SECRET},
    http::{TEST_JWT_KEY, TestResponse},
    shapes::Link,
};
use secrecy::SecretString;
use serde_json::Value;

async fn start() -> (FakeSlack, TestApp) {
    let slack = FakeSlack::start().await;
    let env = [
        ("SLACK_API_URL", slack.url.as_str()),
        ("SLACK_CLIENT_ID", SLACK_CLIENT_ID),
        ("SLACK_CLIENT_SECRET", SLACK_CLIENT_SECRET),
        (
            "SLACK_AUTHORIZE_URL",
            "https://slack.test/oauth/v2/authorize",
        ),
    ];
    let app = TestApp::builder().envs(&env).build().await;
    (slack, app)
}

/// Starts "Add to Slack" as `admin` of `org`: the state and the cookie set in their browser.
async fn authorize(app: &TestApp, admin: &Session, org: &str) -> (String, String) {
    // The cookie matters: the raw answer.
    let res = app
        .caller(Some(admin))
        .in_org(org)
        .send(Method::GET, "slack/authorize", None)
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let cookie = res.cookie("repopal_slack").expect("the Slack flow cookie");
    let link: Link = decode(&res);
    let url = url::Url::parse(&link.url).expect("test fixture");
    let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
    (q["state"].clone(), cookie)
}

async fn callback(app: &TestApp, code: &str, state: &str, cookie: Option<&str>) -> TestResponse {
    app.browser_get(
        &format!("/api/v1/slack/callback?code={code}&state={state}"),
        cookie,
    )
    .await
}

async fn slack_integrations(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM integrations WHERE kind = 'slack'")
        .fetch_one(&app.db.pool)
        .await
        .expect("test fixture")
}

#[tokio::test]
async fn a_slack_callback_without_the_browsers_cookie_creates_no_integration() {
    let (slack, app) = start().await;
    let attacker = app.register("attacker@example.com", Some("Evil")).await;
    let victim = app.register("victim@example.com", Some("Victim")).await;
    let (attacker_state, attacker_cookie) = authorize(&app, &attacker, &attacker.first_org()).await;
    let set = app
        .caller(Some(&victim))
        .send(
            Method::GET,
            &format!("/api/v1/orgs/{}/slack/authorize", victim.first_org()),
            None,
        )
        .await
        .set_cookie("repopal_slack")
        .expect("test fixture");
    assert!(
        set.contains("HttpOnly")
            && set.contains("SameSite=Lax")
            && set.contains("Path=/api/v1/slack/callback"),
        "{set}"
    );
    let (_, victim_cookie) = authorize(&app, &victim, &victim.first_org()).await;

    // The victim approves the attacker's link in Slack; their browser returns with the code.
    slack.authorize_code("victim-code", false);
    for cookie in [None, Some(victim_cookie.as_str()), Some("repopal_slack=")] {
        let res = callback(&app, "victim-code", &attacker_state, cookie).await;
        assert_eq!(
            res.error_code(),
            (400, "invalid_oauth_state".into()),
            "cookie {cookie:?}"
        );
    }
    assert_eq!(slack_integrations(&app).await, 0, "no integration row");
    assert_eq!(
        slack.count("oauth.v2.access"),
        0,
        "the victim's code was never redeemed"
    );

    // In the browser that started it, the same state connects the workspace, once.
    let res = callback(&app, "victim-code", &attacker_state, Some(&attacker_cookie)).await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert!(
        res.set_cookie("repopal_slack")
            .is_some_and(|c| c.contains("Max-Age=0")),
        "the cookie is cleared"
    );
    slack.authorize_code("code-2", false);
    let replay = callback(&app, "code-2", &attacker_state, Some(&attacker_cookie)).await;
    assert_eq!(replay.error_code(), (400, "invalid_oauth_state".into()));
    assert_eq!(slack_integrations(&app).await, 1);
}

#[tokio::test]
async fn a_slack_callback_after_the_actor_was_demoted_or_removed_is_refused() {
    let (slack, app) = start().await;
    let owner = app.register("owner@example.com", Some("Org")).await;
    let org = owner.first_org();
    let second =
        crate::orgs::add_member(&app, &owner, &org, "second@example.com", "org_admin").await;
    let member_path = format!("/api/v1/orgs/{org}/members/{}", second.user_id);

    let as_owner = app.caller(Some(&owner));

    let (state, cookie) = authorize(&app, &second, &org).await;
    let _: Value = as_owner
        .call(
            Method::PATCH,
            &member_path,
            Some(serde_json::json!({"role": "team_lead"})),
            200,
        )
        .await;
    slack.authorize_code("code-1", false);
    let res = callback(&app, "code-1", &state, Some(&cookie)).await;
    assert_eq!(res.error_code(), (403, "forbidden".into()));
    assert_eq!(slack_integrations(&app).await, 0);

    let _: Value = as_owner
        .call(
            Method::PATCH,
            &member_path,
            Some(serde_json::json!({"role": "org_admin"})),
            200,
        )
        .await;
    let (state, cookie) = authorize(&app, &second, &org).await;
    let _: Value = as_owner.call(Method::DELETE, &member_path, None, 200).await;
    let res = callback(&app, "code-1", &state, Some(&cookie)).await;
    assert_eq!(res.error_code(), (403, "forbidden".into()));
    assert_eq!(slack_integrations(&app).await, 0);

    // The organisation is deleted while a link is out: refused cleanly, in any browser.
    let (state, cookie) = authorize(&app, &owner, &org).await;
    let _: Value = as_owner
        .call(Method::DELETE, &format!("/api/v1/orgs/{org}"), None, 200)
        .await;
    let res = callback(&app, "code-1", &state, None).await;
    assert_eq!(res.error_code(), (400, "invalid_oauth_state".into()));
    let res = callback(&app, "code-1", &state, Some(&cookie)).await;
    assert_eq!(res.error_code(), (403, "forbidden".into()));
    assert_eq!(slack_integrations(&app).await, 0);
    assert_eq!(slack.count("oauth.v2.access"), 0, "no code was redeemed");
}

#[tokio::test]
async fn slack_states_signed_with_the_access_token_key_or_the_install_key_are_refused() {
    let (slack, app) = start().await;
    let admin = app.register("admin@example.com", Some("Org")).await;
    let (state, cookie) = authorize(&app, &admin, &admin.first_org()).await;
    let (payload, _) = state.rsplit_once('.').expect("test fixture");
    let jwt_mac = common::crypto::signature::sign(TEST_JWT_KEY.as_bytes(), payload.as_bytes());
    let with_jwt_key = format!("{payload}.{}", jwt_mac.trim_start_matches("sha256="));
    let install_key = PurposeKey::derive(
        &SecretString::from(TEST_JWT_KEY),
        KeyPurpose::GithubInstallState,
    );
    let with_install_key = format!("{payload}.{}", install_key.mac_hex(payload.as_bytes()));
    slack.authorize_code("code", false);
    for forged in [&with_jwt_key, &with_install_key] {
        let res = callback(&app, "code", forged, Some(&cookie)).await;
        assert_eq!(res.error_code(), (400, "invalid_oauth_state".into()));
    }
    assert_eq!(slack_integrations(&app).await, 0);
    let res = callback(&app, "code", &state, Some(&cookie)).await;
    assert_eq!(res.status, 201, "{}", res.text());
}
