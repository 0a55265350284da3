//! No integration credential appears in any response or log line: every type is created, tested,
//! checked by the worker (passing and failing), given new credentials (refused and accepted), and
//! connected and refreshed through Slack OAuth, with every log line captured.

use axum::http::Method;
use repopal_tests::TestApp;
use repopal_tests::{
    fake_argocd::ARGOCD_TOKEN, fake_faults::Fault, fake_github::FakeAccount,
    fake_slack::SLACK_BOT_TOKEN, log_capture::CapturedLogs,
};
use serde_json::{Value, json};

#[tokio::test]
async fn integration_credentials_never_reach_responses_or_logs() {
    let logs = CapturedLogs::install();
    let h = TestApp::builder().health().await;
    let worker = h.start_worker();
    let gh_token = "ghp_secretgithubtoken0123456789";
    let bearer = "probe-secret-bearer-0123456789";
    let wrong_argo = "argo-secret-but-wrong-0123456789";
    let refused_new = "ghp_secretrefusedtoken0123456789";
    h.github.add_token(
        gh_token,
        FakeAccount {
            id: 9,
            login: "bot".into(),
            name: "Bot".into(),
            email: "bot@example.com".into(),
            email_verified: true,
        },
    );
    let mut responses = Vec::new();
    let github = h
        .create("github", "GitHub", json!({}), json!({"token": gh_token}))
        .await;
    let argo = h.create_argocd("Argo").await;
    let wrong = h
        .create(
            "argocd",
            "Argo wrong",
            json!({"server_url": h.argo.url}),
            json!({"token": wrong_argo}),
        )
        .await;
    let probe = h
        .create(
            "http",
            "Probe",
            json!({"url": format!("{}/healthz", h.argo.url)}),
            json!({"bearer_token": bearer}),
        )
        .await;
    for id in [github, argo, probe] {
        h.check_now(id).await;
    }
    // Each answer whole: a success envelope holds nothing but `data`, an error decodes whole.
    for id in [github, argo, wrong, probe] {
        let res: Value = h
            .as_admin()
            .call(
                Method::POST,
                &format!("integrations/{id}/test"),
                Some(json!({})),
                200,
            )
            .await;
        responses.push(res.to_string());
    }
    // Failing checks log their errors.
    h.argo.set_fault(Some(Fault::ServerError));
    h.check_now(argo).await;
    h.argo.set_fault(None);
    let refused: Value = h
        .as_admin()
        .call(
            Method::PATCH,
            &format!("integrations/{github}/credentials"),
            Some(json!({"credentials": {"token": refused_new}})),
            400,
        )
        .await;
    responses.push(refused.to_string());
    let accepted: Value = h
        .as_admin()
        .call(
            Method::PATCH,
            &format!("integrations/{github}/credentials"),
            Some(json!({"credentials": {"token": gh_token}})),
            200,
        )
        .await;
    responses.push(accepted.to_string());

    // Slack through OAuth with rotation, refreshed by the token job.
    let q = h.slack_authorize().await;
    h.slack.authorize_code("secret-code", true);
    let res = h
        .slack_callback("secret-code", &q["state"], Some(&q["cookie"]))
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    responses.push(res.text());
    sqlx::query("UPDATE integrations SET token_expires_at = now() WHERE kind = 'slack'")
        .execute(&h.app.db.pool)
        .await
        .unwrap();
    h.run_token_refresh().await;
    assert!(h.slack.refresh_tokens_used() >= 1);

    for id in [github, argo, wrong, probe] {
        for suffix in ["", "/health", "/health/history", "/metrics", "/logs"] {
            let res: Value = h
                .as_admin()
                .call(
                    Method::GET,
                    &format!("integrations/{id}{suffix}"),
                    None,
                    200,
                )
                .await;
            responses.push(res.to_string());
        }
    }
    for path in ["integrations", "audit-logs"] {
        let res: Value = h.as_admin().call(Method::GET, path, None, 200).await;
        responses.push(res.to_string());
    }
    responses.push(h.app.metrics().await.text());
    worker.stop().await;

    let mut secrets: Vec<String> = [
        gh_token,
        bearer,
        wrong_argo,
        refused_new,
        ARGOCD_TOKEN,
        SLACK_BOT_TOKEN,
        "slack-client-secret-value",
    ]
    .map(str::to_owned)
    .to_vec();
    secrets.extend(h.slack.issued_tokens());
    let logs = logs.text();
    assert!(
        logs.contains("integration checked"),
        "the checks were logged"
    );
    for secret in &secrets {
        assert!(!logs.contains(secret.as_str()), "a log line holds {secret}");
        for r in &responses {
            assert!(
                !r.contains(secret.as_str()),
                "a response holds {secret}: {r}"
            );
        }
    }
}
