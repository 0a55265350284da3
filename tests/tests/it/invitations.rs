//! Invitations as attack surface: revoked, replaced, orphaned (inviter demoted, removed or gone) and
//! leftover tokens are refused; a token redeems once; another organisation's invitations are 404.
#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed assertion

use axum::http::Method;
use repopal_tests::{TestApp, auth::Session, http::TestResponse};
use serde_json::{Value, json};

async fn invite(app: &TestApp, admin: &Session, org: &str, email: &str, role: &str) -> Value {
    let res = app
        .call(
            Method::POST,
            &format!("/api/v1/orgs/{org}/invitations"),
            Some(&admin.access_token),
            Some(json!({"email": email, "role": role})),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    res.json()["data"].clone()
}

/// The token of the newest invitation mailed to `email`.
async fn newest_token(app: &TestApp, email: &str) -> String {
    let bodies: Vec<String> = sqlx::query_scalar(
        "SELECT body FROM email_outbox WHERE to_address = $1 AND body LIKE '%rpi\\_%'
         ORDER BY created_at DESC",
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

async fn accept(app: &TestApp, who: &Session, token: &str) -> TestResponse {
    app.call(
        Method::POST,
        "/api/v1/invitations/accept",
        Some(&who.access_token),
        Some(json!({"token": token})),
    )
    .await
}

fn code(res: &TestResponse) -> (u16, Option<String>) {
    (
        res.status.as_u16(),
        res.json()["error"]["code"].as_str().map(str::to_owned),
    )
}

fn refused(code_: &str) -> (u16, Option<String>) {
    (400, Some(code_.to_owned()))
}

/// The member's role straight from the table (`None`: not a member).
async fn role_of(app: &TestApp, org: &str, user: &str) -> Option<String> {
    sqlx::query_scalar(
        "SELECT role FROM memberships WHERE org_id = $1::uuid AND user_id = $2::uuid",
    )
    .bind(org)
    .bind(user)
    .fetch_optional(&app.db.pool)
    .await
    .unwrap()
}

/// Invites `email` and accepts as them (registering first).
async fn join(app: &TestApp, admin: &Session, org: &str, email: &str, role: &str) -> Session {
    invite(app, admin, org, email, role).await;
    let user = app.register(email, None).await;
    let token = newest_token(app, email).await;
    let res = accept(app, &user, &token).await;
    assert_eq!(res.status, 200, "{}", res.text());
    user
}

async fn list(app: &TestApp, who: &Session, org: &str) -> TestResponse {
    app.call(
        Method::GET,
        &format!("/api/v1/orgs/{org}/invitations"),
        Some(&who.access_token),
        None,
    )
    .await
}

async fn revoke(app: &TestApp, who: &Session, org: &str, id: &str) -> TestResponse {
    app.call(
        Method::DELETE,
        &format!("/api/v1/orgs/{org}/invitations/{id}"),
        Some(&who.access_token),
        None,
    )
    .await
}

#[tokio::test]
async fn a_revoked_invitation_is_refused_and_the_revocation_audited() {
    let app = TestApp::builder().build().await;
    let admin = app.register("rev-admin@example.com", Some("Revoke")).await;
    let org = admin.first_org();
    let sent = invite(&app, &admin, &org, "rev@example.com", "developer").await;
    let id = sent["id"].as_str().unwrap();
    let token = newest_token(&app, "rev@example.com").await;
    let open = list(&app, &admin, &org).await;
    assert_eq!(open.status, 200, "{}", open.text());
    assert_eq!(open.json()["data"]["items"][0]["id"], id);
    assert_eq!(
        open.json()["data"]["items"][0]["invited_by"],
        admin.user_id.as_str()
    );

    let res = revoke(&app, &admin, &org, id).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        list(&app, &admin, &org).await.json()["data"]["items"],
        json!([])
    );
    assert_eq!(
        code(&revoke(&app, &admin, &org, id).await),
        (404, Some("not_found".into())),
        "revoking twice finds nothing open"
    );

    let invitee = app.register("rev@example.com", None).await;
    assert_eq!(
        code(&accept(&app, &invitee, &token).await),
        refused("invitation_revoked")
    );
    assert_eq!(role_of(&app, &org, &invitee.user_id).await, None);

    let log = app
        .call(
            Method::GET,
            &format!("/api/v1/orgs/{org}/audit-logs?action=org.invitation_revoke"),
            Some(&admin.access_token),
            None,
        )
        .await
        .json();
    let entries = log["data"]["items"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{log}");
    assert_eq!(entries[0]["actor_user_id"], admin.user_id.as_str());
    assert_eq!(entries[0]["resource_id"], id);
    assert_eq!(entries[0]["metadata"]["email"], "rev@example.com");
}

#[tokio::test]
async fn inviting_again_replaces_the_earlier_invitation() {
    let app = TestApp::builder().build().await;
    let admin = app.register("re-admin@example.com", Some("Reinvite")).await;
    let org = admin.first_org();
    invite(&app, &admin, &org, "again@example.com", "org_admin").await;
    let first = newest_token(&app, "again@example.com").await;
    // Same address, other case: still the same person.
    invite(&app, &admin, &org, "Again@Example.com", "viewer").await;
    let second = newest_token(&app, "again@example.com").await;
    assert_ne!(first, second);
    let open = list(&app, &admin, &org).await.json();
    let open = open["data"]["items"].as_array().unwrap();
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0]["role"], "viewer");

    let invitee = app.register("again@example.com", None).await;
    assert_eq!(
        code(&accept(&app, &invitee, &first).await),
        refused("invitation_revoked"),
        "the replaced org_admin invitation is dead"
    );
    assert_eq!(role_of(&app, &org, &invitee.user_id).await, None);
    let ok = accept(&app, &invitee, &second).await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(
        role_of(&app, &org, &invitee.user_id).await.as_deref(),
        Some("viewer")
    );
}

#[tokio::test]
async fn an_invitation_dies_when_its_inviter_is_demoted_or_removed() {
    let app = TestApp::builder().build().await;
    let owner = app.register("owner-d@example.com", Some("Demote")).await;
    let org = owner.first_org();
    let deputy = join(&app, &owner, &org, "deputy@example.com", "org_admin").await;
    let other = join(&app, &owner, &org, "other@example.com", "org_admin").await;
    invite(&app, &deputy, &org, "c1@example.com", "developer").await;
    let from_deputy = newest_token(&app, "c1@example.com").await;
    invite(&app, &other, &org, "c2@example.com", "org_admin").await;
    let from_other = newest_token(&app, "c2@example.com").await;

    let demote = app
        .call(
            Method::PATCH,
            &format!("/api/v1/orgs/{org}/members/{}", deputy.user_id),
            Some(&owner.access_token),
            Some(json!({"role": "developer"})),
        )
        .await;
    assert_eq!(demote.status, 200, "{}", demote.text());
    let remove = app
        .call(
            Method::DELETE,
            &format!("/api/v1/orgs/{org}/members/{}", other.user_id),
            Some(&owner.access_token),
            None,
        )
        .await;
    assert_eq!(remove.status, 200, "{}", remove.text());
    assert_eq!(
        list(&app, &owner, &org).await.json()["data"]["items"],
        json!([])
    );

    let c1 = app.register("c1@example.com", None).await;
    assert_eq!(
        code(&accept(&app, &c1, &from_deputy).await),
        refused("invitation_revoked")
    );
    let c2 = app.register("c2@example.com", None).await;
    assert_eq!(
        code(&accept(&app, &c2, &from_other).await),
        refused("invitation_revoked")
    );
    assert_eq!(role_of(&app, &org, &c1.user_id).await, None);
    assert_eq!(role_of(&app, &org, &c2.user_id).await, None);
}

#[tokio::test]
async fn accept_checks_the_inviter_still_may_invite_whatever_changed_their_role() {
    // Rights lost by a path that does not revoke (a direct change, a deleted account): the check
    // at accept time still refuses.
    let app = TestApp::builder().build().await;
    let owner = app.register("owner-x@example.com", Some("Backstop")).await;
    let org = owner.first_org();
    let a = join(&app, &owner, &org, "inviter-a@example.com", "org_admin").await;
    let b = join(&app, &owner, &org, "inviter-b@example.com", "org_admin").await;
    invite(&app, &a, &org, "t1@example.com", "team_lead").await;
    let token_a = newest_token(&app, "t1@example.com").await;
    invite(&app, &b, &org, "t2@example.com", "org_admin").await;
    let token_b = newest_token(&app, "t2@example.com").await;
    sqlx::query("UPDATE memberships SET role = 'viewer' WHERE user_id = $1::uuid")
        .bind(&a.user_id)
        .execute(&app.db.pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM users WHERE id = $1::uuid")
        .bind(&b.user_id)
        .execute(&app.db.pool)
        .await
        .unwrap();

    let t1 = app.register("t1@example.com", None).await;
    assert_eq!(
        code(&accept(&app, &t1, &token_a).await),
        refused("invitation_revoked")
    );
    let t2 = app.register("t2@example.com", None).await;
    assert_eq!(
        code(&accept(&app, &t2, &token_b).await),
        refused("invitation_revoked")
    );
    assert_eq!(role_of(&app, &org, &t1.user_id).await, None);
    assert_eq!(role_of(&app, &org, &t2.user_id).await, None);
    let reasons: Vec<String> = sqlx::query_scalar(
        "SELECT revoked_reason FROM invitations WHERE email IN ('t1@example.com', 't2@example.com')",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(reasons, vec!["inviter_lost_rights", "inviter_lost_rights"]);
}

#[tokio::test]
async fn a_removed_member_cannot_rejoin_with_a_leftover_token() {
    let app = TestApp::builder().build().await;
    let admin = app.register("boss-l@example.com", Some("Leftover")).await;
    let org = admin.first_org();
    let member = join(&app, &admin, &org, "leaver@example.com", "viewer").await;
    let used = newest_token(&app, "leaver@example.com").await;
    // A second invitation while they are a member (say, a promotion never accepted): a leftover.
    invite(&app, &admin, &org, "leaver@example.com", "org_admin").await;
    let leftover = newest_token(&app, "leaver@example.com").await;
    let res = app
        .call(
            Method::DELETE,
            &format!("/api/v1/orgs/{org}/members/{}", member.user_id),
            Some(&admin.access_token),
            None,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());

    assert_eq!(
        code(&accept(&app, &member, &leftover).await),
        refused("invitation_revoked")
    );
    assert_eq!(
        code(&accept(&app, &member, &used).await),
        refused("invalid_token")
    );
    assert_eq!(role_of(&app, &org, &member.user_id).await, None);
    let me = app
        .call(
            Method::GET,
            &format!("/api/v1/orgs/{org}"),
            Some(&member.access_token),
            None,
        )
        .await;
    assert_eq!(me.status, 404, "not a member: {}", me.text());
}

#[tokio::test]
async fn an_invitation_token_is_single_use_even_when_raced() {
    let app = TestApp::builder().build().await;
    let admin = app.register("boss-s@example.com", Some("Single")).await;
    let org = admin.first_org();
    invite(&app, &admin, &org, "once@example.com", "developer").await;
    let token = newest_token(&app, "once@example.com").await;
    let user = app.register("once@example.com", None).await;
    let (a, b) = tokio::join!(accept(&app, &user, &token), accept(&app, &user, &token));
    let mut outcomes = vec![code(&a), code(&b)];
    outcomes.sort();
    assert_eq!(
        outcomes,
        vec![(200, None), refused("invalid_token")],
        "exactly one acceptance"
    );
    let joins: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_logs WHERE action = 'member.join' AND status = 'success'",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(joins, 1);

    // Removed, then the spent token again: refused, still not a member.
    let res = app
        .call(
            Method::DELETE,
            &format!("/api/v1/orgs/{org}/members/{}", user.user_id),
            Some(&admin.access_token),
            None,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        code(&accept(&app, &user, &token).await),
        refused("invalid_token")
    );
    assert_eq!(role_of(&app, &org, &user.user_id).await, None);
}

#[tokio::test]
async fn an_admin_of_another_org_cannot_list_or_revoke_its_invitations() {
    let app = TestApp::builder().build().await;
    let alpha = app
        .register("alpha-admin@example.com", Some("Alpha Inv"))
        .await;
    let bravo = app
        .register("bravo-admin@example.com", Some("Bravo Inv"))
        .await;
    let (org_a, org_b) = (alpha.first_org(), bravo.first_org());
    let viewer = join(&app, &bravo, &org_b, "bravo-viewer@example.com", "viewer").await;
    let sent = invite(&app, &bravo, &org_b, "target@example.com", "developer").await;
    let id = sent["id"].as_str().unwrap();

    assert_eq!(
        code(&list(&app, &alpha, &org_b).await),
        (404, Some("not_found".into()))
    );
    assert_eq!(
        code(&revoke(&app, &alpha, &org_b, id).await),
        (404, Some("not_found".into()))
    );
    assert_eq!(
        code(&revoke(&app, &alpha, &org_a, id).await),
        (404, Some("not_found".into())),
        "another org's invitation id through one's own org"
    );
    // A member of the org may list (like the member list) but not revoke.
    assert_eq!(list(&app, &viewer, &org_b).await.status, 200);
    assert_eq!(
        code(&revoke(&app, &viewer, &org_b, id).await),
        (403, Some("forbidden".into()))
    );
    assert_eq!(
        code(&revoke(&app, &bravo, &org_b, "not-a-uuid").await),
        (404, Some("not_found".into()))
    );

    let still = list(&app, &bravo, &org_b).await.json();
    assert_eq!(
        still["data"]["items"].as_array().unwrap().len(),
        1,
        "{still}"
    );
    let target = app.register("target@example.com", None).await;
    let token = newest_token(&app, "target@example.com").await;
    assert_eq!(accept(&app, &target, &token).await.status, 200);
}
