//! Console organisation pages over HTTP: settings (rename with the API's checks, delete only once
//! the slug is typed), the audit log with filters and cursor paging, and creating another
//! organisation from the switcher.

use repopal_tests::{
    TestApp,
    console::{Browser, location},
};

#[tokio::test]
async fn an_admin_renames_and_deletes_the_organisation_from_its_settings() {
    let app = TestApp::builder().build().await;
    let mut b = Browser::default();
    b.sign_up(&app, "Boss", "boss@example.com", "Acme Corp")
        .await;
    let page = b.get(&app, "/orgs/acme-corp/settings").await;
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(
        page.text().contains("href=\"/orgs/acme-corp/settings\""),
        "admin navigation"
    );

    // A bad slug: the problem beside the field, nothing changed.
    let res = b
        .post(
            &app,
            "/orgs/acme-corp/settings",
            &[("name", "Acme <b>Ltd</b>"), ("slug", "Bad Slug")],
        )
        .await;
    assert_eq!(res.status, 422);
    let html = res.text();
    assert!(html.contains("id=\"slug-error\""), "{html}");
    assert!(html.contains("value=\"Bad Slug\""));
    assert!(!html.contains("<b>Ltd</b>"), "escaped");
    // A slug another organisation has: a field error, not a 500.
    let mut other = Browser::default();
    other
        .sign_up(&app, "Other", "other@example.com", "Taken Co")
        .await;
    let res = b
        .post(
            &app,
            "/orgs/acme-corp/settings",
            &[("name", "Acme"), ("slug", "taken-co")],
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
    assert!(res.text().contains("id=\"slug-error\""));
    // A NUL in a field (the JSON API refuses it too): 400, not a 500 from the database.
    let res = b
        .post(
            &app,
            "/orgs/acme-corp/settings",
            &[("name", "Acme\0Ltd"), ("slug", "acme-corp")],
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.text());
    let name: String =
        sqlx::query_scalar("SELECT name FROM organizations WHERE slug = 'acme-corp'")
            .fetch_one(&app.db.pool)
            .await
            .expect("org");
    assert_eq!(name, "Acme Corp");

    let res = b
        .post(
            &app,
            "/orgs/acme-corp/settings",
            &[("name", "Acme <b>Ltd</b>"), ("slug", "acme-ltd")],
        )
        .await;
    assert_eq!(location(&res), "/orgs/acme-ltd/settings?notice=org_saved");
    let (name, slug): (String, String) = sqlx::query_as("SELECT name, slug FROM organizations")
        .fetch_all(&app.db.pool)
        .await
        .expect("orgs")
        .into_iter()
        .find(|(_, s): &(String, String)| s != "taken-co")
        .expect("ours");
    assert_eq!(
        (name.as_str(), slug.as_str()),
        ("Acme <b>Ltd</b>", "acme-ltd")
    );
    assert_eq!(b.get(&app, "/orgs/acme-corp/settings").await.status, 404);
    let page = b.get(&app, "/orgs/acme-ltd/settings").await.text();
    assert!(
        page.contains("Acme &#60;b&#62;Ltd&#60;/b&#62;")
            || page.contains("Acme &lt;b&gt;Ltd&lt;/b&gt;")
    );

    // Deleting needs the slug typed; the other organisation cannot be touched.
    let res = b
        .post(&app, "/orgs/acme-ltd/delete", &[("confirm", "acme")])
        .await;
    assert_eq!(res.status, 422);
    assert!(res.text().contains("id=\"delete-error\""));
    assert_eq!(
        b.post(&app, "/orgs/taken-co/delete", &[("confirm", "taken-co")])
            .await
            .status,
        404
    );
    b.get(&app, "/orgs/acme-ltd/settings").await;
    let res = b
        .post(&app, "/orgs/acme-ltd/delete", &[("confirm", "acme-ltd")])
        .await;
    assert_eq!(location(&res), "/");
    let left: Vec<String> = sqlx::query_scalar("SELECT slug FROM organizations")
        .fetch_all(&app.db.pool)
        .await
        .expect("orgs");
    assert_eq!(left, vec!["taken-co".to_owned()]);
    // Without the CSRF token nothing is deleted.
    let res = other
        .post_raw(
            &app,
            "/orgs/taken-co/delete",
            &[("confirm", "taken-co")],
            Some(repopal_tests::console::ORIGIN),
        )
        .await;
    assert_eq!(res.status, 403);
}

#[tokio::test]
async fn a_developer_has_no_settings_or_audit_log() {
    let app = TestApp::builder().build().await;
    let mut admin = Browser::default();
    admin
        .sign_up(&app, "Boss", "boss@example.com", "Team")
        .await;
    let member = app.register("dev@example.com", None).await;
    let org: String = sqlx::query_scalar("SELECT id::text FROM organizations WHERE slug = 'team'")
        .fetch_one(&app.db.pool)
        .await
        .expect("org");
    sqlx::query(
        "INSERT INTO memberships (org_id, user_id, role) SELECT $1::uuid, id, 'developer' FROM users WHERE email = 'dev@example.com'",
    )
    .bind(&org)
    .execute(&app.db.pool)
    .await
    .expect("member");
    drop(member);
    let mut dev = Browser::default();
    dev.get(&app, "/login").await;
    let res = dev
        .post(
            &app,
            "/login",
            &[
                ("email", "dev@example.com"),
                ("password", repopal_tests::auth::PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let dash = dev.get(&app, "/orgs/team").await.text();
    assert!(!dash.contains("/orgs/team/settings"));
    assert_eq!(dev.get(&app, "/orgs/team/settings").await.status, 403);
    assert_eq!(dev.get(&app, "/orgs/team/audit").await.status, 403);
    let res = dev
        .post(&app, "/orgs/team/delete", &[("confirm", "team")])
        .await;
    assert_eq!(res.status, 403);
}

#[tokio::test]
async fn the_audit_log_filters_and_pages_and_another_organisation_can_be_created() {
    let app = TestApp::builder().build().await;
    let mut b = Browser::default();
    b.sign_up(&app, "Boss", "boss@example.com", "Logs").await;
    // One real action through the console, and 60 more entries than fit on a page.
    b.get(&app, "/orgs/logs/members").await;
    let res = b
        .post(
            &app,
            "/orgs/logs/members/invite",
            &[("email", "person@example.com"), ("role", "viewer")],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    sqlx::query(
        "INSERT INTO audit_logs (org_id, action, status, metadata)
         SELECT id, 'test.event', 'success', '{\"note\": \"<i>x</i>\"}' FROM organizations, generate_series(1, 60)",
    )
    .execute(&app.db.pool)
    .await
    .expect("entries");
    let page = b.get(&app, "/orgs/logs/audit").await;
    assert_eq!(page.status, 200, "{}", page.text());
    let html = page.text();
    assert_eq!(html.matches("class=\"entry\"").count(), 50);
    assert!(!html.contains("<i>x</i>"), "metadata is shown as text");
    let invited = b
        .get(&app, "/orgs/logs/audit?action=member.invite")
        .await
        .text();
    assert!(
        invited.contains("boss@example.com"),
        "the actor by email: {invited}"
    );
    let older = html
        .split("id=\"older\"")
        .next()
        .and_then(|h| h.rsplit("href=\"").next())
        .and_then(|h| h.split('"').next())
        .expect("an older page")
        .replace("&amp;", "&");
    let rest = b.get(&app, &older).await.text();
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_logs WHERE org_id IS NOT NULL")
        .fetch_one(&app.db.pool)
        .await
        .expect("count");
    assert_eq!(
        rest.matches("class=\"entry\"").count() as i64,
        (total - 50).min(50)
    );
    assert!(rest.contains(">Newest<"));

    let filtered = b
        .get(&app, "/orgs/logs/audit?action=org.create")
        .await
        .text();
    assert_eq!(filtered.matches("class=\"entry\"").count(), 1, "{filtered}");
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(2)).format("%Y-%m-%d");
    let future = b
        .get(&app, &format!("/orgs/logs/audit?from={tomorrow}"))
        .await
        .text();
    assert_eq!(future.matches("class=\"entry\"").count(), 0);
    assert!(future.contains("match these filters"));
    // Nonsense filters are ignored, never a 500.
    let odd = b
        .get(&app, "/orgs/logs/audit?actor=x&from=99999-01-01&before=abc")
        .await;
    assert_eq!(odd.status, 200);

    // The switcher's "create another organisation".
    assert!(html.contains("href=\"/orgs\" id=\"create-org\""));
    let form = b.get(&app, "/orgs").await.text();
    assert!(form.contains("Create another organisation"), "{form}");
    let res = b.post(&app, "/orgs", &[("name", "Second Team")]).await;
    assert_eq!(location(&res), "/orgs/second-team");
    let dash = b.get(&app, "/orgs/second-team").await.text();
    assert!(dash.contains("href=\"/orgs/logs\""), "both in the switcher");
}
