//! The job backbone: transactional push, retries with backoff, timeouts, panics, permanent errors,
//! dead jobs, undecodable payloads and exactly-once effects.

use std::time::Duration;

use common::{
    domain::JobStatus,
    jobs::{self, Job, JobId, Probe, ProbeBehaviour},
    repo,
};
use repopal_tests::{
    TestDb,
    worker::{InProcessWorker, drain, drain_expecting_dead, test_worker_config},
};

fn probe(key: &str, behaviour: ProbeBehaviour) -> Probe {
    Probe {
        key: key.to_owned(),
        sleep_ms: 0,
        behaviour,
    }
}

async fn push(db: &TestDb, job: &Probe) -> JobId {
    let mut conn = db.pool.acquire().await.expect("a pool connection");
    jobs::push(&mut conn, job)
        .await
        .expect("the probe job is pushed")
}

async fn run_to_completion(db: &TestDb, overrides: &[(&str, &str)]) {
    let worker = InProcessWorker::start(db.pool.clone(), test_worker_config(overrides));
    drain(&db.pool, &[Probe::QUEUE.name], Duration::from_secs(30)).await;
    worker.stop().await;
}

/// Runs the queue dry like [`run_to_completion`], for tests whose jobs are meant to die: returns
/// the ids of the dead jobs.
async fn run_until_dead(db: &TestDb, overrides: &[(&str, &str)]) -> Vec<String> {
    let worker = InProcessWorker::start(db.pool.clone(), test_worker_config(overrides));
    let dead = drain_expecting_dead(&db.pool, &[Probe::QUEUE.name], Duration::from_secs(30)).await;
    worker.stop().await;
    dead.into_iter().map(|j| j.id.0).collect()
}

