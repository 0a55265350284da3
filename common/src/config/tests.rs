//! Unit tests of configuration parsing.

use std::time::Duration;

use super::{parse::*, *};

const KEYS: &str = "k1:3TKzmA4wcXL3tI5Sif0zKxGHR7/nlp1UtrBawwpG7J4=";

#[test]
fn the_notify_window_is_at_most_a_year() {
    assert_eq!(parse_notify_window("900"), Ok(900));
    assert!(parse_notify_window("31536001").is_err());
    assert!(parse_notify_window("-1").is_err());
}

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    let mut map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    map.entry("JWT_SIGNING_KEY".into())
        .or_insert_with(|| "unit-test-jwt-key-5f0e9a1c7b3d8e2f4a6c".into());
    if map.contains_key("DATABASE_URL") {
        map.entry("ENCRYPTION_KEYS".into())
            .or_insert_with(|| KEYS.into());
    }
    map
}

#[test]
fn missing_database_url_is_named() {
    let err = Config::from_source(&env(&[])).unwrap_err();
    assert_eq!(err.to_string(), "DATABASE_URL is required but not set");
}

#[test]
fn malformed_values_are_named() {
    let base = [("DATABASE_URL", "postgres://localhost/x")];
    let mut e = env(&base);
    e.insert("GITHUB_API_URL".into(), "not a url".into());
    assert!(
        Config::from_source(&e)
            .unwrap_err()
            .to_string()
            .starts_with("GITHUB_API_URL is malformed")
    );

    let e = env(&[
        ("GITHUB_WEBHOOK_SECRET", "unit-test-webhook-secret-9d2c71"),
        ("PORT", "eighty"),
    ]);
    assert!(
        ApiConfig::from_source(&e)
            .unwrap_err()
            .to_string()
            .starts_with("PORT is malformed")
    );

    let e = env(&[("WORKER_CONCURRENCY", "0")]);
    assert!(
        WorkerConfig::from_source(&e)
            .unwrap_err()
            .to_string()
            .starts_with("WORKER_CONCURRENCY")
    );

    let e = env(&[("WORKER_HEARTBEAT_SECS", "0")]);
    assert!(
        WorkerConfig::from_source(&e)
            .unwrap_err()
            .to_string()
            .starts_with("WORKER_HEARTBEAT_SECS")
    );

    let e = env(&[("WORKER_SHUTDOWN_TIMEOUT_SECS", "30")]);
    let err = WorkerConfig::from_source(&e).unwrap_err().to_string();
    assert!(
        err.starts_with("WORKER_SHUTDOWN_TIMEOUT_SECS is malformed"),
        "{err}"
    );

    let e = env(&[("JOB_TIMEOUT_SECS_PROBE", "soon")]);
    assert!(
        WorkerConfig::from_source(&e)
            .unwrap_err()
            .to_string()
            .starts_with("JOB_TIMEOUT_SECS_PROBE")
    );
}

#[test]
fn outbound_cidrs_parse_or_fail_by_name() {
    let base = [("DATABASE_URL", "postgres://localhost/x")];
    let c = Config::from_source(&env(&base)).expect("config");
    assert!(c.outbound_allowed_cidrs.is_empty());
    let mut e = env(&base);
    e.insert(
        "OUTBOUND_ALLOWED_CIDRS".into(),
        " 10.0.0.0/8, 127.0.0.1 ,fd00::/8".into(),
    );
    let c = Config::from_source(&e).expect("config");
    let listed: Vec<String> = c
        .outbound_allowed_cidrs
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(listed, ["10.0.0.0/8", "127.0.0.1/32", "fd00::/8"]);
    e.insert(
        "OUTBOUND_ALLOWED_CIDRS".into(),
        "10.0.0.0/8,intranet".into(),
    );
    let err = Config::from_source(&e).expect_err("malformed").to_string();
    assert!(
        err.starts_with("OUTBOUND_ALLOWED_CIDRS is malformed"),
        "{err}"
    );
    e.insert("OUTBOUND_ALLOWED_CIDRS".into(), "10.0.0.0/33".into());
    assert!(Config::from_source(&e).is_err());
}

