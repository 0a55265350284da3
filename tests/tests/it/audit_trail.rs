//! The audit trail of sensitive actions: repository settings, webhook replay, super-admin changes
//! and key rotation from the CLI, and members refused by their role (`authz.denied`).

use axum::http::Method;
use common::crypto::keyring::{Binding, Keyring, SealedColumn};
use repopal_tests::{
    TestApp, app::ErrorEnvelope, auth::Session, http::TEST_ENCRYPTION_KEYS, process::spawn,
    shapes::Page,
};
use secrecy::SecretString;
use serde_json::{Value, json};

async fn add_member(app: &TestApp, admin: &Session, org: &str, email: &str, role: &str) -> Session {
    let _: Value = app
        .caller(Some(admin))
        .in_org(org)
        .call(
            Method::POST,
            "invitations",
            Some(json!({"email": email, "role": role})),
            201,
        )
        .await;
    let body: String = sqlx::query_scalar(
        "SELECT body FROM email_outbox WHERE to_address = $1 AND body LIKE '%rpi\\_%'
         ORDER BY created_at DESC LIMIT 1",
    )
    .bind(email)
    .fetch_one(&app.db.pool)
    .await
    .expect("the mailed body");
    let token = body
        .lines()
        .filter_map(|l| l.rsplit_once(": ").map(|(_, t)| t.trim().to_owned()))
        .find(|t| t.starts_with("rpi_"))
        .expect("an invitation token");
    let user = app.register(email, None).await;
    app.accept_invitation(&user, &token).await;
    user
}

/// The organisation's audit entries with this action, newest first, through the API.
async fn entries(app: &TestApp, admin: &Session, org: &str, action: &str) -> Vec<Value> {
    let page: Page = app
        .caller(Some(admin))
        .in_org(org)
        .call(
            Method::GET,
            &format!("audit-logs?action={action}&limit=200"),
            None,
            200,
        )
        .await;
    page.items
}

async fn insert_repository(app: &TestApp, org: &str) -> String {
    sqlx::query_scalar(
        "INSERT INTO repositories (org_id, github_id, full_name) VALUES ($1::uuid, 4711, 'acme/audited')
         RETURNING id::text",
    )
    .bind(org)
    .fetch_one(&app.db.pool)
    .await
    .expect("the repository row")
}

#[tokio::test]
async fn a_repository_settings_change_is_audited_with_old_and_new_values() {
    let app = TestApp::builder().build().await;
    let admin = app
        .register("repo-audit@example.com", Some("Settings"))
        .await;
    let org = admin.first_org();
    let repo = insert_repository(&app, &org).await;
    let url = format!("/api/v1/orgs/{org}/repositories/{repo}");
    let patch = |body: Value| {
        let (caller, url) = (app.caller(Some(&admin)), &url);
        async move {
            let _: Value = caller.call(Method::PATCH, url, Some(body), 200).await;
        }
    };
    patch(json!({"auto_incident": false, "slack_channels": ["#ops"]})).await;
    patch(json!({"slack_channels": ["#ops"]})).await;

    let log = entries(&app, &admin, &org, "repository.settings_update").await;
    assert_eq!(log.len(), 2, "{log:?}");
    let (unchanged, changed) = (&log[0], &log[1]);
    assert_eq!(changed["actor_user_id"], admin.user_id.as_str());
    assert_eq!(changed["resource_type"], "repository");
    assert_eq!(changed["resource_id"], repo.as_str());
    assert_eq!(changed["status"], "success");
    assert_eq!(
        changed["metadata"]["changes"],
        json!({
            "auto_incident": {"from": true, "to": false},
            "slack_channels": {"from": [], "to": ["#ops"]},
        })
    );
    assert_eq!(changed["metadata"]["full_name"], "acme/audited");
    assert_eq!(unchanged["metadata"]["changes"], json!({}));

    // Another org's repository id is 404 and leaves nothing.
    let other = app
        .register("repo-other@example.com", Some("Other Settings"))
        .await;
    let _: ErrorEnvelope = app
        .caller(Some(&other))
        .call(
            Method::PATCH,
            &format!("/api/v1/orgs/{}/repositories/{repo}", other.first_org()),
            Some(json!({"auto_incident": true})),
            404,
        )
        .await;
    assert_eq!(
        entries(&app, &admin, &org, "repository.settings_update")
            .await
            .len(),
        2
    );
}

