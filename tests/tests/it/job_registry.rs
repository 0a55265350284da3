//! The job registry: every queue has exactly one handler, every handler serves one queue, and the
//! permanent queue names stored in `apalis.jobs` have not changed.

use std::collections::BTreeMap;

use common::jobs::ALL_QUEUES;

/// The queue names rows in `apalis.jobs.job_type` already carry: never rename one.
const PERMANENT_NAMES: &[&str] = &[
    "check_due_integrations",
    "check_integration",
    "check_repository_hooks",
    "incident_context",
    "noop",
    "notify_integration_health",
    "notify_slack",
    "probe",
    "process_webhook",
    "prune_history",
    "prune_jobs",
    "redeliver_webhooks",
    "refresh_due_tokens",
    "refresh_integration_token",
    "refresh_oauth_token",
    "repository_webhook",
    "rerun_workflow",
    "send_email",
    "sync_connection_repositories",
    "sync_due_integrations",
    "sync_integration",
    "sync_repositories",
];

fn count<'a>(names: impl Iterator<Item = &'a str>) -> BTreeMap<&'a str, usize> {
    let mut counts = BTreeMap::new();
    for name in names {
        *counts.entry(name).or_insert(0) += 1;
    }
    counts
}

#[test]
fn every_queue_has_exactly_one_handler_and_every_handler_one_queue() {
    let queues = count(ALL_QUEUES.iter().map(|q| q.name));
    let registrations = repopal_worker::registrations();
    let handlers = count(registrations.iter().map(|r| r.queue.name));
    assert!(
        queues.values().all(|&n| n == 1),
        "a queue is declared twice: {queues:?}"
    );
    assert!(
        handlers.values().all(|&n| n == 1),
        "a queue has more than one handler: {handlers:?}"
    );
    assert_eq!(
        queues.keys().collect::<Vec<_>>(),
        handlers.keys().collect::<Vec<_>>(),
        "queues without a handler or handlers without a queue"
    );
    // Each registration carries exactly its job's declared policy.
    for r in &registrations {
        let declared = ALL_QUEUES
            .iter()
            .find(|q| q.name == r.queue.name)
            .expect("registration for an undeclared queue");
        assert_eq!(declared, &r.queue);
    }
}

#[test]
fn queue_names_are_unchanged() {
    let mut names: Vec<&str> = ALL_QUEUES.iter().map(|q| q.name).collect();
    names.sort_unstable();
    assert_eq!(names, PERMANENT_NAMES);
}