#[test]
fn http_hardening_settings_are_parsed_or_named() {
    let base = [("GITHUB_WEBHOOK_SECRET", "unit-test-webhook-secret-9d2c71")];
    let with = |k: &str, v: &str| {
        let mut e = env(&base);
        e.insert(k.into(), v.into());
        ApiConfig::from_source(&e)
    };
    for (name, bad) in [
        ("TRUSTED_PROXY_CIDRS", "10.0.0.0/8, not-a-cidr"),
        ("CORS_ALLOWED_ORIGINS", "https://app.example/path"),
        ("CORS_ALLOWED_ORIGINS", "*"),
        ("METRICS_TOKEN", "short"),
        ("METRICS_ADDR", "localhost"),
        ("WEBHOOK_MAX_INFLIGHT_BYTES", "0"),
        ("PASSWORD_HASH_CONCURRENCY", "0"),
        ("TRUST_PROXY_HEADERS", "true"),
    ] {
        let err = with(name, bad).unwrap_err().to_string();
        assert!(err.starts_with(&format!("{name} is malformed")), "{err}");
    }
    let c = with(
        "TRUSTED_PROXY_CIDRS",
        "10.0.0.0/8, 2001:db8::/32, 192.0.2.1",
    )
    .unwrap();
    assert_eq!(c.trusted_proxies.len(), 3);
    let c = with(
        "CORS_ALLOWED_ORIGINS",
        "https://App.example, http://localhost:3000/",
    )
    .unwrap();
    assert_eq!(
        c.cors_allowed_origins,
        ["https://app.example", "http://localhost:3000"]
    );
    let c = ApiConfig::from_source(&env(&base)).unwrap();
    assert!(c.trusted_proxies.is_empty() && c.cors_allowed_origins.is_empty());
    assert!(c.metrics_token.is_none() && c.metrics_addr.is_none());
    assert_eq!(c.webhook_max_inflight_bytes, 64 * 1024 * 1024);
    assert!(c.auth.password_hash_concurrency >= 1);
    assert!(with("TRUST_PROXY_HEADERS", "false").is_ok());
}

#[test]
fn app_credentials_come_in_pairs() {
    let e = env(&[
        ("DATABASE_URL", "postgres://localhost/x"),
        ("GITHUB_APP_ID", "42"),
    ]);
    let err = Config::from_source(&e).unwrap_err().to_string();
    assert!(
        err.starts_with("GITHUB_APP_PRIVATE_KEY is malformed"),
        "{err}"
    );
    let mut e = env(&[("DATABASE_URL", "postgres://localhost/x")]);
    e.remove("ENCRYPTION_KEYS");
    assert_eq!(
        Config::from_source(&e).unwrap_err().to_string(),
        "ENCRYPTION_KEYS is required but not set"
    );
    e.insert("ENCRYPTION_KEYS".into(), "k1:c2hvcnQ=".into());
    assert!(
        Config::from_source(&e)
            .unwrap_err()
            .to_string()
            .starts_with("ENCRYPTION_KEYS is malformed")
    );
    let mut e = env(&[("GITHUB_WEBHOOK_SECRET", "unit-test-webhook-secret-9d2c71")]);
    e.insert("JWT_SIGNING_KEY".into(), "short".into());
    assert!(
        ApiConfig::from_source(&e)
            .unwrap_err()
            .to_string()
            .starts_with("JWT_SIGNING_KEY is malformed")
    );
}

#[test]
fn defaults_apply() {
    let c = Config::from_source(&env(&[("DATABASE_URL", "postgres://localhost/x")])).unwrap();
    assert_eq!(c.github.api_url.as_str(), "https://api.github.com/");
    let w = WorkerConfig::from_source(&env(&[])).unwrap();
    assert_eq!(w.orphan_after(), Duration::from_secs(30));
    assert_eq!(w.concurrency, 8);
    let probe = w.effective(crate::jobs::Queue::PROBE);
    assert_eq!((probe.batch_size, probe.concurrency), (1, Some(8)));
}

#[test]
fn queue_overrides_apply_to_their_queue_only() {
    let w = WorkerConfig::from_source(&env(&[
        ("JOB_BATCH_SIZE_NOOP", "1"),
        ("JOB_TIMEOUT_SECS_PROBE", "2"),
    ]))
    .unwrap();
    assert_eq!(w.effective(crate::jobs::Queue::NOOP).batch_size, 1);
    assert_eq!(
        w.effective(crate::jobs::Queue::PROBE).timeout,
        Duration::from_secs(2)
    );
    assert_eq!(
        w.effective(crate::jobs::Queue::PRUNE_JOBS).timeout,
        Duration::from_secs(300)
    );
    let err = WorkerConfig::from_source(&env(&[("JOB_CONCURRENCY_NOOP", "0")])).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("JOB_CONCURRENCY_NOOP is malformed"),
        "{err}"
    );
}

