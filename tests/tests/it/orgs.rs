//! Organisations, members, roles and the audit log; tenancy checked on every org route.

use axum::http::Method;
use repopal_tests::{TestApp, auth::Session};
use serde_json::{Value, json};

/// Every organisation route the router serves (from the generated OpenAPI document, which is built
/// from the same route list as the router), with its method.
fn org_routes() -> Vec<(Method, String)> {
    let doc = serde_json::to_value(repopal_api::openapi()).unwrap();
    let mut routes = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.contains("{org_id}") {
            continue;
        }
        for method in item.as_object().unwrap().keys() {
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
        let end = out[start..].find('}').unwrap() + start;
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
    let invite = app
        .call(
            Method::POST,
            &format!("/api/v1/orgs/{org}/invitations"),
            Some(&admin.access_token),
            Some(json!({"email": email, "role": role})),
        )
        .await;
    assert_eq!(invite.status, 201, "{}", invite.text());
    let user = app.register(email, None).await;
    let token = app.mailed_token(email).await; // newest mail to them: the invitation (sent first) or verification
    let token = if token.starts_with("rpi_") {
        token
    } else {
        invitation_token(app, email).await
    };
    let accepted = app
        .call(
            Method::POST,
            "/api/v1/invitations/accept",
            Some(&user.access_token),
            Some(json!({"token": token})),
        )
        .await;
    assert_eq!(accepted.status, 200, "{}", accepted.text());
    user
}

async fn invitation_token(app: &TestApp, email: &str) -> String {
    let bodies: Vec<String> = sqlx::query_scalar(
        "SELECT body FROM email_outbox WHERE to_address = $1 ORDER BY created_at",
    )
    .bind(email)
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
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

    for (method, path) in org_routes() {
        let url = fill(&path, &bravo, &bob.user_id);
        let res = app
            .call(
                method.clone(),
                &url,
                Some(&alice.access_token),
                Some(json!({})),
            )
            .await;
        assert_eq!(
            res.status,
            404,
            "{method} {path} as a non-member: {}",
            res.text()
        );
        assert_eq!(res.json()["error"]["code"], "not_found");
        let missing = fill(&path, &uuid::Uuid::new_v4().to_string(), &bob.user_id);
        let res = app
            .call(
                method.clone(),
                &missing,
                Some(&alice.access_token),
                Some(json!({})),
            )
            .await;
        assert_eq!(res.status, 404, "{method} {path} for an unknown org");
        let res = app.call(method.clone(), &url, None, Some(json!({}))).await;
        assert_eq!(res.status, 401, "{method} {path} without a token");
        // A viewer may read but not manage: admin routes answer 403, never touch anything.
        let res = app
            .call(
                method.clone(),
                &url,
                Some(&viewer.access_token),
                Some(json!({})),
            )
            .await;
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
            assert_ne!(res.status, 403, "{method} {path} is readable by a viewer");
        } else {
            assert_eq!(
                res.status,
                403,
                "{method} {path} needs more than viewer: {}",
                res.text()
            );
            assert_eq!(res.json()["error"]["code"], "forbidden");
        }
    }
    // Bravo is untouched.
    let org = app
        .call(
            Method::GET,
            &format!("/api/v1/orgs/{bravo}"),
            Some(&bob.access_token),
            None,
        )
        .await;
    assert_eq!(org.json()["data"]["name"], "Bravo");
}

