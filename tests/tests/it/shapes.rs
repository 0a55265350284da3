//! One shape per kind of operation (issue 13, item 4): lists page as `{items, next_cursor}` with
//! `limit` and `cursor`, validation errors name fields as `[{field, code, message}]`, a PATCH
//! answers with the resource, the org segment takes the slug, and another org is 404 either way.
#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed assertion

use std::collections::BTreeSet;

use axum::http::Method;
use repopal_tests::{
    TestApp,
    auth::Session,
    http::TestResponse,
    shapes::{field_code, field_errors},
};
use serde_json::{Value, json};

async fn get(app: &TestApp, who: &Session, path: &str) -> TestResponse {
    app.call(Method::GET, path, Some(&who.access_token), None)
        .await
}

async fn invite(app: &TestApp, admin: &Session, org: &str, email: &str) {
    let res = app
        .call(
            Method::POST,
            &format!("/api/v1/orgs/{org}/invitations"),
            Some(&admin.access_token),
            Some(json!({"email": email, "role": "developer"})),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
}

/// Follows `next_cursor` from `path` (which has a query string) to the end; the ids seen.
async fn walk(app: &TestApp, who: &Session, path: &str, key: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut url = path.to_owned();
    for _ in 0..20 {
        let res = get(app, who, &url).await;
        assert_eq!(res.status, 200, "{url}: {}", res.text());
        let data = res.json()["data"].clone();
        let items = data["items"].as_array().unwrap();
        assert!(items.len() <= 2, "limit=2 was exceeded: {data}");
        seen.extend(items.iter().map(|i| i[key].as_str().unwrap().to_owned()));
        match data["next_cursor"].as_str() {
            Some(c) => {
                assert_eq!(items.len(), 2, "a short page with a next cursor: {data}");
                url = format!("{path}&cursor={c}");
            }
            None => return seen,
        }
    }
    panic!("the cursor never ended: {seen:?}");
}

fn query_error(res: &TestResponse, field: &str, code: &str) {
    assert_eq!(res.status, 400, "{}", res.text());
    let body = res.json();
    assert_eq!(body["error"]["code"], "invalid_query", "{body}");
    assert_eq!(field_code(&body, field).as_deref(), Some(code), "{body}");
}

#[tokio::test]
async fn short_lists_page_with_limit_and_an_opaque_cursor_and_refuse_bad_ones() {
    let app = TestApp::builder().build().await;
    let admin = app.register("pager@example.com", Some("Pager")).await;
    let org = admin.first_org();
    for i in 0..5 {
        invite(&app, &admin, &org, &format!("guest{i}@example.com")).await;
    }
    let base = format!("/api/v1/orgs/{org}/invitations?limit=2");
    let emails = walk(&app, &admin, &base, "email").await;
    assert_eq!(emails.len(), 5, "{emails:?}");
    assert_eq!(
        emails.iter().collect::<BTreeSet<_>>().len(),
        5,
        "{emails:?}"
    );
    // Newest first.
    assert_eq!(emails[0], "guest4@example.com");

    // The user's organisations, by slug, through the same cursor rules.
    for name in ["Zeta", "Alpha", "Mid"] {
        let res = app
            .call(
                Method::POST,
                "/api/v1/orgs",
                Some(&admin.access_token),
                Some(json!({"name": name})),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
    }
    let slugs = walk(&app, &admin, "/api/v1/orgs?limit=2", "slug").await;
    let mut sorted = slugs.clone();
    sorted.sort();
    assert_eq!(slugs.len(), 4);
    assert_eq!(slugs, sorted);

    // Out-of-range and malformed paging is a 400 naming the parameter, without the input echoed.
    for limit in ["0", "201", "-1"] {
        let res = get(
            &app,
            &admin,
            &format!("/api/v1/orgs/{org}/members?limit={limit}"),
        )
        .await;
        query_error(&res, "limit", "out_of_range");
    }
    let res = get(&app, &admin, "/api/v1/orgs?limit=lots").await;
    assert_eq!(res.status, 400, "{}", res.text());
    assert_eq!(
        field_errors(&res.json()).keys().collect::<Vec<_>>(),
        ["limit"]
    );
    assert!(!res.text().contains("lots") && !res.text().contains("invalid digit"));
    for cursor in ["garbage", "00", "1_2"] {
        let res = get(
            &app,
            &admin,
            &format!("/api/v1/orgs/{org}/invitations?cursor={cursor}"),
        )
        .await;
        query_error(&res, "cursor", "invalid_cursor");
        let res = get(
            &app,
            &admin,
            &format!("/api/v1/auth/sessions?cursor={cursor}"),
        )
        .await;
        query_error(&res, "cursor", "invalid_cursor");
    }
    let res = get(
        &app,
        &admin,
        &format!("/api/v1/orgs/{org}/jobs?cursor=nope"),
    )
    .await;
    query_error(&res, "cursor", "invalid_cursor");
}

#[tokio::test]
async fn validation_errors_name_the_field_and_never_carry_deserializer_text() {
    let app = TestApp::builder().build().await;
    let admin = app.register("fields@example.com", Some("Fields")).await;
    let org = admin.first_org();
    let invitations = format!("/api/v1/orgs/{org}/invitations");
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        ("/api/v1/orgs", json!({"name": 5}), "name", "invalid_type"),
        (&invitations, json!({"role": "viewer"}), "email", "required"),
        (
            &invitations,
            json!({"email": "x@example.com", "role": "boss"}),
            "role",
            "invalid",
        ),
    ];
    for (path, body, field, code) in cases {
        let res = app
            .call(
                Method::POST,
                path,
                Some(&admin.access_token),
                Some(body.clone()),
            )
            .await;
        assert_eq!(res.status, 422, "{body}: {}", res.text());
        let json = res.json();
        assert_eq!(json["error"]["code"], "validation_failed");
        assert_eq!(
            field_code(&json, field).as_deref(),
            Some(code),
            "{body}: {json}"
        );
        let text = res.text();
        for raw in ["invalid type", "missing field", "line 1", "unknown variant"] {
            assert!(
                !text.contains(raw),
                "{body}: deserializer text leaked: {text}"
            );
        }
    }
    // A query value of the wrong kind.
    let res = get(
        &app,
        &admin,
        &format!("/api/v1/orgs/{org}/jobs?state=exploded"),
    )
    .await;
    query_error(&res, "state", "invalid_value");
    assert!(!res.text().contains("exploded"));
    let res = get(&app, &admin, &format!("/api/v1/orgs/{org}/jobs?queue=nope")).await;
    query_error(&res, "queue", "invalid_value");
}

#[tokio::test]
async fn the_org_segment_takes_the_slug_and_another_orgs_slug_or_id_is_the_same_404() {
    let app = TestApp::builder().build().await;
    let alice = app.register("alice@example.com", Some("Alice Co")).await;
    let mallory = app
        .register("mallory@example.com", Some("Mallory Co"))
        .await;
    let (a_id, m_id) = (alice.first_org(), mallory.first_org());
    let org = get(&app, &alice, &format!("/api/v1/orgs/{a_id}"))
        .await
        .json()["data"]
        .clone();
    let slug = org["slug"].as_str().unwrap().to_owned();
    let m_slug = get(&app, &mallory, &format!("/api/v1/orgs/{m_id}"))
        .await
        .json()["data"]["slug"]
        .as_str()
        .unwrap()
        .to_owned();

    let by_slug = get(&app, &alice, &format!("/api/v1/orgs/{slug}")).await;
    assert_eq!(by_slug.status, 200, "{}", by_slug.text());
    assert_eq!(by_slug.json()["data"]["id"], a_id.as_str());
    let members = get(&app, &alice, &format!("/api/v1/orgs/{slug}/members")).await;
    assert_eq!(members.status, 200);
    assert_eq!(
        members.json()["data"]["items"][0]["email"],
        "alice@example.com"
    );
    // A write through the slug acts on the same organisation.
    let renamed = app
        .call(
            Method::PATCH,
            &format!("/api/v1/orgs/{slug}"),
            Some(&alice.access_token),
            Some(json!({"name": "Alice Renamed"})),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text());
    assert_eq!(renamed.json()["data"]["name"], "Alice Renamed");

    // The attack: Mallory names Alice's organisation by slug and by id, and a slug that does not
    // exist; all three answer the same 404, so the slug's existence does not leak.
    let mut answers: Vec<(u16, String)> = Vec::new();
    for path in [
        format!("/api/v1/orgs/{slug}"),
        format!("/api/v1/orgs/{a_id}"),
        "/api/v1/orgs/no-such-org".to_owned(),
        format!("/api/v1/orgs/{slug}/members"),
        format!("/api/v1/orgs/{a_id}/jobs"),
    ] {
        let res = get(&app, &mallory, &path).await;
        answers.push((res.status.as_u16(), res.json()["error"].to_string()));
    }
    let first = answers[0].clone();
    assert_eq!(first.0, 404, "{answers:?}");
    assert!(answers.iter().all(|a| *a == first), "{answers:?}");
    let write = app
        .call(
            Method::PATCH,
            &format!("/api/v1/orgs/{slug}"),
            Some(&mallory.access_token),
            Some(json!({"name": "Owned"})),
        )
        .await;
    assert_eq!(write.status, 404);
    // Mallory's own organisation still answers to her, by slug too.
    assert_eq!(
        get(&app, &mallory, &format!("/api/v1/orgs/{m_slug}"))
            .await
            .status,
        200
    );
    assert_eq!(
        get(&app, &mallory, &format!("/api/v1/orgs/{m_id}"))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn a_patch_answers_with_the_resource_and_a_delete_with_the_envelope() {
    let app = TestApp::builder().build().await;
    let admin = app.register("shape-admin@example.com", Some("Shape")).await;
    let org = admin.first_org();
    let dev = app.register("shape-dev@example.com", None).await;
    invite(&app, &admin, &org, "shape-dev@example.com").await;
    let token = app.mailed_token("shape-dev@example.com").await;
    let accepted = app
        .call(
            Method::POST,
            "/api/v1/invitations/accept",
            Some(&dev.access_token),
            Some(json!({"token": token})),
        )
        .await;
    assert_eq!(accepted.status, 200, "{}", accepted.text());

    let patched = app
        .call(
            Method::PATCH,
            &format!("/api/v1/orgs/{org}/members/{}", dev.user_id),
            Some(&admin.access_token),
            Some(json!({"role": "team_lead"})),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text());
    let member = patched.json()["data"].clone();
    assert_eq!(member["user_id"], dev.user_id.as_str());
    assert_eq!(member["role"], "team_lead");
    assert_eq!(member["email"], "shape-dev@example.com");

    let removed = app
        .call(
            Method::DELETE,
            &format!("/api/v1/orgs/{org}/members/{}", dev.user_id),
            Some(&admin.access_token),
            None,
        )
        .await;
    assert_eq!(removed.status, 200);
    assert_eq!(
        removed.json(),
        json!({"success": true, "data": {"ok": true}})
    );
}