#[test]
fn the_two_github_identities_are_separate_optional_pairs() {
    let base = [("DATABASE_URL", "postgres://localhost/x")];
    let c = Config::from_source(&env(&base)).unwrap();
    assert!(c.github.app_client_id.is_none() && c.github.oauth_client_id.is_none());
    assert_eq!(
        c.github.repo_scopes,
        ["repo", "admin:repo_hook", "read:user"]
    );
    assert_eq!(c.github.log_max_bytes, 8 * 1024 * 1024);
    let mut e = env(&base);
    e.insert("GITHUB_APP_CLIENT_ID".into(), "Iv23.app".into());
    let err = Config::from_source(&e).unwrap_err().to_string();
    assert!(
        err.starts_with("GITHUB_APP_CLIENT_SECRET is malformed"),
        "{err}"
    );
    e.insert("GITHUB_APP_CLIENT_SECRET".into(), "app-secret".into());
    let c = Config::from_source(&e).unwrap();
    assert_eq!(c.github.app_client_id.as_deref(), Some("Iv23.app"));
    assert!(
        c.github.oauth_client_id.is_none(),
        "the OAuth App stays unset"
    );
    let mut e = env(&base);
    e.insert("GITHUB_OAUTH_CLIENT_SECRET".into(), "s".into());
    let err = Config::from_source(&e).unwrap_err().to_string();
    assert!(
        err.starts_with("GITHUB_OAUTH_CLIENT_ID is malformed"),
        "{err}"
    );
}

#[test]
fn a_private_key_with_escaped_newlines_is_read_as_pem() {
    use secrecy::ExposeSecret;
    let mut e = env(&[
        ("DATABASE_URL", "postgres://localhost/x"),
        ("GITHUB_APP_ID", "42"),
    ]);
    e.insert(
        "GITHUB_APP_PRIVATE_KEY".into(),
        "-----BEGIN RSA PRIVATE KEY-----\\nMIIB\\n-----END RSA PRIVATE KEY-----\\n".into(),
    );
    let c = Config::from_source(&e).unwrap();
    let key = c.github.app_private_key.unwrap();
    assert_eq!(
        key.expose_secret(),
        "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n"
    );
}

#[test]
fn the_queue_pool_comes_out_of_the_worker_budget() {
    let w = WorkerConfig::from_source(&env(&[])).unwrap();
    assert_eq!(w.queue_connections, 4);
    assert_eq!(w.handler_connections(20).unwrap(), 16);
    let w = WorkerConfig::from_source(&env(&[("WORKER_QUEUE_CONNECTIONS", "2")])).unwrap();
    assert_eq!(w.handler_connections(4).unwrap(), 2);
    let err = w.handler_connections(2).unwrap_err().to_string();
    assert!(
        err.starts_with("DATABASE_MAX_CONNECTIONS is malformed"),
        "{err}"
    );
    let err = WorkerConfig::from_source(&env(&[("WORKER_QUEUE_CONNECTIONS", "0")]))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("WORKER_QUEUE_CONNECTIONS is malformed"),
        "{err}"
    );
}

#[test]
fn claim_streams_default_to_one_and_never_exceed_the_concurrency() {
    let w = WorkerConfig::from_source(&env(&[])).unwrap();
    assert_eq!(w.fetchers(crate::jobs::Queue::NOOP), 1);
    let w = WorkerConfig::from_source(&env(&[
        ("JOB_FETCHERS_NOOP", "4"),
        ("JOB_FETCHERS_PROBE", "9"),
        ("JOB_CONCURRENCY_PROBE", "3"),
    ]))
    .unwrap();
    assert_eq!(w.fetchers(crate::jobs::Queue::NOOP), 4);
    assert_eq!(w.fetchers(crate::jobs::Queue::PROBE), 3);
    assert_eq!(w.fetchers(crate::jobs::Queue::PRUNE_JOBS), 1);
    let err = WorkerConfig::from_source(&env(&[("JOB_FETCHERS_NOOP", "0")])).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("JOB_FETCHERS_NOOP is malformed"),
        "{err}"
    );
}
