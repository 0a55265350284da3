//! Tenancy of the CI and incident tables in the repository layer: another organisation's id (or
//! none) finds and changes nothing, and every value a closed set can write passes the schema.

use common::{
    domain::{
        DeliveryStatus, Evaluation, IncidentStatus, InstallationId, OrgId, Severity, Transition,
    },
    repo::{
        incident_events, incidents, installations, orgs, repositories, repository_hooks,
        webhook_deliveries::{self, NewDelivery, Outcome},
        workflow_runs::{self, RunIn},
    },
};
use repopal_tests::db::TestDb;
use uuid::Uuid;

const INSTALLATION: InstallationId = InstallationId(4242);

async fn org(db: &TestDb, slug: &str) -> OrgId {
    let mut conn = db.pool.acquire().await.expect("a connection");
    orgs::insert(&mut conn, slug, slug)
        .await
        .expect("an org")
        .id
}

fn run(run_number: i64, conclusion: &str) -> RunIn {
    RunIn {
        run_id: 900 + run_number,
        run_attempt: 1,
        run_number,
        workflow_id: 7,
        workflow_name: "CI".into(),
        branch: "main".into(),
        head_sha: "abc".into(),
        status: "completed".into(),
        conclusion: Some(conclusion.into()),
        ..RunIn::default()
    }
}

