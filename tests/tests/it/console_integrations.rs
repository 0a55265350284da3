//! The kind-specific parts of a console integration page, over HTTP against the fakes: Add to
//! Slack started from the console lands on the new integration's page, whose alert channel is
//! picked from the workspace's channels (a typo is refused), or typed and checked by the schema
//! when Slack cannot list them; another organisation gets 404; an Argo CD integration's page lists
//! the applications its sync stored, with health, sync status, last operation and a link.

use std::time::Duration;

use axum::http::Method;
use repopal_tests::{Setup, TestApp, console::location, fake_argocd::AppStatus, worker};
use serde_json::Value;

use crate::console_repositories::admin_browser;

/// The query value `name` of an absolute or relative URL.
fn query_value(link: &str, name: &str) -> String {
    url::Url::parse("http://repopal.test")
        .and_then(|base| base.join(link))
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("{name} in {link}"))
}

fn form_value(v: &str) -> String {
    url::form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

async fn config_of(h: &Setup, id: &str) -> Value {
    sqlx::query_scalar("SELECT config FROM integrations WHERE id = $1::uuid")
        .bind(id)
        .fetch_one(&h.app.db.pool)
        .await
        .expect("integration")
}

#[tokio::test]
async fn add_to_slack_lands_on_the_integration_whose_alert_channel_is_picked_from_the_workspace() {
    let h = TestApp::builder().health().await;
    let m = &h;
    let ops = m.slack.add_channel("ops-alerts");
    // Listed by Slack (channels:read) but the bot is not in it, so it could never post there.
    let lobby = m.slack.add_unjoined_channel("lobby");
    let mut b = admin_browser(m).await;

    let start = b.get(&m.app, "/orgs/kilo/slack/connect").await;
    assert_eq!(start.status, 303, "{}", start.text());
    let state = query_value(&location(&start), "state");
    m.slack.authorize_code("console-code", false);
    let back = b
        .get(
            &m.app,
            &format!(
                "/api/v1/slack/callback?code=console-code&state={}",
                form_value(&state)
            ),
        )
        .await;
    assert_eq!(back.status, 303, "{}", back.text());
    let landing = location(&back);
    let (path, fragment) = landing.split_once('#').expect("a fragment");
    assert_eq!(fragment, "alert-channel");
    let id = path
        .strip_prefix("/orgs/kilo/integrations/")
        .and_then(|p| p.strip_suffix("?notice=slack_connected"))
        .expect("the integration's page")
        .to_owned();
    let kind: String = sqlx::query_scalar("SELECT kind FROM integrations WHERE id = $1::uuid")
        .bind(&id)
        .fetch_one(&m.app.db.pool)
        .await
        .expect("the integration Add to Slack created");
    assert_eq!(kind, "slack");

    let page = b.get(&m.app, path).await;
    assert_eq!(page.status, 200, "{}", page.text());
    let html = page.text();
    assert!(
        html.contains("Slack is connected. Pick the channel"),
        "{html}"
    );
    assert!(html.contains("<strong id=\"alert-current\">no channel yet</strong>"));
    assert!(
        html.contains(&format!("<option value=\"{ops}\">#ops-alerts</option>")),
        "the workspace's channels are offered: {html}"
    );
    assert!(
        !html.contains(&lobby) && !html.contains("#lobby"),
        "a channel the bot is not in is not offered: {html}"
    );
    assert!(html.contains("<label for=\"alert_channel\">"));
    // The setup's pasted-token Slack integration is older: alerts go with it, and the page says so.
    assert!(
        html.contains("id=\"alert-used-instead\">RepoPal posts health alerts with the organisation's first working Slack integration, <strong>Slack</strong>"),
        "{html}"
    );

    // A channel the workspace does not have is refused, and nothing changes.
    let save = format!("/orgs/kilo/integrations/{id}/alert-channel");
    let res = b.post(&m.app, &save, &[("alert_channel", "C0TYPO")]).await;
    assert_eq!(res.status, 422, "{}", res.text());
    assert!(res.text().contains("id=\"alert_channel-error\""));
    assert!(config_of(&h, &id).await.get("alert_channel").is_none());
    // Nor one the bot is not in (a forged form naming it).
    let res = b
        .post(&m.app, &save, &[("alert_channel", lobby.as_str())])
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
    assert!(config_of(&h, &id).await.get("alert_channel").is_none());
    // Without the form's CSRF token: refused.
    let res = b
        .post_raw(
            &m.app,
            &save,
            &[("alert_channel", ops.as_str())],
            Some(repopal_tests::console::ORIGIN),
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.text());
    assert!(config_of(&h, &id).await.get("alert_channel").is_none());

    // A listed channel is saved beside the workspace's identity.
    b.get(&m.app, path).await;
    let res = b
        .post(&m.app, &save, &[("alert_channel", ops.as_str())])
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(
        location(&res),
        format!("/orgs/kilo/integrations/{id}?notice=alert_channel_saved")
    );
    let config = config_of(&h, &id).await;
    assert_eq!(config["alert_channel"], ops.as_str());
    assert!(config["team_id"].is_string(), "{config}");
    let html = b.get(&m.app, &location(&res)).await.text();
    assert!(
        html.contains("<code id=\"alert-current\">#ops-alerts</code>"),
        "{html}"
    );
    assert!(html.contains(&format!(
        "<option value=\"{ops}\" selected>#ops-alerts</option>"
    )));

    // "No alert channel" removes it.
    b.post(&m.app, &save, &[("alert_channel", "")]).await;
    assert!(config_of(&h, &id).await.get("alert_channel").is_none());
}

#[tokio::test]
async fn an_argocd_integration_page_lists_its_synced_applications() {
    let h = TestApp::builder().health().await;
    let _worker = h.start_worker();
    h.argo.set_applications(2);
    h.argo.set_status("app-002", AppStatus::degraded());
    let id = h.create_argocd("Production Argo").await;
    let mut b = admin_browser(&h).await;
    let page_path = format!("/orgs/kilo/integrations/{id}");
    let html = b.get(&h.app, &page_path).await.text();
    assert!(html.contains("id=\"no-applications\""), "{html}");

    let _: Value = h
        .as_admin()
        .call(Method::POST, &format!("integrations/{id}/sync"), None, 202)
        .await;
    let pool = h.app.db.pool.clone();
    worker::eventually("the sync's applications", Duration::from_secs(30), || {
        let pool = pool.clone();
        async move {
            let n: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM argocd_applications WHERE integration_id = $1",
            )
            .bind(id)
            .fetch_one(&pool)
            .await
            .expect("count");
            (n == 2).then_some(())
        }
    })
    .await;

    let html = b.get(&h.app, &page_path).await.text();
    assert_eq!(html.matches("class=\"application\"").count(), 2, "{html}");
    assert!(html.contains(&format!(
        "<a href=\"{}/applications/argocd/guestbook\" rel=\"noopener noreferrer\">guestbook</a>",
        h.argo.url
    )));
    assert!(html.contains("<span class=\"badge ok\">Healthy</span>"));
    assert!(html.contains("<span class=\"badge bad\">Degraded</span>"));
    assert!(html.contains("<span class=\"badge ok\">Synced</span>"));
    assert!(html.contains("Succeeded"), "the last operation: {html}");
    assert!(html.contains("ImagePullBackOff"), "its message: {html}");
    // A Slack-only section is not on an Argo CD page.
    assert!(!html.contains("id=\"alert-channel\""));
}

