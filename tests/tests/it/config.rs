//! Start-up configuration: a missing or malformed required variable stops the binary by name.

use std::time::Duration;

use repopal_tests::process::spawn;

async fn exit_output(name: &str, args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let mut p = spawn(name, args, env);
    let status = tokio::time::timeout(Duration::from_secs(20), p.child.wait())
        .await
        .expect("exits")
        .expect("waiting for the process works");
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
        (
            "GITHUB_WEBHOOK_SECRET",
            repopal_tests::http::TEST_WEBHOOK_SECRET,
        ),
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

/// The placeholders shipped in `.env.example`, and secrets below 128 bits of estimated entropy,
/// stop start-up with a message naming the variable (the real binary, attacked with each).
#[tokio::test]
async fn the_api_refuses_placeholder_and_weak_secrets() {
    let example = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.env.example"),
    )
    .unwrap();
    let placeholder = |name: &str| {
        example
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("{name} in .env.example"))
            .to_owned()
    };
    let zero_key = format!("k1:{}", "A".repeat(43) + "=");
    let cases: Vec<(&str, String)> = vec![
        ("JWT_SIGNING_KEY", placeholder("JWT_SIGNING_KEY")),
        (
            "GITHUB_WEBHOOK_SECRET",
            placeholder("GITHUB_WEBHOOK_SECRET"),
        ),
        ("ENCRYPTION_KEYS", placeholder("ENCRYPTION_KEYS")),
        ("JWT_SIGNING_KEY", "a".repeat(64)),
        ("JWT_SIGNING_KEY", "passwordpasswordpasswordpassword".into()),
        ("GITHUB_WEBHOOK_SECRET", "0123456789abcdef0123".into()),
        ("ENCRYPTION_KEYS", zero_key),
    ];
    for (name, value) in cases {
        let mut env = vec![
            ("DATABASE_URL", "postgres://localhost:1/x"),
            ("ENCRYPTION_KEYS", repopal_tests::http::TEST_ENCRYPTION_KEYS),
            ("JWT_SIGNING_KEY", repopal_tests::http::TEST_JWT_KEY),
            (
                "GITHUB_WEBHOOK_SECRET",
                repopal_tests::http::TEST_WEBHOOK_SECRET,
            ),
        ];
        env.retain(|(k, _)| *k != name);
        env.push((name, value.as_str()));
        let (ok, log) = exit_output("repopal-api", &["serve"], &env).await;
        assert!(!ok, "{name}={value} was accepted");
        assert!(
            log.contains(&format!("{name} is malformed")),
            "{name}: {log}"
        );
        assert!(
            !log.contains(value.as_str()),
            "the value is never echoed: {log}"
        );
    }
}

/// What is built once at boot (`common::services::Services`: GitHub's clients and App key, Slack,
/// the tester) stops both binaries when it cannot be built, with a message saying what, instead of
/// serving with a default stand-in. A key that passes the PEM framing check but is not an RSA key
/// is such a setting.
#[tokio::test]
async fn both_binaries_stop_when_a_boot_time_service_cannot_be_built() {
    let pem = "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n";
    let env = [
        ("DATABASE_URL", "postgres://localhost:1/x"),
        ("ENCRYPTION_KEYS", repopal_tests::http::TEST_ENCRYPTION_KEYS),
        ("JWT_SIGNING_KEY", repopal_tests::http::TEST_JWT_KEY),
        (
            "GITHUB_WEBHOOK_SECRET",
            repopal_tests::http::TEST_WEBHOOK_SECRET,
        ),
        ("GITHUB_APP_ID", "42"),
        ("GITHUB_APP_PRIVATE_KEY", pem),
    ];
    for (binary, args) in [("repopal-api", &["serve"][..]), ("repopal-worker", &[][..])] {
        let (ok, log) = exit_output(binary, args, &env).await;
        assert!(!ok, "{binary} started");
        assert!(
            log.contains("GITHUB_APP_PRIVATE_KEY is not a usable RSA private key"),
            "{binary}: {log}"
        );
        assert!(!log.contains("AAAA"), "the key is never echoed: {log}");
        assert!(!log.contains("listening"), "{binary} served: {log}");
    }
}
