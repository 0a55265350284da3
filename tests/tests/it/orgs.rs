//! Organisations, members, roles and the audit log; tenancy checked on every org route.

use axum::http::Method;
use repopal_tests::{
    TestApp,
    app::ErrorEnvelope,
    auth::Session,
    shapes::{Created, Page, field_errors},
};
use serde::Deserialize;
use serde_json::{Value, json};

/// An organisation as the API answers it (also as the user's `organizations` list it).
#[derive(Debug, Deserialize)]
struct Org {
    id: String,
    slug: String,
    name: String,
    /// The caller's role in it.
    role: String,
}

/// The signed-in user's organisations, as `/api/v1/auth/me` answers.
#[derive(Deserialize)]
struct Me {
    organizations: Vec<Org>,
}

/// A member of an organisation as the API answers it.
#[derive(Deserialize)]
struct Member {
    email: String,
    role: String,
}

/// An audit-log entry as the API answers it.
#[derive(Debug, Deserialize)]
struct AuditEntry {
    id: i64,
    action: String,
    user_agent: Option<String>,
    status: String,
}

/// Every organisation route the router serves (from the generated OpenAPI document, which is built
/// from the same route list as the router), with its method.
fn org_routes() -> Vec<(Method, String)> {
    let doc =
        serde_json::to_value(repopal_api::openapi()).expect("the OpenAPI document serialises");
    let mut routes = Vec::new();
    for (path, item) in doc["paths"]
        .as_object()
        .expect("the OpenAPI document has paths")
    {
        if !path.contains("{org_id}") {
            continue;
        }
        for method in item
            .as_object()
            .expect("each path item is an object")
            .keys()
        {
            if let Ok(m) = method.to_uppercase().parse::<Method>() {
                routes.push((m, path.clone()));
            }
        }
    }
    assert!(
        routes.len() >= 8,
        "expected the org routes, found {routes:?}"
    );
    routes
}

/// The path with `{org_id}` set, `{user_id}` set to a real member of that organisation (so only
/// the tenancy check can refuse), and any other id random.
fn fill(path: &str, org: &str, member: &str) -> String {
    let mut out = path.replace("{org_id}", org).replace("{user_id}", member);
    while let Some(start) = out.find('{') {
        let end = out[start..]
            .find('}')
            .expect("every path parameter is closed by a brace")
            + start;
        out.replace_range(start..=end, &uuid::Uuid::new_v4().to_string());
    }
    out
}

pub(crate) async fn add_member(
    app: &TestApp,
    admin: &Session,
    org: &str,
    email: &str,
    role: &str,
) -> Session {
    let _: Created = app
        .caller(Some(admin))
        .in_org(org)
        .call(
            Method::POST,
            "invitations",
            Some(json!({"email": email, "role": role})),
            201,
        )
        .await;
    let user = app.register(email, None).await;
    let token = app.mailed_token(email).await; // newest mail to them: the invitation (sent first) or verification
    let token = if token.starts_with("rpi_") {
        token
    } else {
        invitation_token(app, email).await
    };
    app.accept_invitation(&user, &token).await;
    user
}

async fn invitation_token(app: &TestApp, email: &str) -> String {
    let bodies: Vec<String> = sqlx::query_scalar(
        "SELECT body FROM email_outbox WHERE to_address = $1 ORDER BY created_at",
    )
    .bind(email)
    .fetch_all(&app.db.pool)
    .await
    .expect("the outbox query runs");
    bodies
        .iter()
        .flat_map(|b| b.lines())
        .find_map(|l| {
            l.rsplit_once(": ")
                .map(|(_, t)| t.trim().to_owned())
                .filter(|t| t.starts_with("rpi_"))
        })
        .expect("an invitation token")
}

