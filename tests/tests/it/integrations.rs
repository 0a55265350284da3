//! Integrations through the API: the catalogue, schema validation, CRUD with filters, enable and
//! disable, the log, every type's connection test against the fakes, credentials replaced only
//! after a passing test, and Slack OAuth v2 with token rotation refreshed by the token job.

use axum::http::Method;
use repopal_tests::TestApp;
use repopal_tests::{
    Setup,
    app::{ErrorEnvelope, decode},
    fake_faults::Fault,
    fake_github::FakeAccount,
    monitored::INSTALLATION,
    resources::{ConnectionTest, Integration, LogEntry},
    shapes::{Page, field_errors},
};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

/// What replacing credentials answers: the integration and the test the new ones passed.
#[derive(Debug, Deserialize)]
struct Replaced {
    integration: Integration,
    test: ConnectionTest,
}

/// The actions of a page of an integration's log.
fn actions(page: &Page<LogEntry>) -> Vec<&str> {
    page.items.iter().map(|e| e.action.as_str()).collect()
}

fn account() -> FakeAccount {
    FakeAccount {
        id: 777,
        login: "octo-bot".into(),
        name: "Octo Bot".into(),
        email: "octo-bot@example.com".into(),
        email_verified: true,
    }
}

#[tokio::test]
async fn the_catalogue_lists_every_type_with_its_schemas() {
    let h = TestApp::builder().health().await;
    let admin = h.app.caller(Some(&h.admin));
    let types: Page = admin
        .call(Method::GET, "/api/v1/integration-types", None, 200)
        .await;
    let items = &types.items;
    let kinds: Vec<&str> = items.iter().map(|t| t["type"].as_str().unwrap()).collect();
    // By type name.
    assert_eq!(kinds, ["argocd", "github", "github_app", "http", "slack"]);
    assert!(types.next_cursor.is_none());
    for t in items {
        assert_eq!(t["config_schema"]["type"], "object", "{t}");
        assert_eq!(t["credentials_schema"]["type"], "object", "{t}");
        assert!(t["connection_test"].as_str().is_some());
    }
    let argocd: Value = admin
        .call(Method::GET, "/api/v1/integration-types/argocd", None, 200)
        .await;
    assert_eq!(argocd["config_schema"]["required"], json!(["server_url"]));
    assert_eq!(argocd["credentials_schema"]["required"], json!(["token"]));
    let slack: Value = admin
        .call(Method::GET, "/api/v1/integration-types/slack", None, 200)
        .await;
    assert_eq!(slack["oauth"], true);
    let _: ErrorEnvelope = admin
        .call(Method::GET, "/api/v1/integration-types/jira", None, 404)
        .await;
    let _: ErrorEnvelope = h
        .app
        .caller(None)
        .call(Method::GET, "/api/v1/integration-types", None, 401)
        .await;
}

#[tokio::test]
async fn schema_validation_lists_every_failing_field_without_echoing_secrets() {
    let h = TestApp::builder().health().await;
    let secret = "not-an-argo-token-SECRET-VALUE";
    let cases = [
        (
            json!({"type": "argocd", "name": "Argo", "config": {"server_url": "ftp://argo", "extra": 1}, "credentials": {"token": 12}}),
            vec!["config.server_url", "config.extra", "credentials.token"],
        ),
        (
            json!({"type": "argocd", "name": "", "config": {}, "credentials": {}}),
            vec!["name", "config.server_url", "credentials.token"],
        ),
        (
            json!({"type": "slack", "name": "S", "credentials": {"bot_token": secret}}),
            vec!["credentials.bot_token"],
        ),
        (
            json!({"type": "github_app", "name": "G", "config": {"installation_id": 999}}),
            vec!["config.installation_id"],
        ),
        (
            json!({"type": "github_app", "name": "G", "config": {"installation_id": INSTALLATION}}),
            vec!["config.installation_id"],
        ),
        (
            json!({"type": "http", "name": "H", "config": {"url": "https://ok.example.com/health", "method": "POST", "expected_status": 42}}),
            vec!["config.method", "config.expected_status"],
        ),
        (
            json!({"type": "jira", "name": "J", "credentials": {"token": secret}}),
            vec!["type"],
        ),
        (
            json!({"type": "github", "name": "T", "credentials": secret}),
            vec!["credentials"],
        ),
    ];
    for (body, fields) in cases {
        let res: Value = h
            .as_admin()
            .call(Method::POST, "integrations", Some(body.clone()), 422)
            .await;
        assert_eq!(res["error"]["code"], "validation_failed", "{body}: {res}");
        let got = field_errors(&res);
        for f in &fields {
            assert!(got.contains_key(*f), "{body}: expected {f} in {got:?}");
        }
        assert_eq!(got.len(), fields.len(), "{body}: {got:?}");
        assert!(
            !res.to_string().contains(secret),
            "a secret was echoed: {res}"
        );
    }
    // PATCH validates the config against the type's schema too.
    let id = h.create_argocd("Argo").await;
    let res: Value = h
        .as_admin()
        .call(
            Method::PATCH,
            &format!("integrations/{id}"),
            Some(json!({"config": {"server_url": 5}})),
            422,
        )
        .await;
    assert_eq!(field_errors(&res)["config.server_url"], "must be a string");
    let res: Value = h
        .as_admin()
        .call(
            Method::PATCH,
            &format!("integrations/{id}/credentials"),
            Some(json!({"credentials": {"token": ""}})),
            422,
        )
        .await;
    assert_eq!(
        field_errors(&res)["credentials.token"],
        "must be at least 8 characters"
    );
}