#[tokio::test]
async fn organisations_can_be_created_listed_updated_and_deleted() {
    let app = TestApp::builder().build().await;
    let s = app.register("owner@example.com", None).await;
    let created = app
        .call(
            Method::POST,
            "/api/v1/orgs",
            Some(&s.access_token),
            Some(json!({"name": "Delta Ops"})),
        )
        .await;
    assert_eq!(created.status, 201);
    let org = created.json()["data"].clone();
    assert_eq!(
        (org["slug"].as_str(), org["role"].as_str()),
        (Some("delta-ops"), Some("org_admin"))
    );
    let id = org["id"].as_str().unwrap();
    let again = app
        .call(
            Method::POST,
            "/api/v1/orgs",
            Some(&s.access_token),
            Some(json!({"name": "Delta Ops"})),
        )
        .await;
    assert_eq!(
        again.json()["data"]["slug"],
        "delta-ops-2",
        "a free slug is chosen"
    );
    let taken = app
        .call(
            Method::POST,
            "/api/v1/orgs",
            Some(&s.access_token),
            Some(json!({"name": "X", "slug": "delta-ops"})),
        )
        .await;
    assert_eq!(
        (
            taken.status.as_u16(),
            taken.json()["error"]["code"].as_str()
        ),
        (409, Some("slug_taken"))
    );
    let bad = app
        .call(
            Method::POST,
            "/api/v1/orgs",
            Some(&s.access_token),
            Some(json!({"name": "", "slug": "Bad Slug"})),
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(repopal_tests::shapes::field_errors(&bad.json()).contains_key("slug"));
    // A slug that reads as an organisation id would make `/orgs/{id-or-slug}` name two of them.
    for uuid_shaped in [
        "0b0a8d3e-6f7c-4c3e-9a1d-2b9f1f0c7e55",
        "0b0a8d3e6f7c4c3e9a1d2b9f1f0c7e55",
    ] {
        let res = app
            .call(
                Method::POST,
                "/api/v1/orgs",
                Some(&s.access_token),
                Some(json!({"name": "Lookalike", "slug": uuid_shaped})),
            )
            .await;
        assert_eq!(res.status, 422, "{uuid_shaped}: {}", res.text());
        assert!(repopal_tests::shapes::field_errors(&res.json()).contains_key("slug"));
    }

    let list = app
        .call(Method::GET, "/api/v1/orgs", Some(&s.access_token), None)
        .await
        .json();
    assert_eq!(list["data"]["items"].as_array().unwrap().len(), 2);
    assert_eq!(list["data"]["next_cursor"], serde_json::Value::Null);
    let renamed = app
        .call(
            Method::PATCH,
            &format!("/api/v1/orgs/{id}"),
            Some(&s.access_token),
            Some(json!({"name": "Delta"})),
        )
        .await;
    assert_eq!(renamed.json()["data"]["name"], "Delta");
    assert_eq!(
        app.call(
            Method::DELETE,
            &format!("/api/v1/orgs/{id}"),
            Some(&s.access_token),
            None
        )
        .await
        .status,
        200
    );
    assert_eq!(
        app.call(
            Method::GET,
            &format!("/api/v1/orgs/{id}"),
            Some(&s.access_token),
            None
        )
        .await
        .status,
        404
    );
}

#[tokio::test]
async fn members_are_invited_promoted_and_removed_but_the_last_admin_stays() {
    let app = TestApp::builder().build().await;
    let admin = app.register("root@example.com", Some("Echo")).await;
    let org = admin.first_org();
    let dev = add_member(&app, &admin, &org, "dev@example.com", "developer").await;

    let members = app
        .call(
            Method::GET,
            &format!("/api/v1/orgs/{org}/members"),
            Some(&dev.access_token),
            None,
        )
        .await
        .json();
    let roles: Vec<(&str, &str)> = members["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["email"].as_str().unwrap(), m["role"].as_str().unwrap()))
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
    let demote = app
        .call(
            Method::PATCH,
            &format!("/api/v1/orgs/{org}/members/{}", admin.user_id),
            Some(&admin.access_token),
            Some(json!({"role": "viewer"})),
        )
        .await;
    assert_eq!(
        (
            demote.status.as_u16(),
            demote.json()["error"]["code"].as_str()
        ),
        (409, Some("last_admin"))
    );
    let remove = app
        .call(
            Method::DELETE,
            &format!("/api/v1/orgs/{org}/members/{}", admin.user_id),
            Some(&admin.access_token),
            None,
        )
        .await;
    assert_eq!(remove.status, 409);

    // Promote the developer; now the first admin may step down.
    let promote = app
        .call(
            Method::PATCH,
            &format!("/api/v1/orgs/{org}/members/{}", dev.user_id),
            Some(&admin.access_token),
            Some(json!({"role": "org_admin"})),
        )
        .await;
    assert_eq!(promote.status, 200, "{}", promote.text());
    let bad_role = app
        .call(
            Method::PATCH,
            &format!("/api/v1/orgs/{org}/members/{}", dev.user_id),
            Some(&admin.access_token),
            Some(json!({"role": "owner"})),
        )
        .await;
    assert_eq!(bad_role.status, 422);
    let step_down = app
        .call(
            Method::PATCH,
            &format!("/api/v1/orgs/{org}/members/{}", admin.user_id),
            Some(&dev.access_token),
            Some(json!({"role": "viewer"})),
        )
        .await;
    assert_eq!(step_down.status, 200);
    let removed = app
        .call(
            Method::DELETE,
            &format!("/api/v1/orgs/{org}/members/{}", admin.user_id),
            Some(&dev.access_token),
            None,
        )
        .await;
    assert_eq!(removed.status, 200);
    assert_eq!(
        app.call(
            Method::GET,
            &format!("/api/v1/orgs/{org}"),
            Some(&admin.access_token),
            None
        )
        .await
        .status,
        404
    );
}

#[tokio::test]
async fn an_invitation_is_single_use_and_for_its_addressee_only() {
    let app = TestApp::builder().build().await;
    let admin = app.register("boss@example.com", Some("Foxtrot")).await;
    let org = admin.first_org();
    app.call(
        Method::POST,
        &format!("/api/v1/orgs/{org}/invitations"),
        Some(&admin.access_token),
        Some(json!({"email": "invitee@example.com", "role": "team_lead"})),
    )
    .await;
    let token = invitation_token(&app, "invitee@example.com").await;
    let stranger = app.register("stranger@example.com", None).await;
    let wrong = app
        .call(
            Method::POST,
            "/api/v1/invitations/accept",
            Some(&stranger.access_token),
            Some(json!({"token": token})),
        )
        .await;
    assert_eq!(
        (
            wrong.status.as_u16(),
            wrong.json()["error"]["code"].as_str()
        ),
        (403, Some("invitation_email_mismatch"))
    );
    let invitee = app.register("invitee@example.com", None).await;
    let ok = app
        .call(
            Method::POST,
            "/api/v1/invitations/accept",
            Some(&invitee.access_token),
            Some(json!({"token": token})),
        )
        .await;
    assert_eq!(
        ok.status,
        200,
        "the refused attempt did not use the invitation up: {}",
        ok.text()
    );
    let twice = app
        .call(
            Method::POST,
            "/api/v1/invitations/accept",
            Some(&invitee.access_token),
            Some(json!({"token": token})),
        )
        .await;
    assert_eq!(twice.status, 400);
    let me = app
        .call(
            Method::GET,
            "/api/v1/auth/me",
            Some(&invitee.access_token),
            None,
        )
        .await
        .json();
    assert_eq!(me["data"]["organizations"][0]["role"], "team_lead");
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
    let url = |q: &str| format!("/api/v1/orgs/{org}/audit-logs{q}");
    let all = app
        .call(Method::GET, &url(""), Some(&admin.access_token), None)
        .await
        .json();
    let actions: Vec<&str> = all["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"org.create")
            && actions.contains(&"member.invite")
            && actions.contains(&"member.join"),
        "{actions:?}"
    );
    let entry = &all["data"]["items"][0];
    assert_eq!(entry["user_agent"], "repopal-tests/1.0");
    assert_eq!(entry["status"], "success");

    let invites = app
        .call(
            Method::GET,
            &url("?action=member.invite&limit=2"),
            Some(&admin.access_token),
            None,
        )
        .await
        .json();
    let page1: Vec<Value> = invites["data"]["items"].as_array().unwrap().clone();
    assert_eq!(page1.len(), 2);
    let cursor = invites["data"]["next_cursor"].as_str().unwrap();
    let next = app
        .call(
            Method::GET,
            &url(&format!("?action=member.invite&limit=2&cursor={cursor}")),
            Some(&admin.access_token),
            None,
        )
        .await
        .json();
    let page2 = next["data"]["items"].as_array().unwrap();
    assert_eq!(page2.len(), 1);
    assert!(next["data"]["next_cursor"].is_null());
    assert!(
        page2[0]["id"].as_i64() < page1[1]["id"].as_i64(),
        "older entries on later pages"
    );

    let by_actor = app
        .call(
            Method::GET,
            &url(&format!("?actor={}&action=org.create", admin.user_id)),
            Some(&admin.access_token),
            None,
        )
        .await
        .json();
    assert_eq!(by_actor["data"]["items"].as_array().unwrap().len(), 1);
    let future = app
        .call(
            Method::GET,
            &url("?from=2999-01-01T00:00:00Z"),
            Some(&admin.access_token),
            None,
        )
        .await
        .json();
    assert!(future["data"]["items"].as_array().unwrap().is_empty());
    let bad = app
        .call(
            Method::GET,
            &url("?limit=0"),
            Some(&admin.access_token),
            None,
        )
        .await;
    assert_eq!(
        (bad.status.as_u16(), bad.json()["error"]["code"].as_str()),
        (400, Some("invalid_query"))
    );
    let bad = app
        .call(
            Method::GET,
            &url("?from=yesterday"),
            Some(&admin.access_token),
            None,
        )
        .await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn a_super_admin_granted_by_the_cli_acts_as_admin_in_every_org() {
    let app = TestApp::builder().build().await;
    let owner = app.register("owner2@example.com", Some("India")).await;
    let org = owner.first_org();
    let ops = app.register("ops@example.com", None).await;
    assert_eq!(
        app.call(
            Method::GET,
            &format!("/api/v1/orgs/{org}"),
            Some(&ops.access_token),
            None
        )
        .await
        .status,
        404
    );

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
    let res = app
        .call(
            Method::GET,
            &format!("/api/v1/orgs/{org}/audit-logs"),
            Some(&ops.access_token),
            None,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());

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