#[tokio::test]
async fn a_non_member_gets_404_on_every_org_route_and_a_member_without_permission_403() {
    let app = TestApp::builder().build().await;
    let alice = app.register("alice@example.com", Some("Alpha")).await;
    let bob = app.register("bob@example.com", Some("Bravo")).await;
    let bravo = bob.first_org();
    let viewer = add_member(&app, &bob, &bravo, "vic@example.com", "viewer").await;

    let (as_alice, as_viewer) = (app.caller(Some(&alice)), app.caller(Some(&viewer)));
    for (method, path) in org_routes() {
        let url = fill(&path, &bravo, &bob.user_id);
        // As a non-member.
        let e: ErrorEnvelope = as_alice
            .call(method.clone(), &url, Some(json!({})), 404)
            .await;
        assert_eq!(e.error.code, "not_found", "{method} {path}");
        // For an unknown org.
        let missing = fill(&path, &uuid::Uuid::new_v4().to_string(), &bob.user_id);
        let _: ErrorEnvelope = as_alice
            .call(method.clone(), &missing, Some(json!({})), 404)
            .await;
        // Without a token.
        let _: ErrorEnvelope = app
            .caller(None)
            .call(method.clone(), &url, Some(json!({})), 401)
            .await;
        // A viewer may read but not manage: admin routes answer 403, never touch anything.
        // Per the permission matrix, a viewer may use every GET except these.
        let admin_reads = [
            "/audit-logs",
            "/webhook-deliveries",
            "/github/install",
            "/slack/authorize",
        ];
        let viewer_may = method == Method::GET
            && !admin_reads.iter().any(|suffix| path.ends_with(suffix))
            && !path.contains("/integrations");
        if viewer_may {
            // Any answer but 403 (what a read answers depends on the route), so the raw one.
            let res = as_viewer.send(method.clone(), &url, Some(json!({}))).await;
            assert_ne!(res.status, 403, "{method} {path} is readable by a viewer");
        } else {
            // It needs more than viewer.
            let e: ErrorEnvelope = as_viewer
                .call(method.clone(), &url, Some(json!({})), 403)
                .await;
            assert_eq!(e.error.code, "forbidden", "{method} {path}");
        }
    }
    // Bravo is untouched.
    let org: Org = app
        .caller(Some(&bob))
        .call(Method::GET, &format!("/api/v1/orgs/{bravo}"), None, 200)
        .await;
    assert_eq!(org.name, "Bravo");
}

#[tokio::test]
async fn organisations_can_be_created_listed_updated_and_deleted() {
    let app = TestApp::builder().build().await;
    let s = app.register("owner@example.com", None).await;
    let owner = app.caller(Some(&s));
    let org: Org = owner
        .call(
            Method::POST,
            "/api/v1/orgs",
            Some(json!({"name": "Delta Ops"})),
            201,
        )
        .await;
    assert_eq!(
        (org.slug.as_str(), org.role.as_str()),
        ("delta-ops", "org_admin")
    );
    let id = org.id;
    let again: Org = owner
        .call(
            Method::POST,
            "/api/v1/orgs",
            Some(json!({"name": "Delta Ops"})),
            201,
        )
        .await;
    assert_eq!(again.slug, "delta-ops-2", "a free slug is chosen");
    let taken: ErrorEnvelope = owner
        .call(
            Method::POST,
            "/api/v1/orgs",
            Some(json!({"name": "X", "slug": "delta-ops"})),
            409,
        )
        .await;
    assert_eq!(taken.error.code, "slug_taken");
    let bad: Value = owner
        .call(
            Method::POST,
            "/api/v1/orgs",
            Some(json!({"name": "", "slug": "Bad Slug"})),
            422,
        )
        .await;
    assert!(field_errors(&bad).contains_key("slug"));
    // A slug that reads as an organisation id would make `/orgs/{id-or-slug}` name two of them.
    for uuid_shaped in [
        "0b0a8d3e-6f7c-4c3e-9a1d-2b9f1f0c7e55",
        "0b0a8d3e6f7c4c3e9a1d2b9f1f0c7e55",
    ] {
        let bad: Value = owner
            .call(
                Method::POST,
                "/api/v1/orgs",
                Some(json!({"name": "Lookalike", "slug": uuid_shaped})),
                422,
            )
            .await;
        assert!(field_errors(&bad).contains_key("slug"), "{uuid_shaped}");
    }

    let list: Page<Org> = owner.call(Method::GET, "/api/v1/orgs", None, 200).await;
    assert_eq!(list.items.len(), 2);
    assert_eq!(list.next_cursor, None);
    let renamed: Org = owner
        .call(
            Method::PATCH,
            &format!("/api/v1/orgs/{id}"),
            Some(json!({"name": "Delta"})),
            200,
        )
        .await;
    assert_eq!(renamed.name, "Delta");
    let _: Value = owner
        .call(Method::DELETE, &format!("/api/v1/orgs/{id}"), None, 200)
        .await;
    let _: ErrorEnvelope = owner
        .call(Method::GET, &format!("/api/v1/orgs/{id}"), None, 404)
        .await;
}

