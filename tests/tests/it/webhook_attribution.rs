//! Webhook attribution, attacked: a delivery signed with the App's secret names a victim's repository
//! hook in the unsigned `X-GitHub-Hook-ID` header. It must be credited to the organisation that owns
//! its payload's installation, never to the hook's; a hook's own signature still credits its hook.

use axum::{
    body::Body,
    http::{Method, Request},
};
use repopal_tests::TestApp;
use repopal_tests::{Setup, http::TEST_WEBHOOK_SECRET, monitored::RunIds};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

const ATTACKER_INSTALLATION: i64 = 31337;

async fn send(m: &Setup, delivery: &str, hook_id: i64, secret: &[u8], payload: &Value) -> u16 {
    let body = serde_json::to_vec(payload).expect("the payload serialises");
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/webhooks/github")
        .header("content-type", "application/json")
        .header("x-github-event", "workflow_run")
        .header("x-github-delivery", delivery)
        .header("x-github-hook-id", hook_id.to_string())
        .header(
            "x-hub-signature-256",
            common::crypto::signature::sign(secret, &body),
        )
        .body(Body::from(body))
        .expect("the webhook request is well-formed");
    m.app.request(req).await.status.as_u16()
}

#[tokio::test]
async fn an_app_delivery_is_credited_through_its_installation_never_the_hook_header() {
    let m = TestApp::builder().monitored_repo().await;
    let pool = &m.app.db.pool;
    // The attacker's own organisation and App installation.
    let attacker_org: String = sqlx::query_scalar(
        "INSERT INTO organizations (id, slug, name) VALUES (gen_random_uuid(), 'evil', 'Evil') RETURNING id::text",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO github_installations (installation_id, org_id, account_login, account_type) VALUES ($1, $2::uuid, 'evil', 'Organization')")
        .bind(ATTACKER_INSTALLATION)
        .bind(&attacker_org)
        .execute(pool)
        .await
        .unwrap();
    // The victim's repository hook, which RepoPal installed when the repository was connected.
    let (victim_hook, hook_secret_sealed): (i64, String) = sqlx::query_as(
        "SELECT hook_id, secret_sealed FROM github_repository_hooks WHERE org_id = $1::uuid",
    )
    .bind(&m.org)
    .fetch_one(pool)
    .await
    .expect("the monitored repository has RepoPal's hook");

    // An App-signed failure for the victim's repository, from the attacker's installation, naming
    // the victim's hook in the unsigned header.
    let mut payload = m.workflow_run(RunIds::first(7001, 1), "main", "failure");
    payload["installation"] = json!({"id": ATTACKER_INSTALLATION});
    assert_eq!(
        send(
            &m,
            "forged-1",
            victim_hook,
            TEST_WEBHOOK_SECRET.as_bytes(),
            &payload
        )
        .await,
        202
    );
    m.run_jobs().await;
    let credited: Option<String> = sqlx::query_scalar(
        "SELECT org_id::text FROM webhook_deliveries WHERE delivery_id = 'forged-1'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(credited.as_deref(), Some(attacker_org.as_str()));
    let runs: i64 = sqlx::query_scalar("SELECT count(*) FROM workflow_runs")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(runs, 0, "nothing lands in the victim's organisation");
    assert!(m.incidents().await.is_empty());

    // A delivery signed with the hook's own secret is that hook's, and is processed for its org.
    let keyring = common::crypto::keyring::Keyring::parse(
        &secrecy::SecretString::from(repopal_tests::http::TEST_ENCRYPTION_KEYS.to_owned()),
        None,
    )
    .unwrap();
    let secret = keyring
        .open(
            common::crypto::keyring::Binding::new(
                common::crypto::keyring::SealedColumn::RepositoryHookSecret,
                &victim_hook.to_string(),
            ),
            &hook_secret_sealed,
        )
        .unwrap();
    let payload = m.workflow_run(RunIds::first(7002, 2), "main", "failure");
    assert_eq!(
        send(
            &m,
            "hook-1",
            victim_hook,
            secret.expose_secret().as_bytes(),
            &payload
        )
        .await,
        202
    );
    m.run_jobs().await;
    let credited: Option<String> = sqlx::query_scalar(
        "SELECT org_id::text FROM webhook_deliveries WHERE delivery_id = 'hook-1'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(credited.as_deref(), Some(m.org.as_str()));
    assert_eq!(m.incidents().await.len(), 1);
}
