//! `GET /api/v1/orgs/{org}/jobs` and `…/jobs/{id}`: an organisation sees the jobs scheduled for its
//! integrations (not only those its members started), filtered by queue and state and paged by
//! cursor; another organisation's jobs are absent from its list and 404 by id.

use std::collections::BTreeSet;

use axum::http::Method;
use repopal_tests::{Setup, TestApp, app::ErrorEnvelope, shapes::Page};
use serde::Deserialize;
use serde_json::Value;

/// A job as the API lists and shows it (the fields these tests read).
#[derive(Debug, Clone, Deserialize)]
struct Job {
    id: String,
    queue: String,
    state: String,
    error_code: Option<String>,
}

async fn jobs(h: &Setup, query: &str) -> Page<Job> {
    h.as_admin()
        .call(Method::GET, &format!("jobs{query}"), None, 200)
        .await
}

async fn ids(h: &Setup, query: &str) -> Vec<String> {
    jobs(h, query)
        .await
        .items
        .into_iter()
        .map(|j| j.id)
        .collect()
}

#[tokio::test]
async fn an_orgs_scheduled_health_check_is_listed_and_found_and_another_org_sees_neither() {
    let h = TestApp::builder().health().await;
    let integration = h.create_argocd("Argo").await;
    // Creating the integration scheduled its first health check: a job of the organisation.
    let items = jobs(&h, "?queue=check_integration").await.items;
    assert!(
        items.iter().all(|j| j.queue == "check_integration"),
        "{items:?}"
    );
    // The setup's other integrations have their checks too; this one's names it in its payload.
    let mut mine = Vec::new();
    for job in &items {
        let payload: Value = sqlx::query_scalar(
            "SELECT convert_from(job, 'UTF8')::jsonb FROM apalis.jobs WHERE id = $1",
        )
        .bind(&job.id)
        .fetch_one(&h.app.db.pool)
        .await
        .unwrap();
        if payload["integration_id"] == integration.to_string() {
            mine.push(job.clone());
        }
    }
    assert_eq!(mine.len(), 1, "{items:?}");
    let (id, state) = (mine[0].id.clone(), mine[0].state.clone());

    let by_id: Job = h
        .as_admin()
        .call(Method::GET, &format!("jobs/{id}"), None, 200)
        .await;
    assert_eq!(by_id.queue, "check_integration");
    assert_eq!(by_id.error_code, None);

    // Filters: its state finds it, another state does not; another queue does not.
    assert!(ids(&h, &format!("?state={state}")).await.contains(&id));
    let other_state = if state == "succeeded" {
        "dead"
    } else {
        "succeeded"
    };
    assert!(
        !ids(&h, &format!("?state={other_state}"))
            .await
            .contains(&id)
    );
    assert!(!ids(&h, "?queue=send_email").await.contains(&id));

    // Paging one at a time covers the same jobs as one page, each once.
    let all = ids(&h, "").await;
    let mut paged = Vec::new();
    let mut cursor = String::new();
    for _ in 0..50 {
        let page = jobs(&h, &format!("?limit=1{cursor}")).await;
        paged.extend(page.items.into_iter().map(|j| j.id));
        match page.next_cursor {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(paged, all);
    assert_eq!(paged.iter().collect::<BTreeSet<_>>().len(), paged.len());

    // Another organisation: the job is absent from its list and 404 by id (like an unknown id).
    let other = h
        .app
        .register("outsider@example.com", Some("Outsider"))
        .await;
    let theirs = other.first_org();
    let outsider = h.app.caller(Some(&other)).in_org(&theirs);
    let list: Page<Job> = outsider.call(Method::GET, "jobs", None, 200).await;
    assert!(list.items.is_empty(), "{:?}", list.items);
    for job in [id.as_str(), "01JZZZZZZZZZZZZZZZZZZZZZZZ"] {
        let e: ErrorEnvelope = outsider
            .call(Method::GET, &format!("jobs/{job}"), None, 404)
            .await;
        assert_eq!(e.error.code, "not_found");
    }

    // A viewer of the same organisation may list its jobs but not its integrations: the
    // integration's check (whose errors describe the integration) is neither listed nor found.
    let viewer = h.app.register("viewer@example.com", Some("Viewer")).await;
    sqlx::query(
        "INSERT INTO memberships (org_id, user_id, role) VALUES ($1::uuid, $2::uuid, 'viewer')",
    )
    .bind(&h.org)
    .bind(&viewer.user_id)
    .execute(&h.app.db.pool)
    .await
    .unwrap();
    let as_viewer = h.app.caller(Some(&viewer)).in_org(&h.org);
    let list: Page<Job> = as_viewer.call(Method::GET, "jobs", None, 200).await;
    let seen: Vec<String> = list.items.into_iter().map(|j| j.queue).collect();
    assert!(
        seen.iter()
            .all(|q| !common::jobs::INTEGRATION_QUEUES.contains(&q.as_str())),
        "{seen:?}"
    );
    let _: ErrorEnvelope = as_viewer
        .call(Method::GET, &format!("jobs/{id}"), None, 404)
        .await;
}