#[tokio::test]
async fn integrations_are_listed_filtered_changed_switched_logged_and_deleted() {
    let h = TestApp::builder().health().await;
    let argo = h.create_argocd("Argo").await;
    let probe = h
        .create(
            "http",
            "Probe",
            json!({"url": format!("{}/healthz", h.argo.url)}),
            json!({"bearer_token": "probe-bearer-token-value"}),
        )
        .await;
    let h = &h;
    let list = |q: &'static str| async move {
        let page: Page<Integration> = h
            .as_admin()
            .call(Method::GET, &format!("integrations{q}"), None, 200)
            .await;
        page.items.into_iter().map(|i| i.name).collect::<Vec<_>>()
    };
    assert_eq!(
        list("").await,
        ["Argo", "GitHub App installation 27182", "Probe", "Slack"]
    );
    assert_eq!(list("?type=argocd").await, ["Argo"]);
    assert_eq!(list("?status=active&type=http").await, ["Probe"]);
    assert!(list("?status=error").await.is_empty());
    let bad: ErrorEnvelope = h
        .as_admin()
        .call(Method::GET, "integrations?status=broken", None, 400)
        .await;
    assert_eq!(bad.error.code, "invalid_query");

    let one: Integration = h
        .as_admin()
        .call(Method::GET, &format!("integrations/{probe}"), None, 200)
        .await;
    assert_eq!(one.credentials, json!({"bearer_token": "…alue"}));
    assert!(one.next_check_at.is_some(), "checked at once");

    let renamed: Integration = h
        .as_admin()
        .call(
            Method::PATCH,
            &format!("integrations/{argo}"),
            Some(
                json!({"name": "Argo prod", "config": {"server_url": format!("{}/", h.argo.url)}}),
            ),
            200,
        )
        .await;
    assert_eq!(renamed.name, "Argo prod");
    let taken: ErrorEnvelope = h
        .as_admin()
        .call(
            Method::PATCH,
            &format!("integrations/{argo}"),
            Some(json!({"name": "Probe"})),
            409,
        )
        .await;
    assert_eq!(taken.error.code, "integration_name_taken");

    // Credentials go nowhere new without being given again: another origin for the probe is 422,
    // and accepted together with its credentials (tested against the new address).
    let moved: Value = h
        .as_admin()
        .call(
            Method::PATCH,
            &format!("integrations/{probe}"),
            Some(json!({"config": {"url": "https://elsewhere.example.com/healthz"}})),
            422,
        )
        .await;
    assert!(field_errors(&moved).contains_key("config.url"));
    let res: Replaced = h
        .as_admin()
        .call(
            Method::PATCH,
            &format!("integrations/{probe}/credentials"),
            Some(
                json!({"config": {"url": format!("{}/healthz?via=patch", h.argo.url)},
                        "credentials": {"bearer_token": "probe-bearer-token-value"}}),
            ),
            200,
        )
        .await;
    assert_eq!(
        res.integration.config["url"],
        format!("{}/healthz?via=patch", h.argo.url)
    );

    let off: Integration = h
        .as_admin()
        .call(
            Method::POST,
            &format!("integrations/{argo}/disable"),
            Some(json!({})),
            200,
        )
        .await;
    assert_eq!((off.enabled, off.next_check_at), (false, None));
    let on: Integration = h
        .as_admin()
        .call(
            Method::POST,
            &format!("integrations/{argo}/enable"),
            Some(json!({})),
            200,
        )
        .await;
    assert!(on.enabled);
    assert!(on.next_check_at.is_some());

    let _: ConnectionTest = h
        .as_admin()
        .call(
            Method::POST,
            &format!("integrations/{argo}/test"),
            Some(json!({})),
            200,
        )
        .await;

    let logs: Page<LogEntry> = h
        .as_admin()
        .call(
            Method::GET,
            &format!("integrations/{argo}/logs?limit=3"),
            None,
            200,
        )
        .await;
    assert_eq!(
        actions(&logs),
        [
            "integration.test",
            "integration.credentials_decrypt",
            "integration.enable"
        ]
    );
    let cursor = logs.next_cursor.as_deref().unwrap();
    let older: Page<LogEntry> = h
        .as_admin()
        .call(
            Method::GET,
            &format!("integrations/{argo}/logs?cursor={cursor}"),
            None,
            200,
        )
        .await;
    assert_eq!(
        actions(&older),
        [
            "integration.disable",
            "integration.update",
            "integration.create"
        ]
    );

    let deleted: Value = h
        .as_admin()
        .call(Method::DELETE, &format!("integrations/{argo}"), None, 200)
        .await;
    assert_eq!(deleted["ok"], true);
    let _: ErrorEnvelope = h
        .as_admin()
        .call(Method::GET, &format!("integrations/{argo}"), None, 404)
        .await;
    let _: ErrorEnvelope = h
        .as_admin()
        .call(
            Method::GET,
            &format!("integrations/{argo}/health"),
            None,
            404,
        )
        .await;
}

