//! Invitations as attack surface: revoked, replaced, orphaned (inviter demoted, removed or gone) and
//! leftover tokens are refused; a token redeems once; another organisation's invitations are 404.

use axum::http::Method;
use repopal_tests::{TestApp, app::ErrorEnvelope, auth::Session, http::TestResponse, shapes::Page};
use serde_json::{Value, json};

async fn invite(app: &TestApp, admin: &Session, org: &str, email: &str, role: &str) -> Value {
    app.caller(Some(admin))
        .in_org(org)
        .call(
            Method::POST,
            "invitations",
            Some(json!({"email": email, "role": role})),
            201,
        )
        .await
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
    .expect("the mailed bodies");
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

/// Accepting `token` as `who` is refused (400): the error's code.
async fn accept_refused(app: &TestApp, who: &Session, token: &str) -> String {
    let e: ErrorEnvelope = app
        .caller(Some(who))
        .call(
            Method::POST,
            "/api/v1/invitations/accept",
            Some(json!({"token": token})),
            400,
        )
        .await;
    e.error.code
}

/// Accepting, raw: for a race whose two outcomes are not known in advance.
async fn accept_raw(app: &TestApp, who: &Session, token: &str) -> TestResponse {
    app.caller(Some(who))
        .send(
            Method::POST,
            "/api/v1/invitations/accept",
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

/// The member's role straight from the table (`None`: not a member).
async fn role_of(app: &TestApp, org: &str, user: &str) -> Option<String> {
    sqlx::query_scalar(
        "SELECT role FROM memberships WHERE org_id = $1::uuid AND user_id = $2::uuid",
    )
    .bind(org)
    .bind(user)
    .fetch_optional(&app.db.pool)
    .await
    .expect("the member role")
}

/// Invites `email` and accepts as them (registering first).
async fn join(app: &TestApp, admin: &Session, org: &str, email: &str, role: &str) -> Session {
    invite(app, admin, org, email, role).await;
    let user = app.register(email, None).await;
    let token = newest_token(app, email).await;
    app.accept_invitation(&user, &token).await;
    user
}

/// The open invitations `who` sees in `org` (200).
async fn list(app: &TestApp, who: &Session, org: &str) -> Vec<Value> {
    let page: Page = app
        .caller(Some(who))
        .in_org(org)
        .call(Method::GET, "invitations", None, 200)
        .await;
    page.items
}

/// Revokes invitation `id` as `who`: 200.
async fn revoke(app: &TestApp, who: &Session, org: &str, id: &str) {
    let _: Value = app
        .caller(Some(who))
        .in_org(org)
        .call(Method::DELETE, &format!("invitations/{id}"), None, 200)
        .await;
}

/// Revoking invitation `id` as `who` is refused with `status`: the error's code.
async fn revoke_refused(app: &TestApp, who: &Session, org: &str, id: &str, status: u16) -> String {
    let e: ErrorEnvelope = app
        .caller(Some(who))
        .in_org(org)
        .call(Method::DELETE, &format!("invitations/{id}"), None, status)
        .await;
    e.error.code
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
    assert_eq!(open[0]["id"], id);
    assert_eq!(open[0]["invited_by"], admin.user_id.as_str());

    revoke(&app, &admin, &org, id).await;
    assert_eq!(list(&app, &admin, &org).await, Vec::<Value>::new());
    assert_eq!(
        revoke_refused(&app, &admin, &org, id, 404).await,
        "not_found",
        "revoking twice finds nothing open"
    );

    let invitee = app.register("rev@example.com", None).await;
    assert_eq!(
        accept_refused(&app, &invitee, &token).await,
        "invitation_revoked"
    );
    assert_eq!(role_of(&app, &org, &invitee.user_id).await, None);

    let log: Page = app
        .caller(Some(&admin))
        .in_org(&org)
        .call(
            Method::GET,
            "audit-logs?action=org.invitation_revoke",
            None,
            200,
        )
        .await;
    let entries = &log.items;
    assert_eq!(entries.len(), 1, "{entries:?}");
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
    let open = list(&app, &admin, &org).await;
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0]["role"], "viewer");

    let invitee = app.register("again@example.com", None).await;
    assert_eq!(
        accept_refused(&app, &invitee, &first).await,
        "invitation_revoked",
        "the replaced org_admin invitation is dead"
    );
    assert_eq!(role_of(&app, &org, &invitee.user_id).await, None);
    app.accept_invitation(&invitee, &second).await;
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

    let as_owner = app.caller(Some(&owner)).in_org(&org);
    let _: Value = as_owner
        .call(
            Method::PATCH,
            &format!("members/{}", deputy.user_id),
            Some(json!({"role": "developer"})),
            200,
        )
        .await;
    let _: Value = as_owner
        .call(
            Method::DELETE,
            &format!("members/{}", other.user_id),
            None,
            200,
        )
        .await;
    assert_eq!(list(&app, &owner, &org).await, Vec::<Value>::new());

    let c1 = app.register("c1@example.com", None).await;
    assert_eq!(
        accept_refused(&app, &c1, &from_deputy).await,
        "invitation_revoked"
    );
    let c2 = app.register("c2@example.com", None).await;
    assert_eq!(
        accept_refused(&app, &c2, &from_other).await,
        "invitation_revoked"
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
        accept_refused(&app, &t1, &token_a).await,
        "invitation_revoked"
    );
    let t2 = app.register("t2@example.com", None).await;
    assert_eq!(
        accept_refused(&app, &t2, &token_b).await,
        "invitation_revoked"
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
    let _: Value = app
        .caller(Some(&admin))
        .in_org(&org)
        .call(
            Method::DELETE,
            &format!("members/{}", member.user_id),
            None,
            200,
        )
        .await;

    assert_eq!(
        accept_refused(&app, &member, &leftover).await,
        "invitation_revoked"
    );
    assert_eq!(accept_refused(&app, &member, &used).await, "invalid_token");
    assert_eq!(role_of(&app, &org, &member.user_id).await, None);
    // Not a member.
    let _: ErrorEnvelope = app
        .caller(Some(&member))
        .call(Method::GET, &format!("/api/v1/orgs/{org}"), None, 404)
        .await;
}

#[tokio::test]
async fn an_invitation_token_is_single_use_even_when_raced() {
    let app = TestApp::builder().build().await;
    let admin = app.register("boss-s@example.com", Some("Single")).await;
    let org = admin.first_org();
    invite(&app, &admin, &org, "once@example.com", "developer").await;
    let token = newest_token(&app, "once@example.com").await;
    let user = app.register("once@example.com", None).await;
    let (a, b) = tokio::join!(
        accept_raw(&app, &user, &token),
        accept_raw(&app, &user, &token)
    );
    let mut outcomes = vec![code(&a), code(&b)];
    outcomes.sort();
    assert_eq!(
        outcomes,
        vec![(200, None), (400, Some("invalid_token".to_owned()))],
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
    let _: Value = app
        .caller(Some(&admin))
        .in_org(&org)
        .call(
            Method::DELETE,
            &format!("members/{}", user.user_id),
            None,
            200,
        )
        .await;
    assert_eq!(accept_refused(&app, &user, &token).await, "invalid_token");
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

    let listed: ErrorEnvelope = app
        .caller(Some(&alpha))
        .in_org(&org_b)
        .call(Method::GET, "invitations", None, 404)
        .await;
    assert_eq!(listed.error.code, "not_found");
    assert_eq!(
        revoke_refused(&app, &alpha, &org_b, id, 404).await,
        "not_found"
    );
    assert_eq!(
        revoke_refused(&app, &alpha, &org_a, id, 404).await,
        "not_found",
        "another org's invitation id through one's own org"
    );
    // A member of the org may list (like the member list) but not revoke.
    list(&app, &viewer, &org_b).await;
    assert_eq!(
        revoke_refused(&app, &viewer, &org_b, id, 403).await,
        "forbidden"
    );
    assert_eq!(
        revoke_refused(&app, &bravo, &org_b, "not-a-uuid", 404).await,
        "not_found"
    );

    let still = list(&app, &bravo, &org_b).await;
    assert_eq!(still.len(), 1, "{still:?}");
    let target = app.register("target@example.com", None).await;
    let token = newest_token(&app, "target@example.com").await;
    app.accept_invitation(&target, &token).await;
}
