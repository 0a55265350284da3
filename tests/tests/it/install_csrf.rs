//! Attacks on linking a GitHub App installation (issue 11, items 2 and 4), each performed against
//! the real router and a fake GitHub over HTTP: an attacker's install link completed in a victim's
//! browser, a GitHub user who can only read the installation, another user's personal
//! installation, links of admins since removed or demoted, replayed states, and states signed with
//! the access-token key or another flow's key. Every refusal leaves no installation linked.

use axum::http::Method;
use common::crypto::purpose_keys::{KeyPurpose, PurposeKey};
use repopal_tests::{
    TestApp,
    app::decode,
    auth::Session,
    fake_github::{ACME_LOGIN, FakeAccount, FakeGithub},
    http::TEST_JWT_KEY,
    shapes::Link,
};
use secrecy::SecretString;
use serde_json::Value;

use crate::github_app::install_state;

const INSTALLATION: i64 = 31415;

fn gh_user(id: i64, login: &str) -> FakeAccount {
    FakeAccount {
        id,
        login: login.into(),
        name: login.into(),
        email: format!("{login}@example.com"),
        email_verified: true,
    }
}

/// The victim: a GitHub user who administers the organisation `acme`, where the App is installed.
fn victim() -> FakeAccount {
    gh_user(777, "victim")
}

async fn start() -> (FakeGithub, TestApp) {
    let fake = FakeGithub::start().await;
    fake.set_repositories(2);
    fake.admin_installation(&victim(), INSTALLATION);
    let env = fake.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    (fake, TestApp::builder().envs(&env).build().await)
}

fn setup_url(state: &str, code: &str) -> String {
    format!(
        "/api/v1/github/setup?installation_id={INSTALLATION}&setup_action=install&state={state}&code={code}"
    )
}

/// Installations linked to any organisation.
async fn linked(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM github_installations WHERE org_id IS NOT NULL")
        .fetch_one(&app.db.pool)
        .await
        .expect("test fixture")
}

async fn sync_jobs(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM apalis.jobs WHERE job_type = 'sync_repositories'")
        .fetch_one(&app.db.pool)
        .await
        .expect("test fixture")
}

#[tokio::test]
async fn an_attackers_install_link_completed_in_the_victims_browser_links_nothing() {
    let (fake, app) = start().await;
    let attacker = app.register("attacker@example.com", Some("Evil")).await;
    let victim_user = app.register("victim@example.com", Some("Victim")).await;
    // The attacker makes an install link for their own organisation and sends only the URL.
    let (attacker_state, attacker_cookie) =
        install_state(&app, &attacker, &attacker.first_org()).await;
    // The victim's browser has its own install cookie (from a link of their own), or none.
    let (_, victim_cookie) = install_state(&app, &victim_user, &victim_user.first_org()).await;
    for cookie in [None, Some(victim_cookie.as_str()), Some("repopal_install=")] {
        fake.authorize("victim-code", victim());
        let res = app
            .browser_get(&setup_url(&attacker_state, "victim-code"), cookie)
            .await;
        assert_eq!(
            res.error_code(),
            (400, "invalid_install_state".into()),
            "cookie {cookie:?}"
        );
    }
    assert_eq!(linked(&app).await, 0, "nothing linked");
    assert_eq!(sync_jobs(&app).await, 0);
    assert_eq!(
        fake.count("POST /login/oauth/access_token"),
        0,
        "the victim's code was never redeemed"
    );
    // The refusals are audited in the attacker's organisation.
    let refusals: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_logs WHERE action = 'github.installation_link' AND status = 'failure'
           AND metadata->>'reason' = 'other_browser'",
    )
    .fetch_one(&app.db.pool)
    .await
    .expect("test fixture");
    assert_eq!(refusals, 3);

    // The attacker's own cookie is what the state needs: the state itself was never the problem.
    let res = app
        .browser_get(
            &setup_url(&attacker_state, "victim-code"),
            Some(&attacker_cookie),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
}

#[tokio::test]
async fn a_replayed_install_state_is_refused() {
    let (fake, app) = start().await;
    let admin = app.register("admin@example.com", Some("Org")).await;
    let (state, cookie) = install_state(&app, &admin, &admin.first_org()).await;
    fake.authorize("c1", victim());
    let ok = app
        .browser_get(&setup_url(&state, "c1"), Some(&cookie))
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    fake.authorize("c2", victim());
    let again = app
        .browser_get(&setup_url(&state, "c2"), Some(&cookie))
        .await;
    assert_eq!(again.error_code(), (400, "invalid_install_state".into()));
    assert_eq!(sync_jobs(&app).await, 1, "one link, one sync");
    assert_eq!(fake.count("POST /login/oauth/access_token"), 1);
}

