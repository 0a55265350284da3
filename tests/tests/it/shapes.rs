//! One shape per kind of operation (issue 13, item 4): lists page as `{items, next_cursor}` with
//! `limit` and `cursor`, validation errors name fields as `[{field, code, message}]`, a PATCH
//! answers with the resource, the org segment takes the slug, and another org is 404 either way.

use std::collections::BTreeSet;

use axum::http::Method;
use repopal_tests::{
    TestApp,
    app::ErrorEnvelope,
    auth::Session,
    shapes::{Created, Page, field_code, field_errors},
};
use serde::{Deserialize, de::DeserializeOwned};
use serde_json::{Value, json};

/// An organisation as the API answers it.
#[derive(Deserialize)]
struct Org {
    id: String,
    slug: String,
    name: String,
}

/// A member of an organisation as the API answers it.
#[derive(Deserialize)]
struct Member {
    user_id: String,
    email: String,
    role: String,
}

/// `GET path` as `who`, expecting `status`: the envelope's `data` (the whole body of an error).
async fn get<Out: DeserializeOwned>(app: &TestApp, who: &Session, path: &str, status: u16) -> Out {
    app.caller(Some(who))
        .call(Method::GET, path, None, status)
        .await
}

async fn invite(app: &TestApp, admin: &Session, org: &str, email: &str) {
    let _: Created = app
        .caller(Some(admin))
        .in_org(org)
        .call(
            Method::POST,
            "invitations",
            Some(json!({"email": email, "role": "developer"})),
            201,
        )
        .await;
}

/// Follows `next_cursor` from `path` (which has a query string) to the end; the ids seen.
async fn walk(app: &TestApp, who: &Session, path: &str, key: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut url = path.to_owned();
    for _ in 0..20 {
        let page: Page = get(app, who, &url, 200).await;
        let items = &page.items;
        assert!(items.len() <= 2, "limit=2 was exceeded: {items:?}");
        seen.extend(
            items
                .iter()
                .map(|i| i[key].as_str().expect("an item has its key").to_owned()),
        );
        match page.next_cursor {
            Some(c) => {
                assert_eq!(items.len(), 2, "a short page with a next cursor: {items:?}");
                url = format!("{path}&cursor={c}");
            }
            None => return seen,
        }
    }
    panic!("the cursor never ended: {seen:?}");
}

/// `GET path` as `who` is a 400 `invalid_query` whose field error on `field` has `code`; the
/// whole error body.
async fn query_error(app: &TestApp, who: &Session, path: &str, field: &str, code: &str) -> Value {
    let body: Value = get(app, who, path, 400).await;
    assert_eq!(body["error"]["code"], "invalid_query", "{body}");
    assert_eq!(field_code(&body, field).as_deref(), Some(code), "{body}");
    body
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
        let _: Org = app
            .caller(Some(&admin))
            .call(
                Method::POST,
                "/api/v1/orgs",
                Some(json!({"name": name})),
                201,
            )
            .await;
    }
    let slugs = walk(&app, &admin, "/api/v1/orgs?limit=2", "slug").await;
    let mut sorted = slugs.clone();
    sorted.sort();
    assert_eq!(slugs.len(), 4);
    assert_eq!(slugs, sorted);

    // Out-of-range and malformed paging is a 400 naming the parameter, without the input echoed.
    for limit in ["0", "201", "-1"] {
        let path = format!("/api/v1/orgs/{org}/members?limit={limit}");
        query_error(&app, &admin, &path, "limit", "out_of_range").await;
    }
    let body: Value = get(&app, &admin, "/api/v1/orgs?limit=lots", 400).await;
    assert_eq!(field_errors(&body).keys().collect::<Vec<_>>(), ["limit"]);
    let text = body.to_string();
    assert!(!text.contains("lots") && !text.contains("invalid digit"));
    for cursor in ["garbage", "00", "1_2"] {
        let path = format!("/api/v1/orgs/{org}/invitations?cursor={cursor}");
        query_error(&app, &admin, &path, "cursor", "invalid_cursor").await;
        let path = format!("/api/v1/auth/sessions?cursor={cursor}");
        query_error(&app, &admin, &path, "cursor", "invalid_cursor").await;
    }
    let path = format!("/api/v1/orgs/{org}/jobs?cursor=nope");
    query_error(&app, &admin, &path, "cursor", "invalid_cursor").await;
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
        let json: Value = app
            .caller(Some(&admin))
            .call(Method::POST, path, Some(body.clone()), 422)
            .await;
        assert_eq!(json["error"]["code"], "validation_failed");
        assert_eq!(
            field_code(&json, field).as_deref(),
            Some(code),
            "{body}: {json}"
        );
        let text = json.to_string();
        for raw in ["invalid type", "missing field", "line 1", "unknown variant"] {
            assert!(
                !text.contains(raw),
                "{body}: deserializer text leaked: {text}"
            );
        }
    }
    // A query value of the wrong kind.
    let path = format!("/api/v1/orgs/{org}/jobs?state=exploded");
    let body = query_error(&app, &admin, &path, "state", "invalid_value").await;
    assert!(!body.to_string().contains("exploded"));
    let path = format!("/api/v1/orgs/{org}/jobs?queue=nope");
    query_error(&app, &admin, &path, "queue", "invalid_value").await;
}

