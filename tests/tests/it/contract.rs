//! The REST contract: the served `/openapi.json` equals the committed `api/openapi.json` snapshot
//! (re-bless with `BLESS_OPENAPI=1`), and the document keeps the house rules every generated client
//! relies on (unique `resource_action` ids, described responses, enveloped bodies, listed errors).

use std::path::PathBuf;

use repopal_tests::TestApp;
use serde_json::Value;

fn snapshot_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../api/openapi.json")
}

/// Every operation as (method, path, operation).
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                ops.push((method.clone(), path.clone(), op.clone()));
            }
        }
    }
    ops
}

/// Where two texts first differ, with a few lines of context on each side.
fn diff_hint(expected: &str, actual: &str) -> String {
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    let first = e
        .iter()
        .zip(&a)
        .position(|(x, y)| x != y)
        .unwrap_or(e.len().min(a.len()));
    let from = first.saturating_sub(3);
    let show = |lines: &[&str], sign: char| {
        lines
            .iter()
            .enumerate()
            .skip(from)
            .take(10)
            .map(|(i, l)| format!("{sign}{:>6} {l}", i + 1))
            .collect::<Vec<_>>()
            .join("\n")
    };
    format!(
        "first difference at line {}:\n--- committed api/openapi.json\n{}\n+++ generated\n{}",
        first + 1,
        show(&e, '-'),
        show(&a, '+')
    )
}

#[tokio::test]
async fn the_served_document_equals_the_committed_snapshot() {
    let app = TestApp::builder().build().await;
    let res = app.get("/openapi.json").await;
    assert_eq!(res.status, 200);
    let served: Value = res.json();
    let generated = serde_json::to_string_pretty(&served).expect("document") + "\n";
    let path = snapshot_path();
    if std::env::var_os("BLESS_OPENAPI").is_some() {
        std::fs::write(&path, &generated).expect("write the snapshot");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "the OpenAPI document changed; review the change, then re-bless the snapshot with \
         `BLESS_OPENAPI=1 cargo nextest run -p repopal-tests contract::the_served` and commit \
         api/openapi.json.\n{}",
        diff_hint(&committed, &generated)
    );
}

#[test]
fn operation_ids_are_unique_and_named_resource_action() {
    let doc = serde_json::to_value(repopal_api::openapi()).expect("document");
    let mut seen = std::collections::BTreeSet::new();
    for (method, path, op) in operations(&doc) {
        let id = op["operationId"].as_str().unwrap_or_default();
        let parts: Vec<&str> = id.split('_').collect();
        assert!(
            parts.len() >= 2
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase())),
            "{method} {path}: operation id {id:?} is not resource_action"
        );
        assert!(
            seen.insert(id.to_owned()),
            "{method} {path}: operation id {id} repeats"
        );
    }
    assert!(seen.len() > 80, "{}", seen.len());
}

#[test]
fn every_response_is_described_and_every_error_the_extractors_give_is_listed() {
    let doc = serde_json::to_value(repopal_api::openapi()).expect("document");
    let error = "#/components/schemas/ErrorEnvelope";
    for (method, path, op) in operations(&doc) {
        let responses = op["responses"].as_object().expect("responses");
        for (status, response) in responses {
            assert!(
                !response["description"]
                    .as_str()
                    .unwrap_or_default()
                    .is_empty(),
                "{method} {path} {status}: no description"
            );
            let json = &response["content"]["application/json"]["schema"];
            if status.starts_with('2') && !json.is_null() {
                assert_eq!(
                    json["required"],
                    serde_json::json!(["success", "data"]),
                    "{method} {path} {status}"
                );
                assert_eq!(
                    json["properties"]["success"]["enum"],
                    serde_json::json!([true]),
                    "{method} {path} {status}"
                );
            }
            if status.starts_with('4') || status.starts_with('5') {
                assert_eq!(
                    json["$ref"], error,
                    "{method} {path} {status}: the error envelope"
                );
            }
        }
        let listed = |s: &str| responses.contains_key(s);
        let protected = op["security"].as_array().is_some_and(|s| !s.is_empty());
        assert!(!protected || listed("401"), "{method} {path}: 401");
        assert!(
            !path.contains("{org_id}") || (listed("403") && listed("404")),
            "{method} {path}: 403/404"
        );
        if op.get("requestBody").is_some() {
            for s in ["400", "413", "415", "422"] {
                assert!(listed(s), "{method} {path}: {s} for a body");
            }
        }
        assert!(listed("400"), "{method} {path}: 400 invalid_characters");
    }
}

#[test]
fn schema_names_are_unique_per_type() {
    let doc = serde_json::to_value(repopal_api::openapi()).expect("document");
    // Two types of one name would share a schema: the probes and an integration's health differ.
    let probe = &doc["paths"]["/healthz"]["get"]["responses"]["200"]["content"]["application/json"]
        ["schema"]["properties"]["data"]["$ref"];
    assert_eq!(probe, "#/components/schemas/ProbeOut");
    let health = &doc["components"]["schemas"]["IntegrationHealthOut"]["properties"];
    assert!(health["consecutive_failures"].is_object(), "{health}");
}