#[tokio::test]
async fn members_are_invited_promoted_and_removed_but_the_last_admin_stays() {
    let app = TestApp::builder().build().await;
    let admin = app.register("root@example.com", Some("Echo")).await;
    let org = admin.first_org();
    let dev = add_member(&app, &admin, &org, "dev@example.com", "developer").await;

    let (as_admin, as_dev) = (
        app.caller(Some(&admin)).in_org(&org),
        app.caller(Some(&dev)).in_org(&org),
    );
    let members: Page<Member> = as_dev.call(Method::GET, "members", None, 200).await;
    let roles: Vec<(&str, &str)> = members
        .items
        .iter()
        .map(|m| (m.email.as_str(), m.role.as_str()))
        .collect();
    // Newest first.
    assert_eq!(
        roles,
        vec![
            ("dev@example.com", "developer"),
            ("root@example.com", "org_admin")
        ]
    );

    // The last admin can neither be demoted nor removed.
    let (admin_path, dev_path) = (
        format!("members/{}", admin.user_id),
        format!("members/{}", dev.user_id),
    );
    let demote: ErrorEnvelope = as_admin
        .call(
            Method::PATCH,
            &admin_path,
            Some(json!({"role": "viewer"})),
            409,
        )
        .await;
    assert_eq!(demote.error.code, "last_admin");
    let _: ErrorEnvelope = as_admin.call(Method::DELETE, &admin_path, None, 409).await;

    // Promote the developer; now the first admin may step down.
    let _: Member = as_admin
        .call(
            Method::PATCH,
            &dev_path,
            Some(json!({"role": "org_admin"})),
            200,
        )
        .await;
    let _: ErrorEnvelope = as_admin
        .call(
            Method::PATCH,
            &dev_path,
            Some(json!({"role": "owner"})),
            422,
        )
        .await;
    let _: Member = as_dev
        .call(
            Method::PATCH,
            &admin_path,
            Some(json!({"role": "viewer"})),
            200,
        )
        .await;
    let _: Value = as_dev.call(Method::DELETE, &admin_path, None, 200).await;
    let _: ErrorEnvelope = app
        .caller(Some(&admin))
        .call(Method::GET, &format!("/api/v1/orgs/{org}"), None, 404)
        .await;
}

#[tokio::test]
async fn an_invitation_is_single_use_and_for_its_addressee_only() {
    let app = TestApp::builder().build().await;
    let admin = app.register("boss@example.com", Some("Foxtrot")).await;
    let org = admin.first_org();
    let _: Created = app
        .caller(Some(&admin))
        .in_org(&org)
        .call(
            Method::POST,
            "invitations",
            Some(json!({"email": "invitee@example.com", "role": "team_lead"})),
            201,
        )
        .await;
    let token = invitation_token(&app, "invitee@example.com").await;
    let accept = json!({"token": token});
    let stranger = app.register("stranger@example.com", None).await;
    let wrong: ErrorEnvelope = app
        .caller(Some(&stranger))
        .call(
            Method::POST,
            "/api/v1/invitations/accept",
            Some(accept.clone()),
            403,
        )
        .await;
    assert_eq!(wrong.error.code, "invitation_email_mismatch");
    let invitee = app.register("invitee@example.com", None).await;
    let as_invitee = app.caller(Some(&invitee));
    // The refused attempt did not use the invitation up.
    let _: Value = as_invitee
        .call(
            Method::POST,
            "/api/v1/invitations/accept",
            Some(accept.clone()),
            200,
        )
        .await;
    let _: ErrorEnvelope = as_invitee
        .call(
            Method::POST,
            "/api/v1/invitations/accept",
            Some(accept),
            400,
        )
        .await;
    let me: Me = as_invitee
        .call(Method::GET, "/api/v1/auth/me", None, 200)
        .await;
    assert_eq!(me.organizations[0].role, "team_lead");
}

