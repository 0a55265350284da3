//! `GET /api/v1/orgs/{org}/jobs` and `…/jobs/{id}`: an organisation sees the jobs scheduled for its
//! integrations (not only those its members started), filtered by queue and state and paged by
//! cursor; another organisation's jobs are absent from its list and 404 by id.
#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed assertion

use std::collections::BTreeSet;

use axum::http::Method;
use repopal_tests::{Setup, TestApp};
use serde_json::Value;

async fn ids(h: &Setup, query: &str) -> Vec<String> {
    let res = h
        .admin_call(Method::GET, &format!("jobs{query}"), None)
        .await;
    assert_eq!(res.status, 200, "{query}: {}", res.text());
    res.json()["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn an_orgs_scheduled_health_check_is_listed_and_found_and_another_org_sees_neither() {
    let h = TestApp::builder().health().await;
    let integration = h.create_argocd("Argo").await;
    // Creating the integration scheduled its first health check: a job of the organisation.
    let res = h
        .admin_call(Method::GET, "jobs?queue=check_integration", None)
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let items = res.json()["data"]["items"].as_array().unwrap().clone();
    assert!(
        items.iter().all(|j| j["queue"] == "check_integration"),
        "{items:?}"
    );
    // The setup's other integrations have their checks too; this one's names it in its payload.
    let mut mine = Vec::new();
    for job in &items {
        let payload: Value = sqlx::query_scalar(
            "SELECT convert_from(job, 'UTF8')::jsonb FROM apalis.jobs WHERE id = $1",
        )
        .bind(job["id"].as_str().unwrap())
        .fetch_one(&h.app.db.pool)
        .await
        .unwrap();
        if payload["integration_id"] == integration.to_string() {
            mine.push(job.clone());
        }
    }
    assert_eq!(mine.len(), 1, "{items:?}");
    let (id, state) = (
        mine[0]["id"].as_str().unwrap().to_owned(),
        mine[0]["state"].as_str().unwrap().to_owned(),
    );

    let by_id = h.admin_call(Method::GET, &format!("jobs/{id}"), None).await;
    assert_eq!(by_id.status, 200, "{}", by_id.text());
    assert_eq!(by_id.json()["data"]["queue"], "check_integration");
    assert_eq!(by_id.json()["data"]["error_code"], Value::Null);

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
        let res = h
            .admin_call(Method::GET, &format!("jobs?limit=1{cursor}"), None)
            .await;
        let data = res.json()["data"].clone();
        paged.extend(
            data["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|j| j["id"].as_str().unwrap().to_owned()),
        );
        match data["next_cursor"].as_str() {
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
    let list = h
        .app
        .call(
            Method::GET,
            &format!("/api/v1/orgs/{theirs}/jobs"),
            Some(&other.access_token),
            None,
        )
        .await;
    assert_eq!(list.status, 200);
    assert_eq!(list.json()["data"]["items"], serde_json::json!([]));
    for job in [id.as_str(), "01JZZZZZZZZZZZZZZZZZZZZZZZ"] {
        let res = h
            .app
            .call(
                Method::GET,
                &format!("/api/v1/orgs/{theirs}/jobs/{job}"),
                Some(&other.access_token),
                None,
            )
            .await;
        assert_eq!(res.status, 404, "{}", res.text());
        assert_eq!(res.json()["error"]["code"], "not_found");
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
    let as_viewer = |path: String| {
        let token = viewer.access_token.clone();
        let app = &h.app;
        async move { app.call(Method::GET, &path, Some(&token), None).await }
    };
    let list = as_viewer(format!("/api/v1/orgs/{}/jobs", h.org)).await;
    assert_eq!(list.status, 200, "{}", list.text());
    let seen: Vec<String> = list.json()["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["queue"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        seen.iter()
            .all(|q| !common::jobs::INTEGRATION_QUEUES.contains(&q.as_str())),
        "{seen:?}"
    );
    let res = as_viewer(format!("/api/v1/orgs/{}/jobs/{id}", h.org)).await;
    assert_eq!(res.status, 404, "{}", res.text());
}