#[tokio::test]
async fn push_commits_with_the_transaction_and_vanishes_with_a_rollback() {
    let db = TestDb::new().await;

    let mut tx = db.pool.begin().await.unwrap();
    let kept = jobs::push(&mut tx, &probe("kept", ProbeBehaviour::Succeed))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = db.pool.begin().await.unwrap();
    let dropped = jobs::push(&mut tx, &probe("dropped", ProbeBehaviour::Succeed))
        .await
        .unwrap();
    tx.rollback().await.unwrap();

    let row = repo::jobs::find(&db.pool, &kept)
        .await
        .unwrap()
        .expect("committed job exists");
    assert_eq!(
        (row.queue.as_str(), row.status.as_str()),
        ("probe", "Pending")
    );
    assert_eq!(row.max_attempts, 3);
    assert!(
        repo::jobs::find(&db.pool, &dropped)
            .await
            .unwrap()
            .is_none(),
        "rolled-back job must not exist"
    );
    assert_eq!(
        repo::jobs::list_queue(&db.pool, "probe")
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn idempotent_push_keeps_the_transaction_usable() {
    let db = TestDb::new().await;
    let mut tx = db.pool.begin().await.unwrap();
    let opts = || jobs::Enqueue {
        idempotency_key: Some("same".into()),
        ..Default::default()
    };
    let first = jobs::push_with(&mut tx, &probe("a", ProbeBehaviour::Succeed), opts())
        .await
        .unwrap();
    let second = jobs::push_with(&mut tx, &probe("a", ProbeBehaviour::Succeed), opts())
        .await
        .unwrap();
    assert!(first.is_some());
    assert!(
        second.is_none(),
        "a duplicate key is reported, not an error"
    );
    // The transaction still works after the refused duplicate.
    jobs::push(&mut tx, &probe("b", ProbeBehaviour::Succeed))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        repo::jobs::list_queue(&db.pool, "probe")
            .await
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn a_successful_job_runs_once_and_applies_its_effect_once() {
    let db = TestDb::new().await;
    let id = push(&db, &probe("ok", ProbeBehaviour::Succeed)).await;
    run_to_completion(&db, &[]).await;

    let row = repo::jobs::find(&db.pool, &id).await.unwrap().unwrap();
    assert_eq!(
        (row.status.as_str(), row.outcome.as_str(), row.attempts),
        ("Done", "succeeded", 1)
    );
    let counts = repo::probe::find(&db.pool, "ok").await.unwrap().unwrap();
    assert_eq!((counts.starts, counts.completions), (1, 1));
}

#[tokio::test]
async fn a_retryable_failure_backs_off_and_ends_dead_after_max_attempts() {
    let db = TestDb::new().await;
    let id = push(&db, &probe("flaky", ProbeBehaviour::Fail)).await;
    // A 300 ms base makes the backoff visible: retries 1 and 2 wait >= 150 ms and >= 300 ms.
    let started = std::time::Instant::now();
    let dead = run_until_dead(&db, &[("JOB_RETRY_BASE_MS", "300")]).await;
    assert_eq!(dead, vec![id.0.clone()], "only this job died");

    let row = repo::jobs::find(&db.pool, &id).await.unwrap().unwrap();
    assert_eq!(
        (row.status.as_str(), row.outcome.as_str()),
        ("Failed", "dead")
    );
    assert_eq!(row.attempts, 3, "stops at max_attempts");
    assert_eq!(
        repo::probe::find(&db.pool, "flaky")
            .await
            .unwrap()
            .unwrap()
            .starts,
        3
    );
    assert!(
        started.elapsed() >= Duration::from_millis(450),
        "retries waited for their backoff"
    );
    let dead = repo::jobs::dead(&db.pool, 10).await.unwrap();
    assert_eq!(
        dead.iter().map(|j| j.id.0.clone()).collect::<Vec<_>>(),
        vec![id.0]
    );
}

#[tokio::test]
async fn a_panicking_job_fails_is_retried_and_ends_dead_never_stuck_running() {
    let db = TestDb::new().await;
    let id = push(&db, &probe("panics", ProbeBehaviour::Panic)).await;
    let dead = run_until_dead(&db, &[]).await;
    assert_eq!(dead, vec![id.0.clone()], "only this job died");

    let row = repo::jobs::find(&db.pool, &id).await.unwrap().unwrap();
    assert_eq!(
        (row.status.as_str(), row.outcome.as_str(), row.attempts),
        ("Failed", "dead", 3)
    );
    assert!(
        row.last_result.unwrap().to_string().contains("panicked"),
        "the panic is recorded"
    );
    let counts = repo::probe::find(&db.pool, "panics")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((counts.starts, counts.completions), (3, 0));
}

#[tokio::test]
async fn a_job_over_its_timeout_fails_is_retried_and_ends_dead() {
    let db = TestDb::new().await;
    let id = push(&db, &probe("hangs", ProbeBehaviour::Hang)).await;
    let dead = run_until_dead(&db, &[("JOB_TIMEOUT_SECS_PROBE", "1")]).await;
    assert_eq!(dead, vec![id.0.clone()], "only this job died");

    let row = repo::jobs::find(&db.pool, &id).await.unwrap().unwrap();
    assert_eq!(
        (row.status.as_str(), row.outcome.as_str(), row.attempts),
        ("Failed", "dead", 3)
    );
    assert!(row.last_result.unwrap().to_string().contains("timed out"));
    assert_eq!(
        repo::probe::find(&db.pool, "hangs")
            .await
            .unwrap()
            .unwrap()
            .starts,
        3
    );
}

#[tokio::test]
async fn a_permanent_error_is_not_retried() {
    let db = TestDb::new().await;
    let id = push(&db, &probe("fatal", ProbeBehaviour::FailPermanently)).await;
    let dead = run_until_dead(&db, &[]).await;
    assert_eq!(dead, vec![id.0.clone()], "only this job died");

    let row = repo::jobs::find(&db.pool, &id).await.unwrap().unwrap();
    assert_eq!(
        (row.status.as_str(), row.outcome.as_str(), row.attempts),
        ("Killed", "dead", 1)
    );
    assert_eq!(
        repo::probe::find(&db.pool, "fatal")
            .await
            .unwrap()
            .unwrap()
            .starts,
        1
    );
}

#[tokio::test]
async fn an_undecodable_payload_is_dead_and_the_worker_keeps_going() {
    let db = TestDb::new().await;
    // A row whose payload is not a Probe (e.g. written by an older release).
    let bad = push(&db, &probe("poison", ProbeBehaviour::Succeed)).await;
    sqlx::query("UPDATE apalis.jobs SET job = convert_to('{\"wrong\": 1}', 'UTF8') WHERE id = $1")
        .bind(&bad.0)
        .execute(&db.pool)
        .await
        .unwrap();
    let good = push(&db, &probe("after-poison", ProbeBehaviour::Succeed)).await;
    let dead = run_until_dead(&db, &[]).await;
    assert_eq!(dead, vec![bad.0.clone()], "only this job died");

    let bad = repo::jobs::find(&db.pool, &bad).await.unwrap().unwrap();
    assert_eq!(
        (bad.status.as_str(), bad.outcome.as_str(), bad.attempts),
        ("Killed", "dead", 1)
    );
    let good = repo::jobs::find(&db.pool, &good).await.unwrap().unwrap();
    assert_eq!(good.status, JobStatus::Done);
}

#[tokio::test]
async fn a_rerun_of_a_completed_job_does_not_repeat_its_effect() {
    let db = TestDb::new().await;
    let id = push(&db, &probe("twice", ProbeBehaviour::Succeed)).await;
    run_to_completion(&db, &[]).await;
    // Simulate at-least-once delivery: the job is handed out again after it completed (as when a
    // worker dies between committing the effect and acknowledging the job).
    sqlx::query(
        "UPDATE apalis.jobs SET status = 'Pending', lock_by = NULL, done_at = NULL WHERE id = $1",
    )
    .bind(&id.0)
    .execute(&db.pool)
    .await
    .unwrap();
    run_to_completion(&db, &[]).await;

    let counts = repo::probe::find(&db.pool, "twice").await.unwrap().unwrap();
    assert_eq!(
        (counts.starts, counts.completions),
        (2, 1),
        "ran twice, took effect once"
    );
}

#[tokio::test]
async fn pruning_removes_old_finished_jobs_and_keeps_unfinished_ones() {
    let db = TestDb::new().await;
    let done = push(&db, &probe("old", ProbeBehaviour::Succeed)).await;
    run_to_completion(&db, &[]).await;
    let pending = push(&db, &probe("waiting", ProbeBehaviour::Succeed)).await;
    sqlx::query("UPDATE apalis.jobs SET done_at = now() - interval '10 days' WHERE id = $1")
        .bind(&done.0)
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE apalis.workers SET last_seen = now() - interval '10 days'")
        .execute(&db.pool)
        .await
        .unwrap();
    // Both jobs were caused by an organisation (as a scheduled check's job is).
    sqlx::query(
        "WITH org AS (INSERT INTO organizations (id, slug, name) VALUES (gen_random_uuid(), 'prune', 'Prune') RETURNING id)
         INSERT INTO org_jobs (job_id, org_id, kind) SELECT j, org.id, 'probe' FROM org, unnest($1::text[]) AS j",
    )
    .bind(vec![done.0.clone(), pending.0.clone()])
    .execute(&db.pool)
    .await
    .unwrap();

    let pruned = repo::jobs::prune(&db.pool, Duration::from_secs(7 * 24 * 3600))
        .await
        .unwrap();
    assert_eq!(pruned.jobs, 1, "{pruned:?}");
    assert!(
        pruned.workers >= 1,
        "stale worker rows are removed: {pruned:?}"
    );
    assert!(repo::jobs::find(&db.pool, &done).await.unwrap().is_none());
    let owners: Vec<String> = sqlx::query_scalar("SELECT job_id FROM org_jobs")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(
        owners,
        std::slice::from_ref(&pending.0),
        "a pruned job's owner record goes with it"
    );
    assert!(
        repo::jobs::find(&db.pool, &pending)
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn a_job_interrupted_on_every_attempt_is_dead_instead_of_looping() {
    let db = TestDb::new().await;
    let id = push(&db, &probe("crashy", ProbeBehaviour::Succeed)).await;
    // As left by three crash recoveries: apalis re-queues orphans as Pending with attempts + 1.
    sqlx::query("UPDATE apalis.jobs SET attempts = 3 WHERE id = $1")
        .bind(&id.0)
        .execute(&db.pool)
        .await
        .unwrap();
    let dead = run_until_dead(&db, &[]).await;
    assert_eq!(dead, vec![id.0.clone()], "only this job died");

    let row = repo::jobs::find(&db.pool, &id).await.unwrap().unwrap();
    assert_eq!(
        (row.status.as_str(), row.outcome.as_str()),
        ("Killed", "dead")
    );
    assert!(
        repo::probe::find(&db.pool, "crashy")
            .await
            .unwrap()
            .is_none(),
        "the handler did not run again"
    );
}

#[tokio::test]
async fn the_drain_helper_fails_a_test_whose_job_died_unless_it_expects_that() {
    let db = TestDb::new().await;
    let id = push(&db, &probe("unexpected", ProbeBehaviour::FailPermanently)).await;
    let worker = InProcessWorker::start(db.pool.clone(), test_worker_config(&[]));
    let pool = db.pool.clone();
    let plain = tokio::spawn(async move {
        drain(&pool, &[Probe::QUEUE.name], Duration::from_secs(30)).await;
    })
    .await;
    let panic = plain
        .expect_err("a plain drain fails on a dead job")
        .into_panic();
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("went dead") && message.contains(&id.0),
        "the failure names the job: {message}"
    );

    // Saying so accepts it, once: a later plain drain of the same queue passes...
    let dead = drain_expecting_dead(&db.pool, &[Probe::QUEUE.name], Duration::from_secs(30)).await;
    assert_eq!(
        dead.iter().map(|j| j.id.0.clone()).collect::<Vec<_>>(),
        vec![id.0.clone()]
    );
    drain(&db.pool, &[Probe::QUEUE.name], Duration::from_secs(30)).await;
    // ...and expecting a death that does not come fails.
    push(&db, &probe("fine", ProbeBehaviour::Succeed)).await;
    let pool = db.pool.clone();
    let expecting = tokio::spawn(async move {
        drain_expecting_dead(&pool, &[Probe::QUEUE.name], Duration::from_secs(30)).await;
    })
    .await;
    assert!(expecting.expect_err("nothing died").is_panic());
    worker.stop().await;
}