#[tokio::test]
async fn the_audit_log_records_events_and_pages_with_filters() {
    let app = TestApp::builder().build().await;
    let admin = app.register("audit@example.com", Some("Golf")).await;
    let org = admin.first_org();
    for i in 0..3 {
        add_member(
            &app,
            &admin,
            &org,
            &format!("m{i}@example.com"),
            "developer",
        )
        .await;
    }
    let as_admin = app.caller(Some(&admin)).in_org(&org);
    let url = |q: &str| format!("audit-logs{q}");
    let all: Page<AuditEntry> = as_admin.call(Method::GET, &url(""), None, 200).await;
    let actions: Vec<&str> = all.items.iter().map(|e| e.action.as_str()).collect();
    assert!(
        actions.contains(&"org.create")
            && actions.contains(&"member.invite")
            && actions.contains(&"member.join"),
        "{actions:?}"
    );
    let entry = &all.items[0];
    assert_eq!(entry.user_agent.as_deref(), Some("repopal-tests/1.0"));
    assert_eq!(entry.status, "success");

    let page1: Page<AuditEntry> = as_admin
        .call(
            Method::GET,
            &url("?action=member.invite&limit=2"),
            None,
            200,
        )
        .await;
    assert_eq!(page1.items.len(), 2);
    let cursor = page1.next_cursor.as_deref().expect("a next page");
    let page2: Page<AuditEntry> = as_admin
        .call(
            Method::GET,
            &url(&format!("?action=member.invite&limit=2&cursor={cursor}")),
            None,
            200,
        )
        .await;
    assert_eq!(page2.items.len(), 1);
    assert!(page2.next_cursor.is_none());
    assert!(
        page2.items[0].id < page1.items[1].id,
        "older entries on later pages"
    );

    let by_actor: Page<AuditEntry> = as_admin
        .call(
            Method::GET,
            &url(&format!("?actor={}&action=org.create", admin.user_id)),
            None,
            200,
        )
        .await;
    assert_eq!(by_actor.items.len(), 1);
    let future: Page<AuditEntry> = as_admin
        .call(Method::GET, &url("?from=2999-01-01T00:00:00Z"), None, 200)
        .await;
    assert!(future.items.is_empty());
    let bad: ErrorEnvelope = as_admin
        .call(Method::GET, &url("?limit=0"), None, 400)
        .await;
    assert_eq!(bad.error.code, "invalid_query");
    let _: ErrorEnvelope = as_admin
        .call(Method::GET, &url("?from=yesterday"), None, 400)
        .await;
}

#[tokio::test]
async fn a_super_admin_granted_by_the_cli_acts_as_admin_in_every_org() {
    let app = TestApp::builder().build().await;
    let owner = app.register("owner2@example.com", Some("India")).await;
    let org = owner.first_org();
    let ops = app.register("ops@example.com", None).await;
    let as_ops = app.caller(Some(&ops));
    let _: ErrorEnvelope = as_ops
        .call(Method::GET, &format!("/api/v1/orgs/{org}"), None, 404)
        .await;

    let mut cli = repopal_tests::process::spawn(
        "repopal-api",
        &["super-admin", "--email", "ops@example.com"],
        &[
            ("DATABASE_URL", &app.db.url),
            ("ENCRYPTION_KEYS", repopal_tests::http::TEST_ENCRYPTION_KEYS),
        ],
    );
    assert!(
        cli.child.wait().await.unwrap().success(),
        "{}",
        cli.log_text()
    );
    let _: Page<AuditEntry> = as_ops
        .call(
            Method::GET,
            &format!("/api/v1/orgs/{org}/audit-logs"),
            None,
            200,
        )
        .await;

    let mut unknown = repopal_tests::process::spawn(
        "repopal-api",
        &["super-admin", "--email", "nobody@example.com"],
        &[
            ("DATABASE_URL", &app.db.url),
            ("ENCRYPTION_KEYS", repopal_tests::http::TEST_ENCRYPTION_KEYS),
        ],
    );
    assert!(!unknown.child.wait().await.unwrap().success());
    assert!(unknown.log_text().contains("no account with email"));
}
