//! Integrations through the API: the catalogue, schema validation, CRUD with filters, enable and
//! disable, the log, every type's connection test against the fakes, credentials replaced only
//! after a passing test, and Slack OAuth v2 with token rotation refreshed by the token job.

use axum::http::Method;
use repopal_tests::TestApp;
use repopal_tests::{Setup, fake_faults::Fault, fake_github::FakeAccount, monitored::INSTALLATION};
use serde_json::{Value, json};
use uuid::Uuid;

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
    let token = h.admin.access_token.clone();
    let res = h
        .app
        .call(Method::GET, "/api/v1/integration-types", Some(&token), None)
        .await;
    assert_eq!(res.status.as_u16(), 200);
    let items = res.json()["data"]["items"].as_array().unwrap().clone();
    let kinds: Vec<&str> = items.iter().map(|t| t["type"].as_str().unwrap()).collect();
    // By type name.
    assert_eq!(kinds, ["argocd", "github", "github_app", "http", "slack"]);
    assert!(res.json()["data"]["next_cursor"].is_null());
    for t in &items {
        assert_eq!(t["config_schema"]["type"], "object", "{t}");
        assert_eq!(t["credentials_schema"]["type"], "object", "{t}");
        assert!(t["connection_test"].as_str().is_some());
    }
    let argocd = h
        .app
        .call(
            Method::GET,
            "/api/v1/integration-types/argocd",
            Some(&token),
            None,
        )
        .await
        .json();
    assert_eq!(
        argocd["data"]["config_schema"]["required"],
        json!(["server_url"])
    );
    assert_eq!(
        argocd["data"]["credentials_schema"]["required"],
        json!(["token"])
    );
    let slack = h
        .app
        .call(
            Method::GET,
            "/api/v1/integration-types/slack",
            Some(&token),
            None,
        )
        .await
        .json();
    assert_eq!(slack["data"]["oauth"], true);
    let missing = h
        .app
        .call(
            Method::GET,
            "/api/v1/integration-types/jira",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(missing.status.as_u16(), 404);
    let anonymous = h
        .app
        .call(Method::GET, "/api/v1/integration-types", None, None)
        .await;
    assert_eq!(anonymous.status.as_u16(), 401);
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
        let res = h
            .admin_call(Method::POST, "integrations", Some(body.clone()))
            .await;
        assert_eq!(res.status.as_u16(), 422, "{body}: {}", res.text());
        let err = &res.json()["error"];
        assert_eq!(err["code"], "validation_failed");
        let got = repopal_tests::shapes::field_errors(&res.json());
        for f in &fields {
            assert!(got.contains_key(*f), "{body}: expected {f} in {got:?}");
        }
        assert_eq!(got.len(), fields.len(), "{body}: {got:?}");
        assert!(
            !res.text().contains(secret),
            "a secret was echoed: {}",
            res.text()
        );
    }
    // PATCH validates the config against the type's schema too.
    let id = h.create_argocd("Argo").await;
    let res = h
        .admin_call(
            Method::PATCH,
            &format!("integrations/{id}"),
            Some(json!({"config": {"server_url": 5}})),
        )
        .await;
    assert_eq!(res.status.as_u16(), 422);
    assert_eq!(
        repopal_tests::shapes::field_errors(&res.json())["config.server_url"],
        "must be a string"
    );
    let res = h
        .admin_call(
            Method::PATCH,
            &format!("integrations/{id}/credentials"),
            Some(json!({"credentials": {"token": ""}})),
        )
        .await;
    assert_eq!(res.status.as_u16(), 422);
    assert_eq!(
        repopal_tests::shapes::field_errors(&res.json())["credentials.token"],
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
        let res = h
            .admin_call(Method::GET, &format!("integrations{q}"), None)
            .await;
        assert_eq!(res.status.as_u16(), 200, "{q}: {}", res.text());
        res.json()["data"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        list("").await,
        ["Argo", "GitHub App installation 27182", "Probe", "Slack"]
    );
    assert_eq!(list("?type=argocd").await, ["Argo"]);
    assert_eq!(list("?status=active&type=http").await, ["Probe"]);
    assert!(list("?status=error").await.is_empty());
    let bad = h
        .admin_call(Method::GET, "integrations?status=broken", None)
        .await;
    assert_eq!(
        (bad.status.as_u16(), bad.json()["error"]["code"].clone()),
        (400, json!("invalid_query"))
    );

    let one = h
        .admin_call(Method::GET, &format!("integrations/{probe}"), None)
        .await
        .json();
    assert_eq!(one["data"]["credentials"], json!({"bearer_token": "…alue"}));
    assert!(one["data"]["next_check_at"].is_string(), "checked at once");

    let res = h
        .admin_call(
            Method::PATCH,
            &format!("integrations/{argo}"),
            Some(
                json!({"name": "Argo prod", "config": {"server_url": format!("{}/", h.argo.url)}}),
            ),
        )
        .await;
    assert_eq!(res.status.as_u16(), 200, "{}", res.text());
    assert_eq!(res.json()["data"]["name"], "Argo prod");
    let taken = h
        .admin_call(
            Method::PATCH,
            &format!("integrations/{argo}"),
            Some(json!({"name": "Probe"})),
        )
        .await;
    assert_eq!(
        (taken.status.as_u16(), taken.json()["error"]["code"].clone()),
        (409, json!("integration_name_taken"))
    );

    // Credentials go nowhere new without being given again: another origin for the probe is 422,
    // and accepted together with its credentials (tested against the new address).
    let moved = h
        .admin_call(
            Method::PATCH,
            &format!("integrations/{probe}"),
            Some(json!({"config": {"url": "https://elsewhere.example.com/healthz"}})),
        )
        .await;
    assert_eq!(moved.status.as_u16(), 422, "{}", moved.text());
    assert!(repopal_tests::shapes::field_errors(&moved.json()).contains_key("config.url"));
    let res = h
        .admin_call(
            Method::PATCH,
            &format!("integrations/{probe}/credentials"),
            Some(
                json!({"config": {"url": format!("{}/healthz?via=patch", h.argo.url)},
                        "credentials": {"bearer_token": "probe-bearer-token-value"}}),
            ),
        )
        .await;
    assert_eq!(res.status.as_u16(), 200, "{}", res.text());
    assert_eq!(
        res.json()["data"]["integration"]["config"]["url"],
        format!("{}/healthz?via=patch", h.argo.url)
    );

    let off = h
        .admin_call(
            Method::POST,
            &format!("integrations/{argo}/disable"),
            Some(json!({})),
        )
        .await
        .json();
    assert_eq!(
        (
            off["data"]["enabled"].clone(),
            off["data"]["next_check_at"].clone()
        ),
        (json!(false), Value::Null)
    );
    let on = h
        .admin_call(
            Method::POST,
            &format!("integrations/{argo}/enable"),
            Some(json!({})),
        )
        .await
        .json();
    assert_eq!(on["data"]["enabled"], true);
    assert!(on["data"]["next_check_at"].is_string());

    let test = h
        .admin_call(
            Method::POST,
            &format!("integrations/{argo}/test"),
            Some(json!({})),
        )
        .await;
    assert_eq!(test.status.as_u16(), 200, "{}", test.text());

    let logs = h
        .admin_call(
            Method::GET,
            &format!("integrations/{argo}/logs?limit=3"),
            None,
        )
        .await
        .json();
    let actions: Vec<&str> = logs["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "integration.test",
            "integration.credentials_decrypt",
            "integration.enable"
        ]
    );
    let cursor = logs["data"]["next_cursor"].as_str().unwrap().to_owned();
    let older = h
        .admin_call(
            Method::GET,
            &format!("integrations/{argo}/logs?cursor={cursor}"),
            None,
        )
        .await
        .json();
    let older: Vec<&str> = older["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        older,
        [
            "integration.disable",
            "integration.update",
            "integration.create"
        ]
    );

    let deleted = h
        .admin_call(Method::DELETE, &format!("integrations/{argo}"), None)
        .await;
    assert_eq!(deleted.status, 200);
    assert_eq!(deleted.json()["data"]["ok"], true);
    assert_eq!(
        h.admin_call(Method::GET, &format!("integrations/{argo}"), None)
            .await
            .status,
        404
    );
    assert_eq!(
        h.admin_call(Method::GET, &format!("integrations/{argo}/health"), None)
            .await
            .status,
        404
    );
}

