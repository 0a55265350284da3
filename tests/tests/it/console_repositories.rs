//! Console repository pages over HTTP against fake GitHub: the list (search, filters, cursor
//! paging), connect/disconnect toggles that show the hook job until it settles, batch actions
//! (all or nothing), and the detail page with runs, incidents and settings.

use repopal_tests::{
    Setup, TestApp,
    auth::PASSWORD,
    console::{Browser, location},
    monitored::RunIds,
};

/// Signs the Setup setup's admin in to the console.
pub(crate) async fn admin_browser(m: &Setup) -> Browser {
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
    b
}

async fn repo_id(m: &Setup, name: &str) -> String {
    sqlx::query_scalar("SELECT id::text FROM repositories WHERE full_name = $1")
        .bind(name)
        .fetch_one(&m.app.db.pool)
        .await
        .expect("repository")
}

async fn hook_state(m: &Setup, name: &str) -> (bool, String) {
    sqlx::query_as("SELECT monitoring_enabled, hook_state FROM repositories WHERE full_name = $1")
        .bind(name)
        .fetch_one(&m.app.db.pool)
        .await
        .expect("repository")
}

fn rows(html: &str) -> usize {
    html.matches("class=\"repository\"").count()
}

#[tokio::test]
async fn the_repositories_list_searches_filters_and_pages_by_cursor() {
    let m = TestApp::builder().repositories(60).monitored_repo().await;
    let mut b = admin_browser(&m).await;

    let first = b.get(&m.app, "/orgs/kilo/repositories").await;
    assert_eq!(first.status, 200, "{}", first.text());
    let html = first.text();
    assert_eq!(rows(&html), 50, "one page of 50");
    assert!(html.contains("acme/repo-00001") && html.contains("acme/repo-00050"));
    assert!(!html.contains("acme/repo-00051"));
    assert!(
        html.contains("href=\"/orgs/kilo/repositories?after=acme%2Frepo-00050\""),
        "{html}"
    );
    assert!(html.contains("<label for=\"f-search\">Search</label>"));

    let second = b
        .get(&m.app, "/orgs/kilo/repositories?after=acme%2Frepo-00050")
        .await
        .text();
    assert_eq!(rows(&second), 10);
    assert!(second.contains("acme/repo-00060") && !second.contains("acme/repo-00050<"));
    assert!(second.contains(">First page<"));
    assert!(!second.contains("id=\"next-page\""), "the last page");

    let found = b
        .get(&m.app, "/orgs/kilo/repositories?search=repo-0003")
        .await
        .text();
    assert_eq!(rows(&found), 10, "repo-00030 … repo-00039");
    assert!(found.contains("value=\"repo-0003\""), "the search is kept");
    // LIKE wildcards are literal.
    let none = b
        .get(&m.app, "/orgs/kilo/repositories?search=%25")
        .await
        .text();
    assert_eq!(rows(&none), 0);
    assert!(none.contains("match these filters"));

    let monitored = b
        .get(&m.app, "/orgs/kilo/repositories?state=monitored")
        .await
        .text();
    assert_eq!(rows(&monitored), 1);
    assert!(monitored.contains("acme/repo-00001"));
    assert!(monitored.contains(">Connected<"));
    let unmonitored = b
        .get(&m.app, "/orgs/kilo/repositories?state=unmonitored")
        .await
        .text();
    assert_eq!(rows(&unmonitored), 50);
    assert!(!unmonitored.contains("acme/repo-00001<"));

    // A garbage cursor or filter is a page, not a 500.
    let odd = b
        .get(
            &m.app,
            "/orgs/kilo/repositories?after=%E2%98%83&state=%3Cx%3E",
        )
        .await;
    assert_eq!(odd.status, 200, "{}", odd.text());

    // Someone outside the organisation gets a 404 page.
    let mut other = Browser::default();
    other
        .sign_up(&m.app, "Other", "other@example.com", "Other")
        .await;
    assert_eq!(
        other.get(&m.app, "/orgs/kilo/repositories").await.status,
        404
    );
}

