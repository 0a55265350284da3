//! Start-up configuration: a missing or malformed required variable stops the binary by name.

use std::time::Duration;

use repopal_tests::process::spawn;

async fn exit_output(name: &str, args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let mut p = spawn(name, args, env);
    let status = tokio::time::timeout(Duration::from_secs(20), p.child.wait())
        .await
        .expect("exits")
        .unwrap();
    (status.success(), p.log_text())
}

#[tokio::test]
async fn the_worker_refuses_to_start_without_database_url() {
    let (ok, log) = exit_output("repopal-worker", &[], &[]).await;
    assert!(!ok);
    assert!(
        log.contains("DATABASE_URL is required but not set"),
        "{log}"
    );
}

#[tokio::test]
async fn the_api_names_a_missing_webhook_secret() {
    let env = [
        ("DATABASE_URL", "postgres://localhost:1/x"),
        ("ENCRYPTION_KEYS", repopal_tests::http::TEST_ENCRYPTION_KEYS),
    ];
    let (ok, log) = exit_output("repopal-api", &["serve"], &env).await;
    assert!(!ok);
    assert!(
        log.contains("GITHUB_WEBHOOK_SECRET is required but not set"),
        "{log}"
    );
}

#[tokio::test]
async fn the_api_names_a_malformed_variable() {
    let env = [
        ("DATABASE_URL", "postgres://localhost:1/x"),
        ("ENCRYPTION_KEYS", repopal_tests::http::TEST_ENCRYPTION_KEYS),
        ("JWT_SIGNING_KEY", repopal_tests::http::TEST_JWT_KEY),
        ("GITHUB_WEBHOOK_SECRET", "0123456789abcdef0123"),
        ("PORT", "http"),
    ];
    let (ok, log) = exit_output("repopal-api", &["serve"], &env).await;
    assert!(!ok);
    assert!(log.contains("PORT is malformed"), "{log}");
    let (ok, log) = exit_output(
        "repopal-api",
        &["migrate"],
        &[("DATABASE_URL", "mysql://nope")],
    )
    .await;
    assert!(!ok);
    assert!(log.contains("DATABASE_URL is malformed"), "{log}");
}