#[tokio::test]
async fn a_github_user_who_only_reads_the_installation_cannot_link_it() {
    let (fake, app) = start().await;
    let admin = app.register("admin@example.com", Some("Org")).await;
    let org = admin.first_org();
    // Plain members, pending admins and outsiders of `acme` all see the installation in
    // `GET /user/installations` (read access), but none of them administers `acme`.
    let cases = [
        (gh_user(501, "reader"), Some(("member", "active"))),
        (gh_user(502, "invited-admin"), Some(("admin", "pending"))),
        (gh_user(503, "billing"), Some(("billing_manager", "active"))),
        (gh_user(504, "outsider"), None),
    ];
    for (account, membership) in &cases {
        fake.grant_installation(account.id, INSTALLATION);
        if let Some((role, state)) = membership {
            fake.set_org_membership(ACME_LOGIN, account.id, role, state);
        }
        let code = format!("code-{}", account.id);
        fake.authorize(&code, account.clone());
        let (state, cookie) = install_state(&app, &admin, &org).await;
        let res = app
            .browser_get(&setup_url(&state, &code), Some(&cookie))
            .await;
        assert_eq!(
            res.error_code(),
            (403, "installation_not_yours".into()),
            "{}",
            account.login
        );
        assert_eq!(linked(&app).await, 0, "{}", account.login);
    }
    assert_eq!(
        fake.count(&format!("GET /user/memberships/orgs/{ACME_LOGIN}")),
        4,
        "each was asked about"
    );
    assert_eq!(sync_jobs(&app).await, 0);

    // The organisation's active admin links it.
    fake.authorize("admin-code", victim());
    let (state, cookie) = install_state(&app, &admin, &org).await;
    let res = app
        .browser_get(&setup_url(&state, "admin-code"), Some(&cookie))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(linked(&app).await, 1);
}

#[tokio::test]
async fn a_personal_installation_is_linked_only_by_its_owner() {
    let (fake, app) = start().await;
    const PERSONAL: i64 = 27_000;
    let owner = gh_user(900, "owner");
    let collaborator = gh_user(901, "collaborator");
    fake.install_on_user(PERSONAL, &owner);
    // A collaborator on one of the owner's repositories can read the installation.
    fake.grant_installation(collaborator.id, PERSONAL);
    fake.grant_installation(owner.id, PERSONAL);
    let admin = app.register("admin@example.com", Some("Org")).await;
    let org = admin.first_org();
    let url = |state: &str, code: &str| {
        format!(
            "/api/v1/github/setup?installation_id={PERSONAL}&setup_action=install&state={state}&code={code}"
        )
    };

    fake.authorize("collab-code", collaborator);
    let (state, cookie) = install_state(&app, &admin, &org).await;
    let res = app
        .browser_get(&url(&state, "collab-code"), Some(&cookie))
        .await;
    assert_eq!(res.error_code(), (403, "installation_not_yours".into()));
    assert_eq!(linked(&app).await, 0);

    fake.authorize("owner-code", owner);
    let (state, cookie) = install_state(&app, &admin, &org).await;
    let res = app
        .browser_get(&url(&state, "owner-code"), Some(&cookie))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(linked(&app).await, 1);
}

#[tokio::test]
async fn an_install_link_dies_when_its_maker_is_demoted_or_removed() {
    let (fake, app) = start().await;
    let owner = app.register("owner@example.com", Some("Org")).await;
    let org = owner.first_org();
    let second =
        crate::orgs::add_member(&app, &owner, &org, "second@example.com", "org_admin").await;
    let set_role = |role: &'static str| {
        let (app, owner, org, second) = (&app, &owner, &org, &second);
        async move {
            let _: Value = app
                .caller(Some(owner))
                .in_org(org)
                .call(
                    Method::PATCH,
                    &format!("members/{}", second.user_id),
                    Some(serde_json::json!({"role": role})),
                    200,
                )
                .await;
        }
    };

    // Made while an admin, completed after a demotion to developer.
    let (state, cookie) = install_state(&app, &second, &org).await;
    set_role("developer").await;
    fake.authorize("code-1", victim());
    let res = app
        .browser_get(&setup_url(&state, "code-1"), Some(&cookie))
        .await;
    assert_eq!(res.error_code(), (403, "forbidden".into()));
    assert_eq!(linked(&app).await, 0);

    // Made while an admin, completed after being removed from the organisation.
    set_role("org_admin").await;
    let (state, cookie) = install_state(&app, &second, &org).await;
    let _: Value = app
        .caller(Some(&owner))
        .in_org(&org)
        .call(
            Method::DELETE,
            &format!("members/{}", second.user_id),
            None,
            200,
        )
        .await;
    fake.authorize("code-2", victim());
    let res = app
        .browser_get(&setup_url(&state, "code-2"), Some(&cookie))
        .await;
    assert_eq!(res.error_code(), (403, "forbidden".into()));
    assert_eq!(linked(&app).await, 0);
    assert_eq!(sync_jobs(&app).await, 0);
    assert_eq!(
        fake.count("POST /login/oauth/access_token"),
        0,
        "refused before the code was redeemed"
    );
}