async fn test_of(h: &Setup, id: Uuid) -> ConnectionTest {
    h.as_admin()
        .call(
            Method::POST,
            &format!("integrations/{id}/test"),
            Some(json!({})),
            200,
        )
        .await
}

#[tokio::test]
async fn every_tester_reports_status_latency_and_details() {
    let h = TestApp::builder().health().await;
    h.github.add_token("ghp_goodtoken1234567890", account());

    let github = h
        .create(
            "github",
            "GitHub token",
            json!({}),
            json!({"token": "ghp_goodtoken1234567890"}),
        )
        .await;
    let t = test_of(&h, github).await;
    assert_eq!((t.ok, t.status.as_str()), (true, "ok"), "{t:?}");
    assert_eq!(t.details["login"], "octo-bot");
    assert!(t.latency_ms >= 0);
    h.github.revoke_token_value("ghp_goodtoken1234567890");
    let t = test_of(&h, github).await;
    assert_eq!((t.ok, t.status.as_str()), (false, "failed"));
    assert!(t.error.as_deref().unwrap().contains("refused"), "{t:?}");
    assert_eq!(t.attempts, 1, "a refused credential is not retried");

    let app = h.installation_integration().await;
    let t = test_of(&h, app).await;
    assert!(t.ok, "{t:?}");
    assert_eq!(t.details["repositories"], 1);
    assert_eq!(t.details["hooks_checked"], 1);

    let slack: Uuid = {
        let list: Page<Integration> = h
            .as_admin()
            .call(Method::GET, "integrations?type=slack", None, 200)
            .await;
        list.items[0].id
    };
    let t = test_of(&h, slack).await;
    assert!(t.ok, "{t:?}");
    assert!(t.details["team"].is_string(), "{t:?}");
    h.slack.fault_next(&[Fault::ServerError]);
    let t = test_of(&h, slack).await;
    assert_eq!((t.ok, t.attempts), (true, 2), "a 500 is retried: {t:?}");

    let argo = h.create_argocd("Argo").await;
    let t = test_of(&h, argo).await;
    assert_eq!((t.ok, t.details["applications"].clone()), (true, json!(1)));
    let wrong = h
        .create(
            "argocd",
            "Argo wrong",
            json!({"server_url": h.argo.url}),
            json!({"token": "wrong-token-value"}),
        )
        .await;
    let t = test_of(&h, wrong).await;
    assert!(!t.ok);
    assert!(t.error.as_deref().unwrap().contains("401"), "{t:?}");

    let probe = h
        .create(
            "http",
            "Probe",
            json!({"url": format!("{}/healthz", h.argo.url)}),
            json!({"bearer_token": "probe-bearer-token-value"}),
        )
        .await;
    let t = test_of(&h, probe).await;
    assert_eq!((t.ok, t.details["status"].clone()), (true, json!(200)));
    assert_eq!(
        h.argo.last_authorization().as_deref(),
        Some("Bearer probe-bearer-token-value")
    );
    let picky = h
        .create(
            "http",
            "Picky",
            json!({"url": format!("{}/healthz", h.argo.url), "expected_status": 204}),
            json!({}),
        )
        .await;
    let t = test_of(&h, picky).await;
    assert!(!t.ok);
    assert_eq!(
        t.error.as_deref(),
        Some("the endpoint answered 200 OK, expected 204")
    );
    // A probe without a token of its own: a 401 is a wrong answer, not a refused credential.
    let guarded = h
        .create(
            "http",
            "Guarded",
            json!({"url": format!("{}/api/v1/applications", h.argo.url)}),
            json!({}),
        )
        .await;
    let t = test_of(&h, guarded).await;
    assert_eq!(
        t.error.as_deref(),
        Some("the endpoint answered 401 Unauthorized, expected 2xx")
    );
    let nowhere = h
        .create(
            "http",
            "Nowhere",
            json!({"url": "http://127.0.0.1:9/health"}),
            json!({}),
        )
        .await;
    let t = test_of(&h, nowhere).await;
    assert_eq!(
        (t.ok, t.attempts),
        (false, 3),
        "unreachable, retried: {t:?}"
    );

    // Manual tests are in the history but do not move the health state.
    let history: Page = h
        .as_admin()
        .call(
            Method::GET,
            &format!("integrations/{wrong}/health/history"),
            None,
            200,
        )
        .await;
    let manual: Vec<&Value> = history
        .items
        .iter()
        .filter(|c| c["source"] == "manual")
        .collect();
    assert_eq!(manual.len(), 1);
    assert_eq!(manual[0]["status_before"], manual[0]["status_after"]);
}