#[tokio::test]
async fn a_webhook_replay_is_audited() {
    let app = TestApp::builder().build().await;
    let admin = app
        .register("replay-audit@example.com", Some("Replay"))
        .await;
    let org = admin.first_org();
    let id = uuid::Uuid::new_v4();
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, delivery_id, event, org_id, payload, status)
         VALUES ($1, 'd-1', 'ping', $2::uuid, '\\x7b7d', 'processed')",
    )
    .bind(id)
    .bind(&org)
    .execute(&app.db.pool)
    .await
    .unwrap();
    let replay: Value = app
        .caller(Some(&admin))
        .in_org(&org)
        .call(
            Method::POST,
            &format!("webhook-deliveries/{id}/replay"),
            None,
            202,
        )
        .await;
    let job = replay["job_id"].clone();
    let log = entries(&app, &admin, &org, "webhook.replay").await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["actor_user_id"], admin.user_id.as_str());
    assert_eq!(log[0]["resource_type"], "webhook_delivery");
    assert_eq!(log[0]["resource_id"], id.to_string());
    assert_eq!(log[0]["metadata"]["job_id"], job);
}

/// A 403 answer (its status asserted by the call) that says `forbidden`.
fn forbidden(e: &ErrorEnvelope) -> bool {
    e.error.code == "forbidden"
}

#[tokio::test]
async fn a_member_refused_by_their_role_leaves_an_authz_denied_entry() {
    let app = TestApp::builder().build().await;
    let admin = app
        .register("deny-admin@example.com", Some("Denials"))
        .await;
    let org = admin.first_org();
    let viewer = add_member(&app, &admin, &org, "deny-viewer@example.com", "viewer").await;
    let outsider = app
        .register("deny-out@example.com", Some("Elsewhere"))
        .await;
    let invitation = uuid::Uuid::new_v4();

    let path = format!("/api/v1/orgs/{org}/invitations/{invitation}");
    let e: ErrorEnvelope = app
        .caller(Some(&viewer))
        .call(Method::DELETE, &path, None, 403)
        .await;
    assert!(forbidden(&e), "{e:?}");
    // A non-member learns nothing and leaves nothing in this organisation's log.
    let _: ErrorEnvelope = app
        .caller(Some(&outsider))
        .call(Method::DELETE, &path, None, 404)
        .await;

    let log = entries(&app, &admin, &org, "authz.denied").await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["actor_user_id"], viewer.user_id.as_str());
    assert_eq!(log[0]["status"], "failure");
    assert_eq!(
        log[0]["metadata"],
        json!({
            "permission": "members_manage",
            "role": "viewer",
            "method": "DELETE",
            "route": "/api/v1/orgs/{org_id}/invitations/{invitation_id}",
        }),
        "the route template, never the concrete path"
    );
}

#[tokio::test]
async fn recording_a_denial_never_turns_the_403_into_a_500_even_under_a_flood() {
    let app = TestApp::builder().build().await;
    let admin = app.register("flood-admin@example.com", Some("Flood")).await;
    let org = admin.first_org();
    let viewer = add_member(&app, &admin, &org, "flood-viewer@example.com", "viewer").await;
    let url = format!("/api/v1/orgs/{org}/audit-logs");

    // A flood of refused requests at once: every one is a 403, none a 500.
    let as_viewer = app.caller(Some(&viewer));
    let calls = (0..40).map(|_| as_viewer.call::<ErrorEnvelope>(Method::GET, &url, None, 403));
    let results = futures::future::join_all(calls).await;
    assert!(results.iter().all(forbidden));
    let recorded = entries(&app, &admin, &org, "authz.denied").await.len();
    assert!((1..=40).contains(&recorded), "{recorded}");

    // The audit table refuses the write: the refusal is still a clean 403.
    sqlx::raw_sql(
        "CREATE FUNCTION refuse_denials() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN IF NEW.action = 'authz.denied' THEN RAISE EXCEPTION 'audit write refused'; END IF;
         RETURN NEW; END $$;
         CREATE TRIGGER refuse_denials BEFORE INSERT ON audit_logs
         FOR EACH ROW EXECUTE FUNCTION refuse_denials();",
    )
    .execute(&app.db.pool)
    .await
    .unwrap();
    let e: ErrorEnvelope = as_viewer.call(Method::GET, &url, None, 403).await;
    assert!(forbidden(&e), "{e:?}");
    assert_eq!(
        entries(&app, &admin, &org, "authz.denied").await.len(),
        recorded
    );
}

