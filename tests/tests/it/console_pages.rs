//! Console pages over HTTP (in-process) against the fakes: the integrations wizard generated from
//! the schemas (field errors, test before save, never a pre-filled secret) and the incidents board
//! and detail page with their actions.

use repopal_tests::{
    TestApp,
    auth::PASSWORD,
    console::{Browser, location},
    fake_argocd::FakeArgo,
    monitored::RunIds,
};

use repopal_tests::fake_argocd::ARGOCD_TOKEN as ARGO_TOKEN;

#[tokio::test]
async fn the_argocd_wizard_is_generated_from_its_schema_and_tests_before_it_saves() {
    let argo = FakeArgo::start().await;
    let app = TestApp::builder().build().await;
    let mut b = Browser::default();
    b.sign_up(&app, "Ops", "ops@example.com", "Wizards").await;

    let catalogue = b.get(&app, "/orgs/wizards/integrations/new").await;
    assert_eq!(catalogue.status, 200, "{}", catalogue.text());
    let html = catalogue.text();
    for heading in ["Source control", "Chat", "Deployments", "Monitoring"] {
        assert!(html.contains(&format!("<h2>{heading}</h2>")), "{heading}");
    }
    assert!(html.contains("/orgs/wizards/integrations/new/argocd"));

    let form = b.get(&app, "/orgs/wizards/integrations/new/argocd").await;
    let html = form.text();
    assert!(
        html.contains("<label for=\"server_url\">Server URL</label>"),
        "{html}"
    );
    assert!(html.contains("name=\"server_url\" type=\"text\""), "{html}");
    assert!(html.contains("name=\"token\" type=\"password\""), "{html}");
    assert!(
        html.contains("The Argo CD server, e.g. https://argocd.example.com"),
        "help text"
    );
    // The HTTP probe's enum is a select with its default chosen.
    let probe = b
        .get(&app, "/orgs/wizards/integrations/new/http")
        .await
        .text();
    assert!(
        probe.contains("<select id=\"method\" name=\"method\""),
        "{probe}"
    );
    assert!(probe.contains("<option value=\"GET\" selected>"), "{probe}");

    // A bad URL: the API's problem beside the field; the secret is not sent back.
    let res = b
        .post(
            &app,
            "/orgs/wizards/integrations/new/argocd",
            &[
                ("name", "Argo"),
                ("server_url", "ftp://argo"),
                ("token", ARGO_TOKEN),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(res.status, 422);
    let html = res.text();
    assert!(html.contains("id=\"server_url-error\""), "{html}");
    assert!(html.contains("value=\"ftp://argo\""));
    assert!(!html.contains(ARGO_TOKEN), "a secret is never pre-filled");
    assert_eq!(argo.count("/api/v1/applications"), 0);

    // Test only: the fake is called, nothing is stored.
    let res = b
        .post(
            &app,
            "/orgs/wizards/integrations/new/argocd",
            &[
                ("name", "Argo"),
                ("server_url", &argo.url),
                ("token", ARGO_TOKEN),
                ("action", "test"),
            ],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(res.text().contains("data-ok=\"true\""), "{}", res.text());
    assert!(!res.text().contains(ARGO_TOKEN));
    assert_eq!(argo.count("/api/v1/applications"), 1);
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM integrations")
        .fetch_one(&app.db.pool)
        .await
        .expect("count");
    assert_eq!(stored, 0);

    // A server that does not answer the API: the test fails and nothing is saved.
    let res = b
        .post(
            &app,
            "/orgs/wizards/integrations/new/argocd",
            &[
                ("name", "Argo"),
                ("server_url", &format!("{}/not-argo", argo.url)),
                ("token", ARGO_TOKEN),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
    assert!(res.text().contains("data-ok=\"false\""));

    // Test and save.
    let res = b
        .post(
            &app,
            "/orgs/wizards/integrations/new/argocd",
            &[
                ("name", "Production Argo"),
                ("server_url", &argo.url),
                ("token", ARGO_TOKEN),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(
        location(&res),
        "/orgs/wizards/integrations?notice=integration_saved"
    );
    let (kind, config): (String, serde_json::Value) =
        sqlx::query_as("SELECT kind, config FROM integrations WHERE name = 'Production Argo'")
            .fetch_one(&app.db.pool)
            .await
            .expect("saved");
    assert_eq!(kind, "argocd");
    assert_eq!(config["server_url"], argo.url.as_str());
    let list = b.get(&app, &location(&res)).await.text();
    assert!(list.contains("Production Argo"));
    assert!(list.contains("Argo CD"));
    assert!(list.contains("passed its connection test"));
    // Its page: disable, and it is no longer checked; enable again.
    let id: String =
        sqlx::query_scalar("SELECT id::text FROM integrations WHERE name = 'Production Argo'")
            .fetch_one(&app.db.pool)
            .await
            .expect("id");
    let page = b
        .get(&app, &format!("/orgs/wizards/integrations/{id}"))
        .await;
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(page.text().contains("No checks yet."));
    let res = b
        .post(
            &app,
            &format!("/orgs/wizards/integrations/{id}/disable"),
            &[],
        )
        .await;
    assert_eq!(
        location(&res),
        format!("/orgs/wizards/integrations/{id}?notice=integration_disabled")
    );
    let enabled: bool = sqlx::query_scalar("SELECT enabled FROM integrations WHERE id = $1::uuid")
        .bind(&id)
        .fetch_one(&app.db.pool)
        .await
        .expect("row");
    assert!(!enabled);
    let page = b.get(&app, &location(&res)).await.text();
    assert!(page.contains(">Enable</button>"));
    // Filters narrow the list.
    let none = b
        .get(&app, "/orgs/wizards/integrations?type=slack")
        .await
        .text();
    assert!(!none.contains("Production Argo"));
}

#[tokio::test]
async fn a_viewer_sees_no_wizard() {
    let app = TestApp::builder().build().await;
    let mut admin = Browser::default();
    admin
        .sign_up(&app, "Admin", "own@example.com", "Roles")
        .await;
    // Someone outside the organisation gets a 404 page for its wizard.
    let mut other = Browser::default();
    other
        .sign_up(&app, "Other", "other@example.com", "Other")
        .await;
    let res = other.get(&app, "/orgs/roles/integrations/new/argocd").await;
    assert_eq!(res.status, 404);
}

#[tokio::test]
async fn the_incident_board_detail_and_actions_work_and_a_green_run_resolves() {
    let m = TestApp::builder().monitored_repo().await;
    m.github
        .set_run_jobs(9001, &[("build", "failure", Some("Run <tests>"))]);
    m.run_completes(
        "d-1",
        &m.workflow_run(RunIds::first(9001, 10), "main", "failure"),
    )
    .await;
    let id = m.incidents().await[0]["id"]
        .as_str()
        .expect("incident")
        .to_owned();

    let mut b = Browser::default();
    b.get(&m.app, "/login").await;
    let res = b
        .post(
            &m.app,
            "/login",
            &[
                ("email", "incidents-admin@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());

    let board = b.get(&m.app, "/orgs/kilo/incidents").await;
    assert_eq!(board.status, 200, "{}", board.text());
    let html = board.text();
    assert!(
        html.contains(&format!("/orgs/kilo/incidents/{id}")),
        "{html}"
    );
    assert!(html.contains("data-refresh="), "the board refreshes itself");
    let filtered = b
        .get(&m.app, "/orgs/kilo/incidents?status=resolved")
        .await
        .text();
    assert!(!filtered.contains(&id));

    let detail = b.get(&m.app, &format!("/orgs/kilo/incidents/{id}")).await;
    let html = detail.text();
    assert!(
        html.contains("Run &#60;tests&#62;") || html.contains("Run &lt;tests&gt;"),
        "{html}"
    );
    assert!(html.contains("id=\"acknowledge\""));

    let res = b
        .post(
            &m.app,
            &format!("/orgs/kilo/incidents/{id}/acknowledge"),
            &[("note", "looking")],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(m.incident(&id).await["status"], "acknowledged");
    b.get(&m.app, &location(&res)).await;
    let res = b
        .post(
            &m.app,
            &format!("/orgs/kilo/incidents/{id}/comment"),
            &[("note", "<b>bold</b> claim")],
        )
        .await;
    let page = b.get(&m.app, &location(&res)).await.text();
    assert!(!page.contains("<b>bold</b>"));
    assert!(page.contains("Your comment was added."));

    // A green run resolves it; the board says so.
    m.run_completes(
        "d-2",
        &m.workflow_run(RunIds::first(9002, 11), "main", "success"),
    )
    .await;
    assert_eq!(m.incident(&id).await["status"], "resolved");
    let resolved = b
        .get(&m.app, "/orgs/kilo/incidents?status=resolved")
        .await
        .text();
    assert!(resolved.contains(&id));
    // Acting on it again with a stale form is a refused transition page, not a 500.
    let res = b
        .post(
            &m.app,
            &format!("/orgs/kilo/incidents/{id}/acknowledge"),
            &[],
        )
        .await;
    assert_eq!(res.status, 409);
}

#[tokio::test]
async fn members_invitations_and_roles_are_managed_from_the_members_page() {
    let app = TestApp::builder().build().await;
    let mut admin = Browser::default();
    admin
        .sign_up(&app, "Boss", "boss@example.com", "Team")
        .await;
    let page = admin.get(&app, "/orgs/team/members").await;
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(page.text().contains("boss@example.com"));

    // A bad address: the problem on the page, nothing sent.
    let res = admin
        .post(
            &app,
            "/orgs/team/members/invite",
            &[("email", "nope"), ("role", "developer")],
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res.text().contains("id=\"members-error\""));
    let res = admin
        .post(
            &app,
            "/orgs/team/members/invite",
            &[("email", "dev@example.com"), ("role", "developer")],
        )
        .await;
    assert_eq!(location(&res), "/orgs/team/members?notice=invitation_sent");
    let page = admin.get(&app, &location(&res)).await.text();
    assert!(page.contains("dev@example.com"));
    let invitation: String = sqlx::query_scalar(
        "SELECT id::text FROM invitations WHERE email = 'dev@example.com' AND revoked_at IS NULL",
    )
    .fetch_one(&app.db.pool)
    .await
    .expect("invitation");
    let res = admin
        .post(
            &app,
            &format!("/orgs/team/invitations/{invitation}/revoke"),
            &[],
        )
        .await;
    assert_eq!(
        location(&res),
        "/orgs/team/members?notice=invitation_revoked"
    );
    let revoked: bool =
        sqlx::query_scalar("SELECT revoked_at IS NOT NULL FROM invitations WHERE id = $1::uuid")
            .bind(&invitation)
            .fetch_one(&app.db.pool)
            .await
            .expect("row");
    assert!(revoked);

    // The last org_admin cannot demote themselves: a refusal page, the role unchanged.
    let me: String =
        sqlx::query_scalar("SELECT id::text FROM users WHERE email = 'boss@example.com'")
            .fetch_one(&app.db.pool)
            .await
            .expect("user");
    admin.get(&app, "/orgs/team/members").await;
    let res = admin
        .post(
            &app,
            &format!("/orgs/team/members/{me}/role"),
            &[("role", "viewer")],
        )
        .await;
    assert_eq!(res.status, 409, "{}", res.text());
    assert!(res.text().contains("at least one org_admin"));
}

#[tokio::test]
async fn sign_in_with_github_from_the_console_lands_on_a_console_page() {
    use repopal_tests::fake_github::{FakeAccount, FakeGithub};
    let fake = FakeGithub::start().await;
    let env = fake.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = TestApp::builder().envs(&env).build().await;
    fake.authorize(
        "code-1",
        FakeAccount {
            id: 583231,
            login: "octocat".into(),
            name: "The Octocat".into(),
            email: "octocat@github.com".into(),
            email_verified: true,
        },
    );
    let mut b = Browser::default();
    let login = b.get(&app, "/login").await.text();
    assert!(login.contains("href=\"/login/github\""), "{login}");
    let res = b.get(&app, "/login/github").await;
    assert_eq!(res.status, 303, "{}", res.text());
    let to = location(&res);
    assert!(
        to.starts_with(&format!("{}/login/oauth/authorize?", fake.url)),
        "{to}"
    );
    assert!(b.cookies.contains_key("repopal_console_flow"));
    let state: String = url::Url::parse(&to)
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .expect("state");

    // GitHub sends the browser back: a console session and a redirect, not JSON.
    let callback = format!("/api/v1/auth/oauth/github/callback?code=code-1&state={state}");
    let res = b.get(&app, &callback).await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(location(&res), "/");
    assert!(b.session_cookie().is_some());
    assert!(
        !b.cookies.contains_key("repopal_console_flow"),
        "the marker is cleared"
    );
    let profile = b.get(&app, "/profile").await;
    assert_eq!(profile.status, 200);
    assert!(profile.text().contains("The Octocat"));

    // A failed callback started from the console is an error page, not JSON.
    b.get(&app, "/login/github").await;
    let res = b
        .get(
            &app,
            "/api/v1/auth/oauth/github/callback?error=access_denied&state=x",
        )
        .await;
    assert!(res.status.is_client_error(), "{}", res.status);
    let content_type = res.headers["content-type"].to_str().expect("type");
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(res.text().contains("class=\"error\""));
}
