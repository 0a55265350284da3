//! `POST …/integrations/{id}/sync`: what syncing means is the provider's. A GitHub App installation
//! lists its repositories again through the `sync_repositories` job (202); a type with nothing to
//! copy says so and enqueues nothing (200); another organisation's integration is not found.

use axum::http::Method;
use repopal_tests::{TestApp, app::ErrorEnvelope, shapes::Page};
use serde::Deserialize;
use serde_json::json;

/// What `POST …/sync` answers.
#[derive(Debug, Deserialize)]
struct SyncOut {
    started: bool,
    job_id: Option<String>,
    reason: Option<String>,
}

#[tokio::test]
async fn syncing_an_installation_lists_its_repositories_again_and_other_types_have_nothing_to_sync()
{
    let h = TestApp::builder().health().await;
    let app = h.installation_integration().await;
    let listed = h.github.count("GET /installation/repositories");

    let out: SyncOut = h
        .as_admin()
        .call(Method::POST, &format!("integrations/{app}/sync"), None, 202)
        .await;
    assert!(out.started, "{out:?}");
    assert!(out.job_id.is_some(), "{out:?}");
    assert_eq!(out.reason, None);
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
    let out: SyncOut = h
        .as_admin()
        .call(
            Method::POST,
            &format!("integrations/{probe}/sync"),
            None,
            200,
        )
        .await;
    assert!(!out.started, "{out:?}");
    assert_eq!(out.job_id, None);
    assert_eq!(
        out.reason.as_deref(),
        Some("this integration type has nothing to sync")
    );
    let calls = h.github.calls().len();
    h.run_jobs().await;
    assert_eq!(h.github.calls().len(), calls, "no job was enqueued");

    // The sync is in the integration's log.
    let log: Page = h
        .as_admin()
        .call(Method::GET, &format!("integrations/{app}/logs"), None, 200)
        .await;
    let actions: Vec<&str> = log
        .items
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(actions.contains(&"integration.sync"), "{:?}", log.items);

    // An unknown id, or one that is not a UUID, is not found.
    let _: ErrorEnvelope = h
        .as_admin()
        .call(
            Method::POST,
            &format!("integrations/{}/sync", uuid::Uuid::new_v4()),
            None,
            404,
        )
        .await;
    let _: ErrorEnvelope = h
        .as_admin()
        .call(Method::POST, "integrations/nope/sync", None, 404)
        .await;
}
