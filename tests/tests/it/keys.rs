//! Key rotation: `repopal-api keys rotate` re-seals every stored secret with the active key.

use common::crypto::keyring::{Binding, Keyring, SealedColumn};
use repopal_tests::{TestApp, http::TEST_ENCRYPTION_KEYS, process::spawn};
use secrecy::{ExposeSecret, SecretString};

const K2: &str = "k2:05xFfbuUzxY3VKihpNAoCYS6pETIQJBbx8qxXf849xU=";

fn ring(spec: &str, active: Option<&str>) -> Keyring {
    Keyring::parse(&SecretString::from(spec.to_owned()), active).expect("the keyring spec parses")
}

async fn rotate(app: &TestApp) -> (bool, serde_json::Value, String) {
    let keys = format!("{TEST_ENCRYPTION_KEYS},{K2}");
    let mut p = spawn(
        "repopal-api",
        &["keys", "rotate", "--batch", "2"],
        &[
            ("DATABASE_URL", &app.db.url),
            ("ENCRYPTION_KEYS", &keys),
            ("ENCRYPTION_ACTIVE_KEY_ID", "k2"),
        ],
    );
    let ok = p
        .child
        .wait()
        .await
        .expect("waiting for the rotate process works")
        .success();
    let log = p.log_text();
    // The pretty-printed report (stdout) sits among one-line JSON log records (stderr).
    let start = log.find("{\n  \"active_key_id\"").expect("a JSON report");
    let end = start + log[start..].find("\n}").expect("report end") + 2;
    (
        ok,
        serde_json::from_str(&log[start..end]).expect("report parses"),
        log,
    )
}

fn column<'a>(report: &'a serde_json::Value, table: &str, column: &str) -> &'a serde_json::Value {
    report["columns"]
        .as_array()
        .expect("the report lists columns")
        .iter()
        .find(|c| c["table"] == table && c["column"] == column)
        .expect("the report lists the column")
}

