//! Strange input, sent to every operation: a NUL character in a JSON string, a JSON key, a query
//! parameter or a path segment is 400 `invalid_characters` (never a 500); deep JSON and huge numbers
//! get clear errors; a signed delivery carrying NUL characters is accepted and processed.

use axum::{
    body::Body,
    http::{Method, Request},
};
use repopal_tests::{TestApp, app::ErrorEnvelope, monitored::RunIds};
use serde_json::json;

/// Every operation of the OpenAPI document as (method, path with ids filled in).
async fn operations(app: &TestApp, org: &str) -> Vec<(Method, String, bool)> {
    let doc = app.get("/openapi.json").await.json();
    let mut ops = Vec::new();
    for (path, item) in doc["paths"]
        .as_object()
        .expect("the OpenAPI document has paths")
    {
        for (method, op) in item.as_object().expect("each path item is an object") {
            let Ok(method) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            let mut filled = path.replace("{org_id}", org);
            while let Some(start) = filled.find('{') {
                let end = filled[start..]
                    .find('}')
                    .expect("every path parameter is closed by a brace")
                    + start;
                filled.replace_range(start..=end, "00000000-0000-4000-8000-000000000000");
            }
            ops.push((method, filled, op.get("requestBody").is_some()));
        }
    }
    ops
}

#[tokio::test]
async fn nul_characters_anywhere_are_refused_clearly_on_every_operation() {
    let app = TestApp::builder().build().await;
    let admin = app.register("nul@example.com", Some("Nul Org")).await;
    let org = admin.first_org();
    let ops = operations(&app, &org).await;
    assert!(ops.len() > 60, "{}", ops.len());
    let mut bodies_checked = 0;
    for (method, path, has_body) in ops {
        if path == "/api/v1/webhooks/github" {
            continue;
        }
        // In the query string (and the same for a path segment).
        let admin_caller = app.caller(Some(&admin));
        let e: ErrorEnvelope = admin_caller
            .call(
                method.clone(),
                &format!("{path}?cursor=a%00b&status=%00"),
                None,
                400,
            )
            .await;
        assert_eq!(
            e.error.code, "invalid_characters",
            "{method} {path}?…%00: {e:?}"
        );
        let _: ErrorEnvelope = admin_caller
            .call(method.clone(), &format!("{path}/a%00b"), None, 400)
            .await;

        // In a JSON string and in a key, signed in and not.
        if has_body {
            bodies_checked += 1;
            for session in [Some(&admin), None] {
                for body in [
                    json!({"name": "a\u{0}b", "email": "x\u{0}@example.com", "password": "P\u{0}ssw0rd!", "full_name": "\u{0}"}),
                    json!({"nested": [{"ke\u{0}y": 1}]}),
                ] {
                    // Any status but a 5xx: which 4xx depends on the route.
                    let res = app
                        .caller(session)
                        .send(method.clone(), &path, Some(body))
                        .await;
                    assert!(
                        res.status.as_u16() < 500,
                        "{method} {path}: {} {}",
                        res.status,
                        res.text()
                    );
                    // Signed in, the body is the only thing wrong; signed out, a route that needs
                    // a session may say so first.
                    let code = res.json()["error"]["code"].clone();
                    assert!(
                        code == "invalid_characters"
                            || (session.is_none() && code == "unauthorized"),
                        "{method} {path}: {}",
                        res.text()
                    );
                }
            }
        }
    }
    assert!(bodies_checked > 20, "{bodies_checked}");
    // Nothing was created by any of it.
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(users, 1);
}