#[tokio::test]
async fn without_a_channel_list_the_alert_channel_is_typed_and_checked_by_the_schema() {
    let m = TestApp::builder().monitored_repo().await;
    let id: String = sqlx::query_scalar("SELECT id::text FROM integrations WHERE kind = 'slack'")
        .fetch_one(&m.app.db.pool)
        .await
        .expect("the Slack integration");
    // Slack no longer answers for the token: its channels cannot be listed.
    m.slack
        .revoke_token(repopal_tests::fake_slack::SLACK_BOT_TOKEN);
    let mut b = admin_browser(&m).await;
    let path = format!("/orgs/kilo/integrations/{id}");
    let html = b.get(&m.app, &path).await.text();
    assert!(
        html.contains("<input id=\"alert_channel\" name=\"alert_channel\" value=\"\""),
        "{html}"
    );
    assert!(!html.contains("<select id=\"alert_channel\""));
    assert!(
        !html.contains("alert-used-instead"),
        "this one posts the alerts"
    );

    let save = format!("{path}/alert-channel");
    let res = b
        .post(&m.app, &save, &[("alert_channel", "#Bad <i>Channel</i>")])
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
    let html = res.text();
    assert!(
        html.contains("id=\"alert_channel-error\">Alert channel "),
        "{html}"
    );
    assert!(!html.contains("<i>Channel</i>"), "what was typed is text");
    assert!(config_of(&m, &id).await.get("alert_channel").is_none());

    let res = b.post(&m.app, &save, &[("alert_channel", "#ops")]).await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(config_of(&m, &id).await["alert_channel"], "#ops");

    // Someone of another organisation: 404, nothing changes.
    let mut other = repopal_tests::console::Browser::default();
    other
        .sign_up(&m.app, "Other", "other@example.com", "Elsewhere")
        .await;
    other.get(&m.app, "/orgs/elsewhere").await;
    let res = other
        .post(&m.app, &save, &[("alert_channel", "#theirs")])
        .await;
    assert_eq!(res.status, 404);
    let res = other
        .post(
            &m.app,
            &format!("/orgs/elsewhere/integrations/{id}/alert-channel"),
            &[("alert_channel", "#theirs")],
        )
        .await;
    assert_eq!(res.status, 404);
    assert_eq!(config_of(&m, &id).await["alert_channel"], "#ops");
}