#[tokio::test]
async fn rotation_reseals_everything_and_reports_what_it_could_not() {
    let app = TestApp::builder().build().await;
    let owner = app.register("keys@example.com", Some("Kilo")).await;
    let old = ring(TEST_ENCRYPTION_KEYS, None);
    for hook in 1..=5i64 {
        let id = hook.to_string();
        let sealed = old
            .seal(
                Binding::new(SealedColumn::RepositoryHookSecret, &id),
                &SecretString::from(format!("hook-secret-{hook}")),
            )
            .unwrap();
        sqlx::query("INSERT INTO github_repository_hooks (hook_id, org_id, repository_id, secret_sealed) VALUES ($1, $2::uuid, 1, $3)")
            .bind(hook)
            .bind(owner.first_org())
            .bind(sealed)
            .execute(&app.db.pool)
            .await
            .unwrap();
    }
    let conn = uuid::Uuid::new_v4();
    let token = old
        .seal(
            Binding::new(SealedColumn::OauthAccessToken, &conn.to_string()),
            &SecretString::from("gho_rotate_me".to_owned()),
        )
        .unwrap();
    sqlx::query(
        "INSERT INTO oauth_connections (id, user_id, provider, provider_user_id, login, access_token_sealed)
         VALUES ($1, $2::uuid, 'github', '1', 'octocat', $3)",
    )
    .bind(conn)
    .bind(&owner.user_id)
    .bind(token)
    .execute(&app.db.pool)
    .await
    .unwrap();
    let inst = old
        .seal(
            Binding::new(SealedColumn::InstallationToken, "77"),
            &SecretString::from("ghs_installation".to_owned()),
        )
        .unwrap();
    sqlx::query("INSERT INTO github_installation_tokens (installation_id, token_sealed, expires_at) VALUES (77, $1, now() + interval '1 hour')")
        .bind(inst)
        .execute(&app.db.pool)
        .await
        .unwrap();
    // A hook secret waiting for GitHub's answer (it was left out of rotation before the closed set).
    let pending = uuid::Uuid::new_v4();
    let sealed_pending = old
        .seal(
            Binding::new(SealedColumn::PendingHookSecret, &pending.to_string()),
            &SecretString::from("pending-secret".to_owned()),
        )
        .unwrap();
    sqlx::query("INSERT INTO github_pending_hook_secrets (id, org_id, repository_id, secret_sealed) VALUES ($1, $2::uuid, 1, $3)")
        .bind(pending)
        .bind(owner.first_org())
        .bind(sealed_pending)
        .execute(&app.db.pool)
        .await
        .unwrap();
    // One value that cannot open (tampered).
    sqlx::query("INSERT INTO github_repository_hooks (hook_id, org_id, repository_id, secret_sealed) VALUES (99, $1::uuid, 1, 'v1.k1.AAAAtampered')")
        .bind(owner.first_org())
        .execute(&app.db.pool)
        .await
        .unwrap();

    let (ok, report, log) = rotate(&app).await;
    assert!(!ok, "an unopenable value makes the run fail: {log}");
    let hooks = column(&report, "github_repository_hooks", "secret_sealed");
    assert_eq!(
        (
            hooks["resealed"].as_u64(),
            hooks["failed"].as_u64(),
            hooks["remaining"].as_i64()
        ),
        (Some(5), Some(1), Some(1))
    );
    assert_eq!(
        column(&report, "oauth_connections", "access_token_sealed")["resealed"],
        1
    );

    // Everything that opened is now on k2 and opens with k2 alone.
    let only_k2 = ring(K2, None);
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT hook_id, secret_sealed FROM github_repository_hooks WHERE hook_id <> 99",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    for (id, sealed) in rows {
        assert!(sealed.starts_with("v1.k2."), "{sealed}");
        let plain = only_k2
            .open(
                Binding::new(SealedColumn::RepositoryHookSecret, &id.to_string()),
                &sealed,
            )
            .unwrap();
        assert_eq!(plain.expose_secret(), format!("hook-secret-{id}"));
    }
    let sealed: String = sqlx::query_scalar("SELECT access_token_sealed FROM oauth_connections")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let plain = only_k2
        .open(
            Binding::new(SealedColumn::OauthAccessToken, &conn.to_string()),
            &sealed,
        )
        .unwrap();
    assert_eq!(plain.expose_secret(), "gho_rotate_me");
    let inst: String = sqlx::query_scalar("SELECT token_sealed FROM github_installation_tokens")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let plain = only_k2
        .open(Binding::new(SealedColumn::InstallationToken, "77"), &inst)
        .unwrap();
    assert_eq!(
        plain.expose_secret(),
        "ghs_installation",
        "installation tokens are rotated too"
    );

    let sealed: String =
        sqlx::query_scalar("SELECT secret_sealed FROM github_pending_hook_secrets")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    let plain = only_k2
        .open(
            Binding::new(SealedColumn::PendingHookSecret, &pending.to_string()),
            &sealed,
        )
        .unwrap();
    assert_eq!(
        plain.expose_secret(),
        "pending-secret",
        "pending hook secrets are rotated"
    );

    // Once the bad value is dealt with, a rerun completes and has nothing else to do.
    sqlx::query("DELETE FROM github_repository_hooks WHERE hook_id = 99")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let (ok, report, log) = rotate(&app).await;
    assert!(ok, "{log}");
    assert_eq!(
        column(&report, "github_repository_hooks", "secret_sealed")["resealed"],
        0
    );
    assert!(
        !log.contains("gho_rotate_me") && !log.contains("hook-secret-"),
        "no secret is printed"
    );
}

#[tokio::test]
async fn every_sealed_column_of_the_schema_is_in_the_closed_set_rotation_walks() {
    let app = TestApp::builder().build().await;
    let mut in_schema: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns
         WHERE table_schema = 'public' AND column_name LIKE '%\\_sealed' ORDER BY 1, 2",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    let mut known: Vec<(String, String)> = SealedColumn::ALL
        .iter()
        .map(|c| (c.table().to_owned(), c.column().to_owned()))
        .collect();
    in_schema.sort();
    known.sort();
    assert_eq!(
        in_schema, known,
        "a sealed column missing from SealedColumn::ALL would be skipped by key rotation"
    );
}