#[tokio::test]
async fn deep_json_and_huge_numbers_get_clear_errors() {
    let app = TestApp::builder().build().await;
    let admin = app.register("deep@example.com", Some("Deep Org")).await;
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/auth/register")
        .header("content-type", "application/json")
        .body(Body::from(deep))
        .unwrap();
    let res = app.request(req).await;
    assert_eq!(
        (res.status.as_u16(), res.json()["error"]["code"].clone()),
        (400, json!("invalid_json"))
    );
    let path = format!(
        "/api/v1/orgs/{}/incidents?limit=99999999999999999999999",
        admin.first_org()
    );
    let _: ErrorEnvelope = app
        .caller(Some(&admin))
        .call(Method::GET, &path, None, 400)
        .await;
    for raw in [
        r#"{"email": 1e400, "password": "x"}"#,
        r#"{"email": "a@example.com", "password": 99999999999999999999999999999}"#,
    ] {
        let req = Request::builder()
            .method(Method::POST)
            .uri("/api/v1/auth/login")
            .header("content-type", "application/json")
            .body(Body::from(raw))
            .unwrap();
        let res = app.request(req).await;
        let code = res.json()["error"]["code"].clone();
        assert!(
            (res.status.as_u16() == 400 && code == "invalid_json")
                || (res.status.as_u16() == 422 && code == "validation_failed"),
            "{raw}: {} {}",
            res.status,
            res.text()
        );
    }
}

/// A signed delivery whose strings carry NUL characters is stored (202), processed, and its
/// run recorded with the characters replaced; never a 5xx and never a failed job.
#[tokio::test]
async fn a_signed_delivery_with_nul_characters_is_accepted_and_processed() {
    let m = TestApp::builder().monitored_repo().await;
    let mut payload = m.workflow_run(RunIds::first(9100, 1), "main", "failure");
    payload["action"] = json!("completed");
    payload["workflow_run"]["name"] = json!("te\u{0}st");
    payload["workflow_run"]["display_title"] = json!("a\u{0}b");
    payload["workflow_run"]["head_commit"]["message"] = json!("fix\u{0}: nul");
    payload["extra\u{0}key"] = json!("\u{0}");
    let res = m.deliver("workflow_run", "nul-1", &payload).await;
    assert_eq!(res.status, 202, "{}", res.text());
    m.run_jobs().await;
    let (status, detail): (String, Option<String>) = sqlx::query_as(
        "SELECT status, status_detail FROM webhook_deliveries WHERE delivery_id = 'nul-1'",
    )
    .fetch_one(&m.app.db.pool)
    .await
    .unwrap();
    assert_eq!(status, "processed", "{detail:?}");
    let name: String =
        sqlx::query_scalar("SELECT workflow_name FROM workflow_runs WHERE run_id = 9100")
            .fetch_one(&m.app.db.pool)
            .await
            .unwrap();
    assert_eq!(name, "te\u{FFFD}st");
    assert_eq!(m.incidents().await.len(), 1);
}

/// Out-of-range timestamps (found by a review; chrono accepts years down to -262143; Postgres only from 4713 BC)
/// and cursors must be 400, never 500.
#[tokio::test]
async fn out_of_range_times_and_cursors_are_400_never_500() {
    let app = TestApp::builder().build().await;
    let admin = app.register("r2-odd@example.com", Some("Odd")).await;
    let org = admin.first_org();
    let uuid = "00000000-0000-4000-8000-000000000000";
    let mut bad = Vec::new();
    for q in [
        format!("/api/v1/orgs/{org}/audit-logs?from=-9999-01-01T00:00:00Z"),
        format!("/api/v1/orgs/{org}/audit-logs?to=-200000-01-01T00:00:00Z"),
        format!("/api/v1/orgs/{org}/workflow-runs?from=-9999-01-01T00:00:00Z"),
        format!("/api/v1/orgs/{org}/workflow-runs/stats?to=-9999-01-01T00:00:00Z"),
        format!("/api/v1/orgs/{org}/workflow-runs?cursor=-8000000000000000000_{uuid}"),
        format!("/api/v1/orgs/{org}/incidents?cursor=-8000000000000000000_{uuid}"),
        format!("/api/v1/orgs/{org}/workflow-runs?cursor=9000000000000000000_{uuid}"),
    ] {
        // Every refusal is collected (not asserted one by one), so the raw answer.
        let res = app.caller(Some(&admin)).send(Method::GET, &q, None).await;
        let code = res.json()["error"]["code"].clone();
        if res.status.as_u16() != 400 || !(code == "invalid_query" || code == "value_out_of_range")
        {
            bad.push(format!("{q} -> {} {}", res.status, res.text()));
        }
    }
    assert!(bad.is_empty(), "not a clear 400:\n{}", bad.join("\n"));
}