#[tokio::test]
async fn states_signed_with_the_access_token_key_or_another_flows_key_are_refused() {
    let (fake, app) = start().await;
    let admin = app.register("admin@example.com", Some("Org")).await;
    let (state, cookie) = install_state(&app, &admin, &admin.first_org()).await;
    let (payload, _) = state.rsplit_once('.').expect("test fixture");
    // The same claims, signed with the raw JWT key (what states were signed with before) ...
    let jwt_mac = common::crypto::signature::sign(TEST_JWT_KEY.as_bytes(), payload.as_bytes());
    let with_jwt_key = format!("{payload}.{}", jwt_mac.trim_start_matches("sha256="));
    // ... and with the key derived for "Add to Slack".
    let slack_key = PurposeKey::derive(
        &SecretString::from(TEST_JWT_KEY),
        KeyPurpose::SlackConnectState,
    );
    let with_slack_key = format!("{payload}.{}", slack_key.mac_hex(payload.as_bytes()));
    for forged in [&with_jwt_key, &with_slack_key] {
        assert_ne!(forged, &state);
        fake.authorize("code", victim());
        let res = app
            .browser_get(&setup_url(forged, "code"), Some(&cookie))
            .await;
        assert_eq!(res.error_code(), (400, "invalid_install_state".into()));
    }
    assert_eq!(linked(&app).await, 0);
    // An access token (signed with the JWT key) is no state either.
    let res = app
        .browser_get(&setup_url(&admin.access_token, "code"), Some(&cookie))
        .await;
    assert_eq!(res.error_code(), (400, "invalid_install_state".into()));

    // The genuine state, signed with the install key, works in the same browser.
    let res = app
        .browser_get(&setup_url(&state, "code"), Some(&cookie))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
}

#[tokio::test]
async fn the_install_cookie_is_httponly_lax_scoped_to_the_setup_url_and_secure_on_https() {
    let (fake, app) = start().await;
    let admin = app.register("admin@example.com", Some("Org")).await;
    // The cookie is the point: the raw answer.
    let res = app
        .caller(Some(&admin))
        .send(
            Method::GET,
            &format!("/api/v1/orgs/{}/github/install", admin.first_org()),
            None,
        )
        .await;
    let cookie = res.set_cookie("repopal_install").expect("test fixture");
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax")
            && cookie.contains("Path=/api/v1/github/setup")
            && !cookie.contains("Secure"),
        "{cookie}"
    );

    let mut env = fake.env();
    env.push(("PUBLIC_URL", "https://repopal.example".to_owned()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let https = TestApp::builder().envs(&env).build().await;
    let admin: Session = https.register("admin@example.com", Some("Org")).await;
    // The cookie is the point: the raw answer.
    let res = https
        .caller(Some(&admin))
        .send(
            Method::GET,
            &format!("/api/v1/orgs/{}/github/install", admin.first_org()),
            None,
        )
        .await;
    let cookie = res
        .set_cookie("__Host-repopal_install")
        .expect("a __Host- cookie on https");
    assert!(
        cookie.contains("; Secure") && cookie.contains("Path=/;") && !cookie.contains("Domain"),
        "on https a __Host- cookie (Secure, Path=/, no Domain), so no other host can toss one: {cookie}"
    );
}

/// Cookie tossing (found by a review): a host under a shared parent domain plants its own nonce
/// beside the victim's genuine cookie. A callback carrying the flow cookie twice is refused,
/// before the provider's code is redeemed.
#[tokio::test]
async fn a_tossed_second_cookie_makes_the_callback_fail() {
    let (fake, app) = start().await;
    let admin = app.register("admin@example.com", Some("Org")).await;
    // The cookie is the point: the raw answer.
    let res = app
        .caller(Some(&admin))
        .send(
            Method::GET,
            &format!("/api/v1/orgs/{}/github/install", admin.first_org()),
            None,
        )
        .await;
    let genuine = res.cookie("repopal_install").expect("cookie");
    let link: Link = decode(&res);
    let state = url::Url::parse(&link.url)
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == "state")
        .expect("state")
        .1
        .into_owned();
    let both = format!("repopal_install=tossed-by-attacker; {genuine}");
    let res = app
        .browser_get(&setup_url(&state, "setup-code"), Some(&both))
        .await;
    assert_eq!(res.error_code(), (400, "invalid_install_state".into()));
    assert_eq!(linked(&app).await, 0);
    assert_eq!(fake.count("POST /login/oauth/access_token"), 0);
}

#[tokio::test]
async fn a_link_of_a_deleted_organisation_is_refused_cleanly_in_any_browser() {
    let (fake, app) = start().await;
    let admin = app.register("admin@example.com", Some("Org")).await;
    let org = admin.first_org();
    let (state, cookie) = install_state(&app, &admin, &org).await;
    let _: Value = app
        .caller(Some(&admin))
        .call(Method::DELETE, &format!("/api/v1/orgs/{org}"), None, 200)
        .await;
    fake.authorize("code", victim());
    let res = app.browser_get(&setup_url(&state, "code"), None).await;
    assert_eq!(res.error_code(), (400, "invalid_install_state".into()));
    let res = app
        .browser_get(&setup_url(&state, "code"), Some(&cookie))
        .await;
    assert_eq!(res.error_code(), (403, "forbidden".into()));
    assert_eq!(linked(&app).await, 0);
}