#[tokio::test]
async fn replacing_credentials_keeps_the_old_ones_when_the_new_ones_fail_their_test() {
    let h = TestApp::builder().health().await;
    h.github.add_token("ghp_oldtoken1234567890aaaa", account());
    let id = h
        .create(
            "github",
            "GitHub token",
            json!({}),
            json!({"token": "ghp_oldtoken1234567890aaaa"}),
        )
        .await;
    let path = format!("integrations/{id}/credentials");

    let new_token = || Some(json!({"credentials": {"token": "ghp_newtoken1234567890bbbb"}}));
    let res: Value = h
        .as_admin()
        .call(Method::PATCH, &path, new_token(), 400)
        .await;
    assert_eq!(res["error"]["code"], "credentials_test_failed");
    assert!(!res.to_string().contains("ghp_newtoken"), "{res}");
    let one: Integration = h
        .as_admin()
        .call(Method::GET, &format!("integrations/{id}"), None, 200)
        .await;
    assert_eq!(
        one.credentials["token"], "…aaaa",
        "the old credentials stay"
    );
    assert!(test_of(&h, id).await.ok, "and still work");

    h.github.add_token("ghp_newtoken1234567890bbbb", account());
    let res: Replaced = h
        .as_admin()
        .call(Method::PATCH, &path, new_token(), 200)
        .await;
    assert_eq!(res.integration.credentials["token"], "…bbbb");
    assert!(res.test.ok);
    h.github.revoke_token_value("ghp_oldtoken1234567890aaaa");
    assert!(test_of(&h, id).await.ok, "the new token is in use");

    // A refused or disabled integration becomes active again with new credentials.
    sqlx::query("UPDATE integrations SET status = 'disabled', next_check_at = NULL WHERE id = $1")
        .bind(id)
        .execute(&h.app.db.pool)
        .await
        .unwrap();
    let res: Replaced = h
        .as_admin()
        .call(Method::PATCH, &path, new_token(), 200)
        .await;
    assert_eq!(res.integration.status, "active");
    sqlx::query(
        "UPDATE integrations SET status = 'reauth_required', next_check_at = NULL WHERE id = $1",
    )
    .bind(id)
    .execute(&h.app.db.pool)
    .await
    .unwrap();
    let res: Replaced = h
        .as_admin()
        .call(Method::PATCH, &path, new_token(), 200)
        .await;
    assert_eq!(res.integration.status, "active");
    assert!(res.integration.next_check_at.is_some());

    let logs: Page<LogEntry> = h
        .as_admin()
        .call(Method::GET, &format!("integrations/{id}/logs"), None, 200)
        .await;
    let updates: Vec<(String, String)> = logs
        .items
        .iter()
        .filter(|e| e.action == "integration.credentials_update")
        .map(|e| {
            (
                e.status.clone(),
                e.metadata["fields"][0].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    assert_eq!(
        updates,
        [
            ("success", "token"),
            ("success", "token"),
            ("success", "token"),
            ("failure", "token")
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
}

#[tokio::test]
async fn slack_oauth_connects_a_workspace_and_the_token_job_rotates_its_token() {
    let h = TestApp::builder().health().await;
    let q = h.slack_authorize().await;
    assert_eq!(q["host"], "slack.test");
    assert_eq!(q["client_id"], "T-CLIENT.1");
    assert_eq!(
        q["redirect_uri"],
        "http://repopal.test/api/v1/slack/callback"
    );
    let state = q["state"].clone();
    let cookie = q["cookie"].clone();

    h.slack.authorize_code("code-1", true);
    let res = h.slack_callback("code-1", &state, Some(&cookie)).await;
    assert_eq!(res.status.as_u16(), 201, "{}", res.text());
    let created: Integration = decode(&res);
    assert_eq!(
        h.slack.last_redirect_uri().as_deref(),
        Some("http://repopal.test/api/v1/slack/callback")
    );
    assert_eq!(created.kind, "slack");
    assert_eq!(created.config["team_id"], "T9TK3CUKW");
    let fields: Vec<&String> = created.credentials.as_object().unwrap().keys().collect();
    assert_eq!(fields, ["bot_token", "refresh_token"]);
    assert!(
        created.token_expires_at.is_some(),
        "rotation: the token expires"
    );
    let id = created.id;

    // The state works once; a cancelled authorization is a clear error.
    h.slack.authorize_code("code-2", true);
    let again = h.slack_callback("code-2", &state, Some(&cookie)).await;
    assert_eq!(
        (again.status.as_u16(), again.json()["error"]["code"].clone()),
        (400, json!("invalid_oauth_state"))
    );
    let anonymous = h.app.caller(None);
    let denied: ErrorEnvelope = anonymous
        .call(
            Method::GET,
            "/api/v1/slack/callback?error=access_denied&state=x",
            None,
            400,
        )
        .await;
    assert_eq!(denied.error.code, "oauth_denied");
    let _: ErrorEnvelope = anonymous
        .call(
            Method::GET,
            "/api/v1/slack/callback?code=code-2&state=forged.state",
            None,
            400,
        )
        .await;

    // Connecting the same workspace again updates that integration, keeping its settings.
    let _: Integration = h
        .as_admin()
        .call(
            Method::PATCH,
            &format!("integrations/{id}"),
            Some(json!({"config": {"team_id": "T9TK3CUKW", "alert_channel": "#ops"}})),
            200,
        )
        .await;
    let q = h.slack_authorize().await;
    let res = h
        .slack_callback("code-2", &q["state"], Some(&q["cookie"]))
        .await;
    assert_eq!(res.status.as_u16(), 200, "{}", res.text());
    let updated: Integration = decode(&res);
    assert_eq!(updated.id, id);
    assert_eq!(updated.config["alert_channel"], "#ops");
    assert_eq!(updated.config["team_name"], "Slack Softball Team");

    // The token job refreshes a token about to expire (like GitHub's), with the refresh token.
    let pool = &h.app.db.pool;
    sqlx::query(
        "UPDATE integrations SET token_expires_at = now() + interval '5 minutes' WHERE id = $1",
    )
    .bind(id)
    .execute(pool)
    .await
    .unwrap();
    let worker = h.start_worker();
    h.run_token_refresh().await;
    worker.stop().await;
    assert_eq!(h.slack.refresh_tokens_used(), 1);
    let one: Integration = h
        .as_admin()
        .call(Method::GET, &format!("integrations/{id}"), None, 200)
        .await;
    let expires = one.token_expires_at.unwrap();
    assert!(
        expires > chrono::Utc::now() + chrono::Duration::hours(11),
        "a new 12-hour token"
    );
    let t = test_of(&h, id).await;
    assert!(t.ok, "the new token works: {t:?}");
    let newest = h.slack.issued_tokens().last().cloned().unwrap();
    assert!(newest.starts_with("xoxe.xoxb-"));
    let logs: Page<LogEntry> = h
        .as_admin()
        .call(Method::GET, &format!("integrations/{id}/logs"), None, 200)
        .await;
    assert!(actions(&logs).contains(&"integration.token_refresh"));
}
