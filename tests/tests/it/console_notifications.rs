//! Console pages over HTTP for the notifications menu (in-app notifications, opening one marks
//! it read, mark all read) and replacing an integration's credentials (tested first, the old ones
//! kept on failure, secrets never sent back).

use repopal_tests::{
    TestApp,
    auth::PASSWORD,
    console::{Browser, location},
    fake_argocd::{ARGOCD_TOKEN, FakeArgo},
    monitored::RunIds,
};

#[tokio::test]
async fn the_notifications_menu_lists_unread_ones_and_opening_one_marks_it_read() {
    let m = TestApp::builder().monitored_repo().await;
    m.github
        .set_run_jobs(9001, &[("build", "failure", Some("boom"))]);
    m.run_completes(
        "d-1",
        &m.workflow_run(RunIds::first(9001, 10), "main", "failure"),
    )
    .await;
    let incident = m.incidents().await[0]["id"]
        .as_str()
        .expect("incident")
        .to_owned();
    let (note, title): (String, String) =
        sqlx::query_as("SELECT id::text, title FROM notifications WHERE read_at IS NULL")
            .fetch_one(&m.app.db.pool)
            .await
            .expect("a notification for the admin");

    let mut b = Browser::default();
    b.get(&m.app, "/login").await;
    b.post(
        &m.app,
        "/login",
        &[
            ("email", "incidents-admin@example.com"),
            ("password", PASSWORD),
        ],
    )
    .await;
    let dash = b.get(&m.app, "/orgs/kilo").await.text();
    assert!(dash.contains("id=\"unread-count\">1<"), "{dash}");
    assert!(dash.contains(&format!("action=\"/notifications/{note}/read\"")));
    let page = b.get(&m.app, "/notifications").await;
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(page.text().contains(&format!("id=\"open-{note}\"")));

    // Someone else cannot mark it read.
    let mut other = Browser::default();
    other
        .sign_up(&m.app, "Other", "other@example.com", "Other")
        .await;
    other.get(&m.app, "/notifications").await;
    let res = other
        .post(&m.app, &format!("/notifications/{note}/read"), &[])
        .await;
    assert_eq!(res.status, 404);

    let res = b
        .post(&m.app, &format!("/notifications/{note}/read"), &[])
        .await;
    assert_eq!(location(&res), format!("/orgs/kilo/incidents/{incident}"));
    let read: bool =
        sqlx::query_scalar("SELECT read_at IS NOT NULL FROM notifications WHERE id = $1::uuid")
            .bind(&note)
            .fetch_one(&m.app.db.pool)
            .await
            .expect("row");
    assert!(read);
    let dash = b.get(&m.app, "/orgs/kilo").await.text();
    assert!(!dash.contains("id=\"unread-count\""));
    let unread = b.get(&m.app, "/notifications?unread=1").await.text();
    assert!(unread.contains("No notifications."));
    let all = b.get(&m.app, "/notifications").await.text();
    assert!(all.contains(&title) || all.contains(&title.replace('<', "&#60;")));

    // Mark all read.
    sqlx::query("UPDATE notifications SET read_at = NULL")
        .execute(&m.app.db.pool)
        .await
        .expect("unread again");
    b.get(&m.app, "/notifications").await;
    let res = b.post(&m.app, "/notifications/read-all", &[]).await;
    assert_eq!(location(&res), "/notifications?notice=notifications_read");
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM notifications WHERE read_at IS NULL")
        .fetch_one(&m.app.db.pool)
        .await
        .expect("count");
    assert_eq!(left, 0);
}

#[tokio::test]
async fn replacing_credentials_tests_them_first_and_keeps_the_old_ones_on_failure() {
    let argo = FakeArgo::start().await;
    let app = TestApp::builder().build().await;
    let mut b = Browser::default();
    b.sign_up(&app, "Ops", "ops@example.com", "Creds").await;
    b.get(&app, "/orgs/creds/integrations/new/argocd").await;
    let res = b
        .post(
            &app,
            "/orgs/creds/integrations/new/argocd",
            &[
                ("name", "Argo"),
                ("server_url", &argo.url),
                ("token", ARGOCD_TOKEN),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let (id, sealed): (String, String) =
        sqlx::query_as("SELECT id::text, credentials_sealed FROM integrations")
            .fetch_one(&app.db.pool)
            .await
            .expect("saved");
    let detail = b
        .get(&app, &format!("/orgs/creds/integrations/{id}"))
        .await
        .text();
    assert!(detail.contains(&format!(
        "href=\"/orgs/creds/integrations/{id}/credentials\""
    )));

    let path = format!("/orgs/creds/integrations/{id}/credentials");
    let form = b.get(&app, &path).await;
    assert_eq!(form.status, 200, "{}", form.text());
    let html = form.text();
    assert!(html.contains("<label for=\"token\">"), "{html}");
    assert!(html.contains("name=\"token\" type=\"password\""));
    assert!(!html.contains(ARGOCD_TOKEN), "never pre-filled");

    // A token the server refuses: the test fails, the old credentials stay.
    let calls = argo.count("/api/v1/applications");
    let res = b
        .post(&app, &path, &[("token", "eyJ.wrong-token-SECRET.sig")])
        .await;
    assert!(res.status.is_client_error(), "{}", res.status);
    let html = res.text();
    assert!(html.contains("id=\"form-error\""), "{html}");
    assert!(html.contains("old ones are kept"), "{html}");
    assert!(
        !html.contains("wrong-token-SECRET"),
        "the secret is not sent back"
    );
    assert_eq!(argo.count("/api/v1/applications"), calls + 1, "tested");
    let now: String = sqlx::query_scalar("SELECT credentials_sealed FROM integrations")
        .fetch_one(&app.db.pool)
        .await
        .expect("row");
    assert_eq!(now, sealed, "the old credentials are kept");

    // Missing: a field error from the schema, nothing tested.
    let res = b.post(&app, &path, &[("token", "")]).await;
    assert_eq!(res.status, 422, "{}", res.text());
    assert!(res.text().contains("id=\"token-error\""), "{}", res.text());

    // Good ones: tested, replaced, back on the integration's page.
    let res = b.post(&app, &path, &[("token", ARGOCD_TOKEN)]).await;
    assert_eq!(
        location(&res),
        format!("/orgs/creds/integrations/{id}?notice=credentials_replaced")
    );
    let now: String = sqlx::query_scalar("SELECT credentials_sealed FROM integrations")
        .fetch_one(&app.db.pool)
        .await
        .expect("row");
    assert_ne!(now, sealed, "sealed anew");
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_logs WHERE action = 'integration.credentials_update' AND status = 'success'",
    )
    .fetch_one(&app.db.pool)
    .await
    .expect("audit");
    assert_eq!(audited, 1);
}