#[tokio::test]
async fn a_connect_toggle_shows_the_hook_job_until_it_settles_and_disconnect_removes_the_hook() {
    let m = TestApp::builder().repositories(3).monitored_repo().await;
    let mut b = admin_browser(&m).await;
    let id = repo_id(&m, "acme/repo-00002").await;
    let hooks_before = m.github.hooks().len();

    let list = b
        .get(&m.app, "/orgs/kilo/repositories?search=repo")
        .await
        .text();
    assert!(
        list.contains(&format!("id=\"toggle-{id}\" aria-pressed=\"false\"")),
        "{list}"
    );
    assert!(
        !list.contains("data-refresh"),
        "nothing settling, no refresh"
    );
    let res = b
        .post(
            &m.app,
            &format!("/orgs/kilo/repositories/{id}/connect"),
            &[("back", "list"), ("search", "repo")],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(
        location(&res),
        "/orgs/kilo/repositories?search=repo&notice=repository_connecting"
    );
    assert_eq!(
        hook_state(&m, "acme/repo-00002").await,
        (true, "pending".into())
    );
    let pending = b.get(&m.app, &location(&res)).await.text();
    assert!(pending.contains("RepoPal is installing its webhook"));
    assert!(
        pending.contains("id=\"repositories\" data-refresh=\"2\""),
        "{pending}"
    );
    assert!(pending.contains(&format!("id=\"repo-{id}\"")));
    assert!(pending.contains("Connecting: installing the webhook"));
    let job: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_logs WHERE action = 'repository.connect'")
            .fetch_one(&m.app.db.pool)
            .await
            .expect("audit");
    assert!(job >= 1);

    // The worker installs the hook: the toggle settles and the list stops refreshing.
    m.run_jobs().await;
    assert_eq!(
        hook_state(&m, "acme/repo-00002").await,
        (true, "active".into())
    );
    assert_eq!(m.github.hooks().len(), hooks_before + 1);
    let settled = b.get(&m.app, "/orgs/kilo/repositories").await.text();
    assert!(!settled.contains("data-refresh"), "{settled}");
    assert!(settled.contains(&format!("id=\"toggle-{id}\" aria-pressed=\"true\"")));

    // Disconnect from the detail page returns there; the worker removes the hook.
    b.get(&m.app, &format!("/orgs/kilo/repositories/{id}"))
        .await;
    let res = b
        .post(
            &m.app,
            &format!("/orgs/kilo/repositories/{id}/disconnect"),
            &[("back", "detail")],
        )
        .await;
    assert_eq!(
        location(&res),
        format!("/orgs/kilo/repositories/{id}?notice=repository_disconnecting")
    );
    assert_eq!(
        hook_state(&m, "acme/repo-00002").await,
        (false, "none".into())
    );
    m.run_jobs().await;
    assert_eq!(m.github.hooks().len(), hooks_before);

    // Without the CSRF token, or from another origin, nothing changes.
    let res = b
        .post_raw(
            &m.app,
            &format!("/orgs/kilo/repositories/{id}/connect"),
            &[("back", "list")],
            Some("http://repopal.test"),
        )
        .await;
    assert_eq!(res.status, 403);
    let csrf = b.csrf.clone().expect("token");
    let res = b
        .post_raw(
            &m.app,
            &format!("/orgs/kilo/repositories/{id}/connect"),
            &[("csrf", &csrf)],
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(res.status, 403);
    assert_eq!(
        hook_state(&m, "acme/repo-00002").await,
        (false, "none".into())
    );
    // An unknown action or id is a 404 page.
    let res = b
        .post(
            &m.app,
            &format!("/orgs/kilo/repositories/{id}/explode"),
            &[],
        )
        .await;
    assert_eq!(res.status, 404);
}

#[tokio::test]
async fn batch_connect_and_disconnect_take_the_whole_selection_or_nothing() {
    let m = TestApp::builder().repositories(5).monitored_repo().await;
    let mut b = admin_browser(&m).await;
    let mut ids = Vec::new();
    for n in 3..=5 {
        ids.push(repo_id(&m, &format!("acme/repo-{n:05}")).await);
    }
    let hooks_before = m.github.hooks().len();
    let list = b.get(&m.app, "/orgs/kilo/repositories").await.text();
    assert!(list.contains("form=\"batch\" name=\"id\""), "{list}");

    // Nothing selected: the list again with the problem.
    let res = b
        .post(
            &m.app,
            "/orgs/kilo/repositories/batch",
            &[("action", "connect")],
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
    assert!(res.text().contains("id=\"repos-error\""));

    // Another organisation's repository in the selection: 404 and nothing changes.
    let mut other = Browser::default();
    other
        .sign_up(&m.app, "Other", "other@example.com", "Other")
        .await;
    let foreign = uuid::Uuid::new_v4().to_string();
    let mut fields = vec![("action", "connect")];
    fields.extend(ids.iter().map(|i| ("id", i.as_str())));
    fields.push(("id", foreign.as_str()));
    b.get(&m.app, "/orgs/kilo/repositories").await;
    let res = b
        .post(&m.app, "/orgs/kilo/repositories/batch", &fields)
        .await;
    assert_eq!(res.status, 404, "{}", res.text());
    for n in 3..=5 {
        assert_eq!(
            hook_state(&m, &format!("acme/repo-{n:05}")).await,
            (false, "none".into())
        );
    }

    // The three: all pending, then all active after the worker ran.
    fields.pop();
    fields.push(("state", "unmonitored"));
    let res = b
        .post(&m.app, "/orgs/kilo/repositories/batch", &fields)
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(
        location(&res),
        "/orgs/kilo/repositories?state=unmonitored&notice=repository_connecting"
    );
    let page = b.get(&m.app, "/orgs/kilo/repositories").await.text();
    assert_eq!(
        page.matches("data-hook=\"pending\"").count(),
        3 * 2,
        "row and badge"
    );
    m.run_jobs().await;
    for n in 3..=5 {
        assert_eq!(
            hook_state(&m, &format!("acme/repo-{n:05}")).await,
            (true, "active".into())
        );
    }
    assert_eq!(m.github.hooks().len(), hooks_before + 3);

    let mut fields = vec![("action", "disconnect")];
    fields.extend(ids.iter().take(2).map(|i| ("id", i.as_str())));
    let res = b
        .post(&m.app, "/orgs/kilo/repositories/batch", &fields)
        .await;
    assert_eq!(res.status, 303);
    m.run_jobs().await;
    assert_eq!(m.github.hooks().len(), hooks_before + 1);
    assert_eq!(
        hook_state(&m, "acme/repo-00005").await,
        (true, "active".into())
    );
}

#[tokio::test]
async fn the_repository_page_shows_hook_runs_incidents_and_saves_settings() {
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
    let mut b = admin_browser(&m).await;
    let page = b
        .get(&m.app, &format!("/orgs/kilo/repositories/{}", m.repo))
        .await;
    assert_eq!(page.status, 200, "{}", page.text());
    let html = page.text();
    assert!(html.contains(&format!("<h1>{}</h1>", m.full_name)));
    assert!(html.contains("<strong id=\"hook-state\">active</strong>"));
    assert!(
        html.contains(&format!("/orgs/kilo/incidents/{incident}")),
        "{html}"
    );
    assert!(html.contains("id=\"runs\"") && html.contains("#10"));
    assert!(html.contains("<code class=\"channel\">C0INCIDENTS</code>"));
    // The picker lists the workspace's channels (from `conversations.list`), the mapped one
    // ticked; what it does not list stays typed.
    assert!(m.slack.count("conversations.list") >= 1);
    let picked = html
        .split("name=\"channel\" value=\"")
        .nth(1)
        .and_then(|h| h.split('"').next())
        .expect("a channel in the picker")
        .to_owned();
    assert!(
        html.contains(&format!("id=\"channel-{picked}\" checked> #ci-alerts")),
        "{html}"
    );
    assert!(html.contains("value=\"C0INCIDENTS\""), "{html}");

    // A channel with markup is refused beside the form, as the API refuses it.
    let path = format!("/orgs/kilo/repositories/{}/settings", m.repo);
    let res = b
        .post(&m.app, &path, &[("slack_channels", "#ok, <script>")])
        .await;
    assert_eq!(res.status, 422);
    let html = res.text();
    assert!(html.contains("id=\"repo-error\""));
    assert!(!html.contains("<script>"), "shown as text");
    let res = b
        .post(
            &m.app,
            &path,
            &[
                ("channel", picked.as_str()),
                ("slack_channels", "#deploys  C0NEW"),
                ("auto_incident", "on"),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let (channels, auto): (serde_json::Value, bool) = sqlx::query_as(
        "SELECT slack_channels, auto_incident FROM repositories WHERE id = $1::uuid",
    )
    .bind(&m.repo)
    .fetch_one(&m.app.db.pool)
    .await
    .expect("row");
    assert_eq!(channels, serde_json::json!([picked, "#deploys", "C0NEW"]));
    assert!(auto);
    // Unticked: automatic incidents off.
    b.get(&m.app, &location(&res)).await;
    b.post(&m.app, &path, &[("slack_channels", "")]).await;
    let auto: bool =
        sqlx::query_scalar("SELECT auto_incident FROM repositories WHERE id = $1::uuid")
            .bind(&m.repo)
            .fetch_one(&m.app.db.pool)
            .await
            .expect("row");
    assert!(!auto);
    // An unknown repository is a 404 page.
    let res = b
        .get(
            &m.app,
            &format!("/orgs/kilo/repositories/{}", uuid::Uuid::new_v4()),
        )
        .await;
    assert_eq!(res.status, 404);
}