async fn test_of(h: &Setup, id: Uuid) -> Value {
    let res = h
        .admin_call(
            Method::POST,
            &format!("integrations/{id}/test"),
            Some(json!({})),
        )
        .await;
    assert_eq!(res.status.as_u16(), 200, "{}", res.text());
    res.json()["data"].clone()
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
    assert_eq!(
        (t["ok"].clone(), t["status"].clone()),
        (json!(true), json!("ok")),
        "{t}"
    );
    assert_eq!(t["details"]["login"], "octo-bot");
    assert!(t["latency_ms"].as_i64().unwrap() >= 0);
    h.github.revoke_token_value("ghp_goodtoken1234567890");
    let t = test_of(&h, github).await;
    assert_eq!(
        (t["ok"].clone(), t["status"].clone()),
        (json!(false), json!("failed"))
    );
    assert!(t["error"].as_str().unwrap().contains("refused"), "{t}");
    assert_eq!(t["attempts"], 1, "a refused credential is not retried");

    let app = h.installation_integration().await;
    let t = test_of(&h, app).await;
    assert_eq!(t["ok"], true, "{t}");
    assert_eq!(t["details"]["repositories"], 1);
    assert_eq!(t["details"]["hooks_checked"], 1);

    let slack: Uuid = {
        let list = h
            .admin_call(Method::GET, "integrations?type=slack", None)
            .await
            .json();
        list["data"]["items"][0]["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    let t = test_of(&h, slack).await;
    assert_eq!(t["ok"], true, "{t}");
    assert!(t["details"]["team"].is_string(), "{t}");
    h.slack.fault_next(&[Fault::ServerError]);
    let t = test_of(&h, slack).await;
    assert_eq!(
        (t["ok"].clone(), t["attempts"].clone()),
        (json!(true), json!(2)),
        "a 500 is retried: {t}"
    );

    let argo = h.create_argocd("Argo").await;
    let t = test_of(&h, argo).await;
    assert_eq!(
        (t["ok"].clone(), t["details"]["applications"].clone()),
        (json!(true), json!(1))
    );
    let wrong = h
        .create(
            "argocd",
            "Argo wrong",
            json!({"server_url": h.argo.url}),
            json!({"token": "wrong-token-value"}),
        )
        .await;
    let t = test_of(&h, wrong).await;
    assert_eq!(t["ok"], false);
    assert!(t["error"].as_str().unwrap().contains("401"), "{t}");

    let probe = h
        .create(
            "http",
            "Probe",
            json!({"url": format!("{}/healthz", h.argo.url)}),
            json!({"bearer_token": "probe-bearer-token-value"}),
        )
        .await;
    let t = test_of(&h, probe).await;
    assert_eq!(
        (t["ok"].clone(), t["details"]["status"].clone()),
        (json!(true), json!(200))
    );
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
    assert_eq!(t["ok"], false);
    assert_eq!(t["error"], "the endpoint answered 200 OK, expected 204");
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
        t["error"],
        "the endpoint answered 401 Unauthorized, expected 2xx"
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
        (t["ok"].clone(), t["attempts"].clone()),
        (json!(false), json!(3)),
        "unreachable, retried: {t}"
    );

    // Manual tests are in the history but do not move the health state.
    let history = h
        .admin_call(
            Method::GET,
            &format!("integrations/{wrong}/health/history"),
            None,
        )
        .await
        .json();
    let manual: Vec<&Value> = history["data"]["items"]
        .as_array()
        .unwrap()
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

    let res = h
        .admin_call(
            Method::PATCH,
            &path,
            Some(json!({"credentials": {"token": "ghp_newtoken1234567890bbbb"}})),
        )
        .await;
    assert_eq!(res.status.as_u16(), 400, "{}", res.text());
    assert_eq!(res.json()["error"]["code"], "credentials_test_failed");
    assert!(!res.text().contains("ghp_newtoken"), "{}", res.text());
    let one = h
        .admin_call(Method::GET, &format!("integrations/{id}"), None)
        .await
        .json();
    assert_eq!(
        one["data"]["credentials"]["token"], "…aaaa",
        "the old credentials stay"
    );
    assert_eq!(test_of(&h, id).await["ok"], true, "and still work");

    h.github.add_token("ghp_newtoken1234567890bbbb", account());
    let res = h
        .admin_call(
            Method::PATCH,
            &path,
            Some(json!({"credentials": {"token": "ghp_newtoken1234567890bbbb"}})),
        )
        .await;
    assert_eq!(res.status.as_u16(), 200, "{}", res.text());
    assert_eq!(
        res.json()["data"]["integration"]["credentials"]["token"],
        "…bbbb"
    );
    assert_eq!(res.json()["data"]["test"]["ok"], true);
    h.github.revoke_token_value("ghp_oldtoken1234567890aaaa");
    assert_eq!(test_of(&h, id).await["ok"], true, "the new token is in use");

    // A refused or disabled integration becomes active again with new credentials.
    sqlx::query("UPDATE integrations SET status = 'disabled', next_check_at = NULL WHERE id = $1")
        .bind(id)
        .execute(&h.app.db.pool)
        .await
        .unwrap();
    let res = h
        .admin_call(
            Method::PATCH,
            &path,
            Some(json!({"credentials": {"token": "ghp_newtoken1234567890bbbb"}})),
        )
        .await;
    assert_eq!(res.json()["data"]["integration"]["status"], "active");
    sqlx::query(
        "UPDATE integrations SET status = 'reauth_required', next_check_at = NULL WHERE id = $1",
    )
    .bind(id)
    .execute(&h.app.db.pool)
    .await
    .unwrap();
    let res = h
        .admin_call(
            Method::PATCH,
            &path,
            Some(json!({"credentials": {"token": "ghp_newtoken1234567890bbbb"}})),
        )
        .await;
    assert_eq!(res.json()["data"]["integration"]["status"], "active");
    assert!(res.json()["data"]["integration"]["next_check_at"].is_string());

    let logs = h
        .admin_call(Method::GET, &format!("integrations/{id}/logs"), None)
        .await
        .json();
    let updates: Vec<(String, String)> = logs["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "integration.credentials_update")
        .map(|e| {
            (
                e["status"].as_str().unwrap().into(),
                e["metadata"]["fields"][0].as_str().unwrap_or("").into(),
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
    let created = res.json()["data"].clone();
    assert_eq!(
        h.slack.last_redirect_uri().as_deref(),
        Some("http://repopal.test/api/v1/slack/callback")
    );
    assert_eq!(created["type"], "slack");
    assert_eq!(created["config"]["team_id"], "T9TK3CUKW");
    let fields: Vec<&String> = created["credentials"].as_object().unwrap().keys().collect();
    assert_eq!(fields, ["bot_token", "refresh_token"]);
    assert!(
        created["token_expires_at"].is_string(),
        "rotation: the token expires"
    );
    let id = created["id"].as_str().unwrap().to_owned();

    // The state works once; a cancelled authorization is a clear error.
    h.slack.authorize_code("code-2", true);
    let again = h.slack_callback("code-2", &state, Some(&cookie)).await;
    assert_eq!(
        (again.status.as_u16(), again.json()["error"]["code"].clone()),
        (400, json!("invalid_oauth_state"))
    );
    let denied = h
        .app
        .call(
            Method::GET,
            "/api/v1/slack/callback?error=access_denied&state=x",
            None,
            None,
        )
        .await;
    assert_eq!(
        (
            denied.status.as_u16(),
            denied.json()["error"]["code"].clone()
        ),
        (400, json!("oauth_denied"))
    );
    let forged = h
        .app
        .call(
            Method::GET,
            "/api/v1/slack/callback?code=code-2&state=forged.state",
            None,
            None,
        )
        .await;
    assert_eq!(forged.status.as_u16(), 400);

    // Connecting the same workspace again updates that integration, keeping its settings.
    let res = h
        .admin_call(
            Method::PATCH,
            &format!("integrations/{id}"),
            Some(json!({"config": {"team_id": "T9TK3CUKW", "alert_channel": "#ops"}})),
        )
        .await;
    assert_eq!(res.status.as_u16(), 200, "{}", res.text());
    let q = h.slack_authorize().await;
    let res = h
        .slack_callback("code-2", &q["state"], Some(&q["cookie"]))
        .await;
    assert_eq!(res.status.as_u16(), 200, "{}", res.text());
    assert_eq!(res.json()["data"]["id"], json!(id));
    assert_eq!(res.json()["data"]["config"]["alert_channel"], "#ops");
    assert_eq!(
        res.json()["data"]["config"]["team_name"],
        "Slack Softball Team"
    );

    // The token job refreshes a token about to expire (like GitHub's), with the refresh token.
    let pool = &h.app.db.pool;
    sqlx::query("UPDATE integrations SET token_expires_at = now() + interval '5 minutes' WHERE id = $1::uuid")
        .bind(&id)
        .execute(pool)
        .await
        .unwrap();
    let worker = h.start_worker();
    h.run_token_refresh().await;
    worker.stop().await;
    assert_eq!(h.slack.refresh_tokens_used(), 1);
    let one = h
        .admin_call(Method::GET, &format!("integrations/{id}"), None)
        .await
        .json();
    let expires: chrono::DateTime<chrono::Utc> = one["data"]["token_expires_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        expires > chrono::Utc::now() + chrono::Duration::hours(11),
        "a new 12-hour token"
    );
    let t = test_of(&h, id.parse().unwrap()).await;
    assert_eq!(t["ok"], true, "the new token works: {t}");
    let newest = h.slack.issued_tokens().last().cloned().unwrap();
    assert!(newest.starts_with("xoxe.xoxb-"));
    let logs = h
        .admin_call(Method::GET, &format!("integrations/{id}/logs"), None)
        .await
        .json();
    assert!(
        logs["data"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "integration.token_refresh")
    );
}