/// Org A owns an installation, a monitored repository, two run attempts, a hook and a delivery;
/// org B names each of them and reads or changes nothing.
#[tokio::test]
async fn ci_calls_with_another_orgs_id_find_and_change_nothing() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    let (a, b) = (org(&db, "ci-tenant-a").await, org(&db, "ci-tenant-b").await);
    assert!(
        installations::link(pool, INSTALLATION, a)
            .await
            .expect("linked")
    );
    let repo = repositories::RepoIn {
        github_id: 31,
        full_name: "a/app".into(),
        default_branch: Some("main".into()),
        visibility: None,
        archived: false,
    };
    let source = repositories::RepoSource::Installation(INSTALLATION);
    repositories::upsert_page(pool, a, source, Uuid::new_v4(), &[repo])
        .await
        .expect("synced");
    let repo_id = repositories::monitored_of_installation(pool, a, INSTALLATION)
        .await
        .expect("listed");
    assert!(repo_id.is_empty(), "not monitored yet");
    let listed = repositories::list(
        pool,
        a,
        &repositories::Filter {
            limit: 10,
            ..Default::default()
        },
    )
    .await
    .expect("listed");
    let repo_id = listed[0].id;
    let on = repositories::Monitoring::On;
    assert!(
        !repositories::set_monitoring(pool, b, repo_id, on)
            .await
            .expect("ran")
    );
    assert!(
        repositories::set_monitoring(pool, a, repo_id, on)
            .await
            .expect("ran")
    );
    assert!(
        repositories::find(pool, b, repo_id)
            .await
            .expect("ran")
            .is_none()
    );
    assert!(
        repositories::find_monitored(pool, b, 31)
            .await
            .expect("ran")
            .is_none()
    );
    assert_eq!(
        repositories::find_monitored(pool, a, 31)
            .await
            .expect("ran")
            .map(|r| r.id),
        Some(repo_id)
    );

    // Installations: B cannot stamp A's sync, nor read it; A can.
    installations::mark_synced(pool, b, INSTALLATION)
        .await
        .expect("ran");
    assert_eq!(
        installations::last_synced(pool, a, INSTALLATION)
            .await
            .expect("ran"),
        None
    );
    installations::mark_synced(pool, a, INSTALLATION)
        .await
        .expect("ran");
    assert!(
        installations::last_synced(pool, a, INSTALLATION)
            .await
            .expect("ran")
            .is_some()
    );
    assert_eq!(
        installations::last_synced(pool, b, INSTALLATION)
            .await
            .expect("ran"),
        None
    );

    // Deleting the installation through B removes none of A's repositories.
    assert_eq!(
        repositories::remove_installation(pool, b, INSTALLATION)
            .await
            .expect("ran"),
        0
    );
    assert!(
        repositories::find(pool, a, repo_id)
            .await
            .expect("ran")
            .expect("kept")
            .removed_at
            .is_none()
    );

    // Hooks: B cannot forget A's hook.
    repository_hooks::insert(pool, a, 555, 31, "sealed")
        .await
        .expect("stored");
    repository_hooks::delete(pool, b, 555).await.expect("ran");
    assert_eq!(
        repository_hooks::for_repository(pool, a, 31)
            .await
            .expect("ran"),
        vec![555]
    );
    assert!(
        repository_hooks::for_repository(pool, b, 31)
            .await
            .expect("ran")
            .is_empty()
    );

    // Runs: B cannot lock, evaluate or compare A's attempts.
    let failed = workflow_runs::upsert(pool, a, repo_id, &run(1, "failure"))
        .await
        .expect("stored");
    workflow_runs::upsert(pool, a, repo_id, &run(2, "success"))
        .await
        .expect("stored");
    let mut tx = pool.begin().await.expect("a transaction");
    assert!(
        workflow_runs::lock(&mut tx, b, failed)
            .await
            .expect("ran")
            .is_none()
    );
    let attempt = workflow_runs::lock(&mut tx, a, failed)
        .await
        .expect("ran")
        .expect("A's");
    assert!(
        workflow_runs::newer_result_exists(&mut tx, a, &attempt)
            .await
            .expect("ran")
    );
    assert!(
        !workflow_runs::newer_result_exists(&mut tx, b, &attempt)
            .await
            .expect("ran")
    );
    workflow_runs::set_evaluation(&mut tx, b, failed, Evaluation::Stale)
        .await
        .expect("ran");
    tx.commit().await.expect("committed");
    let attempt = workflow_runs::find(pool, a, failed)
        .await
        .expect("ran")
        .expect("A's");
    assert_eq!(attempt.evaluation, None, "B's evaluation was not recorded");
    assert!(
        workflow_runs::find(pool, b, failed)
            .await
            .expect("ran")
            .is_none()
    );

    // Incidents: B cannot move A's incident nor read its timeline.
    let mut tx = pool.begin().await.expect("a transaction");
    let incident = incidents::insert(
        &mut tx,
        &incidents::NewIncident {
            org: a,
            repository: repo_id,
            dedupe_key: "k",
            workflow_id: 7,
            workflow_name: "CI",
            branch: "main",
            title: "CI failing",
            severity: Severity::High,
            head_sha: "abc",
            suspect_author: None,
            suspect_message: None,
        },
    )
    .await
    .expect("opened");
    let by = incidents::Moved::default();
    assert!(
        !incidents::transition(&mut tx, b, incident, Transition::RESOLVE, by)
            .await
            .expect("ran")
    );
    assert!(
        incidents::lock(&mut tx, b, incident)
            .await
            .expect("ran")
            .is_none()
    );
    assert!(
        incidents::open_for_key(&mut tx, b, "k")
            .await
            .expect("ran")
            .is_none()
    );
    assert!(
        incidents::transition(&mut tx, a, incident, Transition::ACKNOWLEDGE, by)
            .await
            .expect("ran")
    );
    assert!(
        !incidents::transition(&mut tx, a, incident, Transition::REOPEN, by)
            .await
            .expect("ran")
    );
    tx.commit().await.expect("committed");
    let found = incidents::find(pool, a, incident)
        .await
        .expect("ran")
        .expect("A's");
    assert_eq!(found.status, IncidentStatus::Acknowledged);
    assert!(
        incident_events::events(pool, b, incident)
            .await
            .expect("ran")
            .is_empty()
    );

    // Deliveries: credited to A through the installation; B (or no organisation) reads and
    // records nothing on it.
    let mut tx = pool.begin().await.expect("a transaction");
    let stored = webhook_deliveries::insert_batch(
        &mut tx,
        &[NewDelivery {
            hook_id: "1".into(),
            signed_by_hook: None,
            delivery_id: "d-1".into(),
            event: "ping".into(),
            action: None,
            installation_id: Some(INSTALLATION),
            repository_id: Some(31),
            payload: b"{}".to_vec(),
        }],
    )
    .await
    .expect("stored")[0]
        .expect("new");
    tx.commit().await.expect("committed");
    assert_eq!(stored.org, Some(a));
    assert!(
        webhook_deliveries::find(pool, Some(b), stored.id)
            .await
            .expect("ran")
            .is_none()
    );
    assert!(
        webhook_deliveries::find(pool, None, stored.id)
            .await
            .expect("ran")
            .is_none()
    );
    let forged = Outcome {
        status: DeliveryStatus::Failed,
        detail: Some("forged"),
        org: Some(b),
    };
    webhook_deliveries::set_status(pool, Some(b), stored.id, &forged)
        .await
        .expect("ran");
    webhook_deliveries::set_status(pool, None, stored.id, &forged)
        .await
        .expect("ran");
    let (delivery, _) = webhook_deliveries::find(pool, Some(a), stored.id)
        .await
        .expect("ran")
        .expect("A's");
    assert_eq!(
        (delivery.status, delivery.org_id),
        (DeliveryStatus::Received, Some(a))
    );

    // Every status the code can write passes the table's CHECK and reads back as itself.
    for status in DeliveryStatus::ALL {
        let outcome = Outcome {
            status: *status,
            detail: None,
            org: None,
        };
        webhook_deliveries::set_status(pool, Some(a), stored.id, &outcome)
            .await
            .expect("accepted");
        let (delivery, _) = webhook_deliveries::find(pool, Some(a), stored.id)
            .await
            .expect("ran")
            .expect("A's");
        assert_eq!(delivery.status, *status);
    }
}
