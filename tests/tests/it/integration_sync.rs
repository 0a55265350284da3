//! `POST …/integrations/{id}/sync`: what syncing means is the provider's. A GitHub App installation
//! lists its repositories again through the `sync_repositories` job (202); a type with nothing to
//! copy says so and enqueues nothing (200); another organisation's integration is not found.

use axum::http::Method;
use repopal_tests::TestApp;
use serde_json::json;

#[tokio::test]
async fn syncing_an_installation_lists_its_repositories_again_and_other_types_have_nothing_to_sync()
{
    let h = TestApp::builder().health().await;
    let app = h.installation_integration().await;
    let listed = h.github.count("GET /installation/repositories");

    let res = h
        .admin_call(Method::POST, &format!("integrations/{app}/sync"), None)
        .await;
    assert_eq!(res.status, 202, "{}", res.text());
    let out = res.json()["data"].clone();
    assert_eq!(out["started"], true, "{out}");
    assert!(out["job_id"].is_string(), "{out}");
    assert_eq!(out["reason"], json!(null));
    // Nothing has listed anything yet: the job does it.
    assert_eq!(h.github.count("GET /installation/repositories"), listed);
    h.run_jobs().await;
    assert!(
        h.github.count("GET /installation/repositories") > listed,
        "{:?}",
        h.github.calls()
    );

    // An HTTP probe has nothing RepoPal copies from it (Argo CD's sync: `argocd_sync`).
    let probe = h
        .create(
            "http",
            "probe",
            json!({"url": format!("{}/healthz", h.argo.url)}),
            json!({}),
        )
        .await;
    let res = h
        .admin_call(Method::POST, &format!("integrations/{probe}/sync"), None)
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let out = res.json()["data"].clone();
    assert_eq!(out["started"], false, "{out}");
    assert_eq!(out["job_id"], json!(null));
    assert_eq!(out["reason"], "this integration type has nothing to sync");
    let calls = h.github.calls().len();
    h.run_jobs().await;
    assert_eq!(h.github.calls().len(), calls, "no job was enqueued");

    // The sync is in the integration's log.
    let log = h
        .admin_call(Method::GET, &format!("integrations/{app}/logs"), None)
        .await
        .json();
    let actions: Vec<&str> = log["data"]["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(actions.contains(&"integration.sync"), "{log}");

    // An unknown id, or one that is not a UUID, is not found.
    let res = h
        .admin_call(
            Method::POST,
            &format!("integrations/{}/sync", uuid::Uuid::new_v4()),
            None,
        )
        .await;
    assert_eq!(res.status, 404);
    let res = h
        .admin_call(Method::POST, "integrations/nope/sync", None)
        .await;
    assert_eq!(res.status, 404);
}