/// All audit entries with this action, oldest first, from the table (CLI entries have no org).
async fn table_entries(
    app: &TestApp,
    action: &str,
) -> Vec<(Option<String>, Option<String>, Option<String>, Value)> {
    sqlx::query_as(
        "SELECT org_id::text, actor_user_id::text, resource_id, metadata FROM audit_logs
         WHERE action = $1 ORDER BY id",
    )
    .bind(action)
    .fetch_all(&app.db.pool)
    .await
    .expect("the audit rows")
}

async fn cli(app: &TestApp, args: &[&str], keys: &str, active: Option<&str>) -> String {
    let mut env = vec![
        ("DATABASE_URL", app.db.url.as_str()),
        ("ENCRYPTION_KEYS", keys),
    ];
    if let Some(active) = active {
        env.push(("ENCRYPTION_ACTIVE_KEY_ID", active));
    }
    let mut p = spawn("repopal-api", args, &env);
    let ok = p.child.wait().await.expect("the CLI ran").success();
    let log = p.log_text();
    assert!(ok, "{log}");
    log
}

#[tokio::test]
async fn super_admin_grant_and_revoke_by_the_cli_are_audited() {
    let app = TestApp::builder().build().await;
    let ops = app.register("ops-audit@example.com", None).await;
    let grant = ["super-admin", "--email", "ops-audit@example.com"];
    cli(&app, &grant, TEST_ENCRYPTION_KEYS, None).await;
    let revoke = [
        "super-admin",
        "--email",
        "ops-audit@example.com",
        "--revoke",
    ];
    cli(&app, &revoke, TEST_ENCRYPTION_KEYS, None).await;

    for (action, was) in [
        ("platform.super_admin_grant", false),
        ("platform.super_admin_revoke", true),
    ] {
        let rows = table_entries(&app, action).await;
        assert_eq!(rows.len(), 1, "{action}: {rows:?}");
        let (org, actor, resource, meta) = &rows[0];
        assert_eq!(
            (org, actor),
            (&None, &None),
            "no org, no actor: the CLI did it"
        );
        assert_eq!(resource.as_deref(), Some(ops.user_id.as_str()));
        assert_eq!(meta["via"], "cli");
        assert_eq!(meta["email"], "ops-audit@example.com");
        assert_eq!(meta["was_super_admin"], was);
    }
    let flag: bool = sqlx::query_scalar("SELECT is_super_admin FROM users WHERE id = $1::uuid")
        .bind(&ops.user_id)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert!(!flag);
}

#[tokio::test]
async fn each_key_rotation_run_leaves_one_audit_entry_with_the_counts() {
    const K2: &str = "k2:05xFfbuUzxY3VKihpNAoCYS6pETIQJBbx8qxXf849xU=";
    let app = TestApp::builder().build().await;
    let owner = app
        .register("rot-audit@example.com", Some("Rotation"))
        .await;
    let old = Keyring::parse(&SecretString::from(TEST_ENCRYPTION_KEYS.to_owned()), None).unwrap();
    let sealed = old
        .seal(
            Binding::new(SealedColumn::RepositoryHookSecret, "7"),
            &SecretString::from("hook-secret-7".to_owned()),
        )
        .unwrap();
    sqlx::query("INSERT INTO github_repository_hooks (hook_id, org_id, repository_id, secret_sealed) VALUES (7, $1::uuid, 1, $2)")
        .bind(owner.first_org())
        .bind(sealed)
        .execute(&app.db.pool)
        .await
        .unwrap();
    let keys = format!("{TEST_ENCRYPTION_KEYS},{K2}");
    for _ in 0..2 {
        cli(&app, &["keys", "rotate"], &keys, Some("k2")).await;
    }
    let rows = table_entries(&app, "keys.rotate").await;
    assert_eq!(rows.len(), 2, "one entry per run: {rows:?}");
    let counts: Vec<(Value, Value, Value)> = rows
        .iter()
        .map(|(_, _, _, m)| {
            (
                m["resealed"].clone(),
                m["failed"].clone(),
                m["remaining"].clone(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        vec![
            (json!(1), json!(0), json!(0)),
            (json!(0), json!(0), json!(0))
        ]
    );
    for (org, actor, _, meta) in &rows {
        assert_eq!((org, actor), (&None, &None));
        assert_eq!(meta["via"], "cli");
        assert_eq!(meta["active_key_id"], "k2");
        assert_eq!(meta["complete"], true);
        let text = meta.to_string();
        assert!(
            !text.contains("HxwdHhsc")
                && !text.contains("AAECAwQF")
                && !text.contains("hook-secret"),
            "no key material or secrets: {text}"
        );
    }
}