#[tokio::test]
async fn the_org_segment_takes_the_slug_and_another_orgs_slug_or_id_is_the_same_404() {
    let app = TestApp::builder().build().await;
    let alice = app.register("alice@example.com", Some("Alice Co")).await;
    let mallory = app
        .register("mallory@example.com", Some("Mallory Co"))
        .await;
    let (a_id, m_id) = (alice.first_org(), mallory.first_org());
    let org: Org = get(&app, &alice, &format!("/api/v1/orgs/{a_id}"), 200).await;
    let slug = org.slug;
    let m_org: Org = get(&app, &mallory, &format!("/api/v1/orgs/{m_id}"), 200).await;
    let m_slug = m_org.slug;

    let by_slug: Org = get(&app, &alice, &format!("/api/v1/orgs/{slug}"), 200).await;
    assert_eq!(by_slug.id, a_id);
    let path = format!("/api/v1/orgs/{slug}/members");
    let members: Page<Member> = get(&app, &alice, &path, 200).await;
    assert_eq!(members.items[0].email, "alice@example.com");
    // A write through the slug acts on the same organisation.
    let renamed: Org = app
        .caller(Some(&alice))
        .call(
            Method::PATCH,
            &format!("/api/v1/orgs/{slug}"),
            Some(json!({"name": "Alice Renamed"})),
            200,
        )
        .await;
    assert_eq!(renamed.name, "Alice Renamed");

    // The attack: Mallory names Alice's organisation by slug and by id, and a slug that does not
    // exist; all three answer the same 404, so the slug's existence does not leak.
    let mut answers: Vec<Value> = Vec::new();
    for path in [
        format!("/api/v1/orgs/{slug}"),
        format!("/api/v1/orgs/{a_id}"),
        "/api/v1/orgs/no-such-org".to_owned(),
        format!("/api/v1/orgs/{slug}/members"),
        format!("/api/v1/orgs/{a_id}/jobs"),
    ] {
        let body: Value = get(&app, &mallory, &path, 404).await;
        answers.push(body["error"].clone());
    }
    let first = answers[0].clone();
    assert!(answers.iter().all(|a| *a == first), "{answers:?}");
    let _: ErrorEnvelope = app
        .caller(Some(&mallory))
        .call(
            Method::PATCH,
            &format!("/api/v1/orgs/{slug}"),
            Some(json!({"name": "Owned"})),
            404,
        )
        .await;
    // Mallory's own organisation still answers to her, by slug too.
    let own: Org = get(&app, &mallory, &format!("/api/v1/orgs/{m_slug}"), 200).await;
    assert_eq!(own.id, m_id);
    let _: Org = get(&app, &mallory, &format!("/api/v1/orgs/{m_id}"), 200).await;
}

#[tokio::test]
async fn a_patch_answers_with_the_resource_and_a_delete_with_the_envelope() {
    let app = TestApp::builder().build().await;
    let admin = app.register("shape-admin@example.com", Some("Shape")).await;
    let org = admin.first_org();
    let dev = app.register("shape-dev@example.com", None).await;
    invite(&app, &admin, &org, "shape-dev@example.com").await;
    let token = app.mailed_token("shape-dev@example.com").await;
    app.accept_invitation(&dev, &token).await;

    let as_admin = app.caller(Some(&admin)).in_org(&org);
    let path = format!("members/{}", dev.user_id);
    let member: Member = as_admin
        .call(
            Method::PATCH,
            &path,
            Some(json!({"role": "team_lead"})),
            200,
        )
        .await;
    assert_eq!(member.user_id, dev.user_id);
    assert_eq!(member.role, "team_lead");
    assert_eq!(member.email, "shape-dev@example.com");

    // The envelope itself is the point here, so the raw answer.
    let removed = as_admin.send(Method::DELETE, &path, None).await;
    assert_eq!(removed.status, 200, "{}", removed.text());
    assert_eq!(
        removed.json(),
        json!({"success": true, "data": {"ok": true}})
    );
}
