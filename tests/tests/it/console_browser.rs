//! The console in a real headless Chromium over WebDriver, against the real `repopal-api serve`:
//! sign-up with a field error first, sign-out and sign-in, a revoked session, a cross-site form,
//! markup shown as text, keyboard focus and a 375-pixel layout; saves the README's screenshots.

use repopal_tests::{
    Setup, TestApp,
    fake_slack::{SLACK_CLIENT_ID, SLACK_CLIENT_SECRET},
    monitored::RunIds,
    monitored::{self, INSTALLATION},
};
use std::{path::PathBuf, time::Instant};

use repopal_tests::{
    TestDb,
    auth::PASSWORD,
    browser::{self, Browser},
    fake_argocd::{ARGOCD_TOKEN, FakeArgo},
    http::test_env,
    process::{Proc, spawn},
};

/// `repopal-api serve` on a free port (its `PUBLIC_URL` the address the browser uses) and a
/// `repopal-worker`.
async fn serve(db: &TestDb) -> (Proc, Proc, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let mut env = test_env(&db.url);
    env.insert("PORT".into(), port.to_string());
    env.insert("PUBLIC_URL".into(), base.clone());
    env.insert("SCHEDULER_TICK_SECS".into(), "1".into());
    env.insert("WORKER_POLL_INTERVAL_MS".into(), "200".into());
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let api = spawn("repopal-api", &["serve"], &env);
    let worker = spawn("repopal-worker", &[], &env);
    let client = reqwest::Client::new();
    for _ in 0..400 {
        if client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return (api, worker, base);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("repopal-api did not start: {}", api.log_text());
}

/// Where a screenshot goes: the README's `docs/screenshots/` when `REPOPAL_SCREENSHOTS=1` (to
/// refresh them on purpose), else a scratch directory, so a test run leaves the checkout clean.
fn shot(name: &str) -> PathBuf {
    let dir = if std::env::var("REPOPAL_SCREENSHOTS").is_ok_and(|v| v == "1") {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots")
    } else {
        std::env::temp_dir().join("repopal-screenshots")
    };
    dir.join(format!("{name}.png"))
}

/// A page on another site (`localhost` rather than `127.0.0.1`) that posts a form to the console
/// as soon as it loads: a CSRF attack, carrying a token it somehow learned.
async fn attacker_site(target: String, csrf: String) -> (String, tokio::task::JoinHandle<()>) {
    use axum::{Router, response::Html, routing::get};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let page = format!(
        "<!doctype html><form id=f method=post action=\"{target}/profile/name\">\
         <input name=csrf value=\"{csrf}\"><input name=full_name value=Pwned></form>\
         <script>document.getElementById('f').submit()</script>"
    );
    let app = Router::new().route("/", get(move || async move { Html(page) }));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://localhost:{port}/"), task)
}

#[tokio::test]
async fn the_console_in_a_real_browser() {
    assert!(
        browser::available(),
        "chromium and chromedriver are missing: scripts/test.sh installs them (apt: chromium chromium-driver)"
    );
    let started = Instant::now();
    let db = TestDb::new().await;
    let argo = FakeArgo::start().await;
    let (_api, _worker, base) = serve(&db).await;
    let b = Browser::start(1024, 720).await.expect("browser");

    // 1. Sign up, seeing a field error first; the typed values are kept (the password is not).
    b.goto(&format!("{base}/signup")).await.expect("signup");
    b.fill("#full_name", "Grace <b>Hopper</b>")
        .await
        .expect("name");
    b.fill("#email", "grace@example.com").await.expect("email");
    b.fill("#password", "short").await.expect("password");
    b.fill("#organization_name", "Compilers & <i>Co</i>")
        .await
        .expect("org");
    b.screenshot(&shot("signup")).await.expect("shot");
    b.press("button[type=submit]").await.expect("submit");
    let problem = b.text_of("#password-error").await.expect("inline error");
    assert!(!problem.is_empty());
    let invalid = b.find("#password").await.expect("password");
    assert_eq!(
        b.attribute(&invalid, "aria-invalid")
            .await
            .expect("attr")
            .as_deref(),
        Some("true")
    );
    let org = b.find("#organization_name").await.expect("org");
    assert_eq!(
        b.attribute(&org, "value").await.expect("value").as_deref(),
        Some("Compilers & <i>Co</i>")
    );
    b.fill("#password", PASSWORD).await.expect("password");
    b.press("button[type=submit]").await.expect("submit");

    // 2. The dashboard; user-provided markup is text, not elements.
    let heading = b.text_of("main h1").await.expect("dashboard heading");
    assert_eq!(heading, "Compilers & <i>Co</i>");
    let dashboard = b.url().await.expect("url");
    assert!(dashboard.ends_with("/orgs/compilers-i-co-i"), "{dashboard}");
    assert_eq!(
        b.text_of(".who .name").await.expect("name"),
        "Grace <b>Hopper</b>"
    );
    let injected = b
        .run("return document.querySelectorAll('main i, header b').length")
        .await
        .expect("script");
    assert_eq!(injected, 0);
    b.screenshot(&shot("dashboard")).await.expect("shot");

    // 3. An Argo CD integration through the generated form: a field error first, then a passing
    //    test, then saved; the worker's first health check turns its badge healthy on the list,
    //    which refreshes itself.
    b.goto(&format!("{dashboard}/integrations/new"))
        .await
        .expect("catalogue");
    b.press("a[href$=\"/integrations/new/argocd\"]")
        .await
        .expect("argo card");
    b.fill("#server_url", "ftp://argo.example")
        .await
        .expect("url");
    b.fill("#token", ARGOCD_TOKEN).await.expect("token");
    b.press("button[value=save]").await.expect("save");
    assert!(
        !b.text_of("#server_url-error")
            .await
            .expect("field error")
            .is_empty()
    );
    let token = b.find("#token").await.expect("token");
    assert_eq!(
        b.attribute(&token, "value").await.expect("value"),
        None,
        "the secret is not sent back"
    );
    b.screenshot(&shot("integration-wizard"))
        .await
        .expect("shot");
    b.fill("#server_url", &argo.url).await.expect("url");
    b.fill("#token", ARGOCD_TOKEN).await.expect("token");
    b.press("button[value=test]").await.expect("test");
    let result = b.find("#test-result").await.expect("test result");
    assert_eq!(
        b.attribute(&result, "data-ok")
            .await
            .expect("ok")
            .as_deref(),
        Some("true")
    );
    b.fill("#token", ARGOCD_TOKEN).await.expect("token");
    b.press("button[value=save]").await.expect("save");
    b.find("#integrations").await.expect("the list");
    b.find("#integrations tr[data-checked=\"true\"] [data-status=\"active\"]")
        .await
        .expect("healthy after the worker's first check, without a reload");
    b.screenshot(&shot("integrations")).await.expect("shot");
    b.press("#integrations a").await.expect("its page");
    let bar = b
        .find("svg.chart rect.bar-ok")
        .await
        .expect("a passing check in the chart");
    assert!(b.text(&bar).await.is_ok());
    assert_eq!(b.text_of("#health").await.expect("health"), "active");
    b.screenshot(&shot("integration")).await.expect("shot");

    // 4. Profile; a form whose CSRF token was stripped is refused.
    b.goto(&format!("{base}/profile")).await.expect("profile");
    b.find("#full_name").await.expect("profile form");
    b.screenshot(&shot("profile")).await.expect("shot");
    let csrf = b
        .run("return document.querySelector('input[name=csrf]').value")
        .await
        .expect("token")
        .as_str()
        .expect("token")
        .to_owned();
    b.run(
        "var f = document.querySelector('form[action=\"/profile/name\"]');
         f.querySelector('input[name=csrf]').remove();
         f.querySelector('#full_name').value = 'Stripped';
         f.submit();",
    )
    .await
    .expect("post without token");
    let refused = b.text_of("p.error").await.expect("refusal page");
    assert!(
        refused.contains("expired or was not sent from this page"),
        "{refused}"
    );

    // 5. Another site posting the same form, even with the right token, is refused.
    let (attacker, task) = attacker_site(base.clone(), csrf).await;
    b.goto(&attacker).await.expect("attacker page");
    let refused = b.text_of("p.error").await.expect("refusal page");
    assert!(refused.contains("another site"), "{refused}");
    task.abort();
    let name: String =
        sqlx::query_scalar("SELECT full_name FROM users WHERE email = 'grace@example.com'")
            .fetch_one(&db.pool)
            .await
            .expect("user");
    assert_eq!(
        name, "Grace <b>Hopper</b>",
        "neither refused form changed the name"
    );

    // 6. Keyboard: the first Tab reaches the skip link, and focus is visible.
    b.goto(&format!("{base}/profile")).await.expect("profile");
    b.find("#full_name").await.expect("page");
    b.keys("\u{E004}").await.expect("tab");
    let focused = b.focused().await.expect("focus");
    assert_eq!(b.text(&focused).await.expect("text"), "Skip to content");
    b.keys("\u{E004}").await.expect("tab");
    let outline = b
        .run("return getComputedStyle(document.activeElement).outlineStyle")
        .await
        .expect("style");
    assert_ne!(outline, "none", "focus is visible");

    // 7. Sign out, then sign in again.
    b.press("form[action=\"/logout\"] button")
        .await
        .expect("sign out");
    let notice = b.text_of("p.notice").await.expect("notice");
    assert_eq!(notice, "You are signed out.");
    b.screenshot(&shot("login")).await.expect("shot");
    b.fill("#email", "grace@example.com").await.expect("email");
    b.fill("#password", PASSWORD).await.expect("password");
    b.press("button[type=submit]").await.expect("sign in");
    assert_eq!(
        b.text_of("main h1").await.expect("dashboard"),
        "Compilers & <i>Co</i>"
    );

    // 8. 375 pixels wide: nothing overflows sideways.
    b.resize(375, 740).await.expect("resize");
    let overflow = b
        .run("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        .await
        .expect("width");
    assert!(
        overflow.as_i64().unwrap_or(1) <= 0,
        "horizontal overflow {overflow}"
    );
    b.screenshot(&shot("dashboard-375")).await.expect("shot");
    b.resize(1024, 720).await.expect("resize");

    // 9. The session revoked from elsewhere: the browser's cookie stops working at once.
    let client = reqwest::Client::new();
    let login: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": "grace@example.com", "password": PASSWORD}))
        .send()
        .await
        .expect("api login")
        .json()
        .await
        .expect("json");
    let token = login["data"]["tokens"]["access_token"]
        .as_str()
        .expect("token");
    let sessions: serde_json::Value = client
        .get(format!("{base}/api/v1/auth/sessions"))
        .bearer_auth(token)
        .send()
        .await
        .expect("sessions")
        .json()
        .await
        .expect("json");
    for s in sessions["data"]["items"].as_array().expect("list") {
        if s["current"] == false {
            let id = s["id"].as_str().expect("id");
            let res = client
                .delete(format!("{base}/api/v1/auth/sessions/{id}"))
                .bearer_auth(token)
                .send()
                .await
                .expect("revoke");
            assert!(res.status().is_success());
        }
    }
    b.goto(&format!("{base}/profile")).await.expect("profile");
    b.find("#password").await.expect("the sign-in form");
    assert!(b.url().await.expect("url").contains("/login?next="));

    b.quit().await;
    eprintln!(
        "browser test wall time: {:.1}s",
        started.elapsed().as_secs_f64()
    );
}

/// A run payload that started two minutes ago and finished just now (the corpus's are from 2020,
/// outside the runs page's window).
fn recent(mut p: serde_json::Value) -> serde_json::Value {
    let now = chrono::Utc::now();
    let at =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    p["workflow_run"]["run_started_at"] = at(now - chrono::Duration::minutes(2)).into();
    p["workflow_run"]["updated_at"] = at(now).into();
    p
}

/// Steps 4 and 5 of the flow, from the dashboard: Add to Slack (the fake Slack's authorize page
/// sends the browser back) lands on the new integration's page, where the alert channel is picked
/// from the workspace's channels; then the GitHub App's install link (the fake GitHub's install
/// page redirects to the setup callback) lands back on the dashboard saying what happened.
async fn add_slack_and_install_the_app(b: &Browser, m: &Setup, base: &str) {
    let ops = m.slack.add_channel("ops-alerts");
    b.press("a[href$=\"/slack/connect\"]")
        .await
        .expect("Add to Slack");
    assert!(
        b.text_of("p.notice")
            .await
            .expect("landed on a console page")
            .starts_with("Slack is connected."),
    );
    assert_eq!(m.slack.count("oauth/v2/authorize"), 1);
    let option = b
        .find(&format!("#alert_channel option[value=\"{ops}\"]"))
        .await
        .expect("the workspace's channel is offered");
    b.click(&option).await.expect("pick it");
    b.press("#save-alert-channel").await.expect("save");
    assert_eq!(
        b.text_of("#alert-current").await.expect("saved channel"),
        "#ops-alerts"
    );
    let saved: Option<String> = sqlx::query_scalar(
        "SELECT config->>'alert_channel' FROM integrations WHERE kind = 'slack' AND config ? 'team_id'",
    )
    .fetch_one(&m.app.db.pool)
    .await
    .expect("the Slack integration Add to Slack created");
    assert_eq!(saved.as_deref(), Some(ops.as_str()));
    b.screenshot(&shot("slack-alert-channel"))
        .await
        .expect("shot");

    m.github
        .authorize("console-setup-code", monitored::installer());
    m.github.install_redirects_to(
        &format!("{base}/api/v1/github/setup"),
        INSTALLATION,
        "console-setup-code",
    );
    b.goto(&format!("{base}/orgs/kilo"))
        .await
        .expect("dashboard");
    b.press("a[href$=\"/github/install\"]")
        .await
        .expect("Install the GitHub App");
    assert_eq!(
        b.text_of("p.notice")
            .await
            .expect("landed on the dashboard"),
        "The GitHub App is installed; its repositories are being synced."
    );
    assert!(
        b.url()
            .await
            .expect("url")
            .starts_with(&format!("{base}/orgs/kilo?"))
    );
}

/// The incidents board in the browser, over the API router served on a real port with the
/// monitored-repository fixture (fake GitHub and Slack, in-process jobs): Add to Slack with its
/// alert channel picked and the GitHub App installed from the console first; then a signed failed-run
/// delivery makes the incident appear on the open board without a reload; it is acknowledged from
/// its page; a green run resolves it.
#[tokio::test]
async fn an_incident_appears_on_the_open_board_and_a_green_run_resolves_it() {
    assert!(
        browser::available(),
        "chromium and chromedriver are missing: scripts/test.sh installs them (apt: chromium chromium-driver)"
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let m = TestApp::builder()
        .repositories(2)
        .env("PUBLIC_URL", base.clone())
        .env("SLACK_CLIENT_ID", SLACK_CLIENT_ID)
        .env("SLACK_CLIENT_SECRET", SLACK_CLIENT_SECRET)
        .monitored_repo()
        .await;
    let router = m.app.router.clone();
    let server = tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await;
    });
    let b = Browser::start(1024, 720).await.expect("browser");
    b.goto(&format!("{base}/login")).await.expect("login");
    b.fill("#email", "incidents-admin@example.com")
        .await
        .expect("email");
    b.fill("#password", PASSWORD).await.expect("password");
    b.press("button[type=submit]").await.expect("sign in");
    b.find("main h1").await.expect("dashboard");
    add_slack_and_install_the_app(&b, &m, &base).await;
    // Connect a repository: its toggle shows the hook job, then settles without a reload once
    // the worker installed the webhook.
    let second: String =
        sqlx::query_scalar("SELECT id::text FROM repositories WHERE full_name = 'acme/repo-00002'")
            .fetch_one(&m.app.db.pool)
            .await
            .expect("repository");
    b.goto(&format!("{base}/orgs/kilo/repositories"))
        .await
        .expect("repositories");
    b.press(&format!("#toggle-{second}"))
        .await
        .expect("connect");
    b.find(&format!("#repo-{second}[data-hook=\"pending\"]"))
        .await
        .expect("the toggle shows the job");
    m.run_jobs().await;
    b.find(&format!("#repo-{second}[data-hook=\"active\"]"))
        .await
        .expect("the toggle settles without a reload");
    b.screenshot(&shot("repositories")).await.expect("shot");

    b.goto(&format!("{base}/orgs/kilo/incidents"))
        .await
        .expect("board");
    assert!(
        b.text_of("#board")
            .await
            .expect("board")
            .contains("No incidents")
    );

    m.github
        .set_run_jobs(9001, &[("build", "failure", Some("Run tests"))]);
    m.run_completes(
        "d-1",
        &recent(m.workflow_run(RunIds::first(9001, 10), "main", "failure")),
    )
    .await;
    // No navigation: the open board picks it up by itself.
    let link = b
        .find("#board tr.incident[data-status=\"open\"] a")
        .await
        .expect("the incident appears without a reload");
    b.screenshot(&shot("incidents")).await.expect("shot");
    b.click(&link).await.expect("open it");
    b.press("#acknowledge").await.expect("acknowledge");
    assert_eq!(
        b.text_of("#incident-status").await.expect("status"),
        "acknowledged"
    );
    b.screenshot(&shot("incident")).await.expect("shot");

    m.run_completes(
        "d-2",
        &recent(m.workflow_run(RunIds::first(9002, 11), "main", "success")),
    )
    .await;
    b.goto(&format!("{base}/orgs/kilo/incidents?status=resolved"))
        .await
        .expect("board");
    b.find("#board tr.incident[data-status=\"resolved\"]")
        .await
        .expect("resolved by the green run");
    // The runs page: both runs, with the window's stats.
    b.goto(&format!("{base}/orgs/kilo/runs"))
        .await
        .expect("runs");
    assert_eq!(b.text_of("#stat-runs").await.expect("runs"), "2");
    assert_eq!(b.text_of("#stat-failures").await.expect("failed"), "1");
    b.screenshot(&shot("runs")).await.expect("shot");

    // The repository's page: hook state, runs, and its Slack channels picked from the workspace
    // (the channel the alerts went to is listed and ticked); untick it and save.
    b.goto(&format!("{base}/orgs/kilo/repositories/{}", m.repo))
        .await
        .expect("repository");
    assert_eq!(b.text_of("#hook-state").await.expect("hook"), "active");
    let picked = b
        .find("#channel-picker input[name=channel]:checked")
        .await
        .expect("the mapped channel is ticked in the picker");
    let channel_id = b
        .attribute(&picked, "value")
        .await
        .expect("value")
        .expect("an id");
    b.screenshot(&shot("repository")).await.expect("shot");
    b.click(&picked).await.expect("untick");
    b.press("form[action$=\"/settings\"] button[type=submit]")
        .await
        .expect("save");
    b.find("p.notice").await.expect("saved");
    let channels: serde_json::Value =
        sqlx::query_scalar("SELECT slack_channels FROM repositories WHERE id = $1::uuid")
            .bind(&m.repo)
            .fetch_one(&m.app.db.pool)
            .await
            .expect("row");
    assert_eq!(
        channels,
        serde_json::json!(["C0INCIDENTS"]),
        "{channel_id} unticked"
    );
    b.quit().await;
    server.abort();
}
