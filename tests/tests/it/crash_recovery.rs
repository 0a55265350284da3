//! Real worker processes: SIGKILL mid-job hands the job to another worker; SIGTERM drains.

use std::time::Duration;

use common::{
    domain::JobStatus,
    jobs::{self, Probe, ProbeBehaviour},
    repo,
};
use nix::sys::signal::Signal;
use repopal_tests::{
    TestDb,
    process::{Proc, spawn},
    worker::eventually,
};

fn worker_env(db_url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("DATABASE_URL", db_url.to_owned()),
        (
            "ENCRYPTION_KEYS",
            repopal_tests::http::TEST_ENCRYPTION_KEYS.to_owned(),
        ),
        ("WORKER_HEARTBEAT_SECS", "1".into()),
        ("WORKER_MISSED_HEARTBEATS", "5".into()),
        ("WORKER_SHUTDOWN_TIMEOUT_SECS", "4".into()),
        ("WORKER_POLL_INTERVAL_MS", "100".into()),
        ("WORKER_CONCURRENCY", "2".into()),
        ("SCHEDULER_TICK_SECS", "3600".into()),
    ]
}

fn start_worker(db_url: &str) -> Proc {
    let env = worker_env(db_url);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    spawn("repopal-worker", &[], &env)
}

/// The pid whose worker currently holds the job, read from the worker name in `lock_by`.
async fn holder_pid(db: &TestDb, job: &jobs::JobId) -> Option<i32> {
    let row = repo::jobs::find(&db.pool, job).await.ok()??;
    if row.status != JobStatus::Running {
        return None;
    }
    let name = row.lock_by?;
    name.split(':').nth(1)?.parse().ok()
}

#[tokio::test]
async fn a_job_of_a_killed_worker_is_completed_by_another_exactly_once() {
    let db = TestDb::new().await;
    let mut a = start_worker(&db.url);
    let mut b = start_worker(&db.url);

    let mut conn = db.pool.acquire().await.unwrap();
    let job = Probe {
        key: "crash".into(),
        sleep_ms: 3000,
        behaviour: ProbeBehaviour::Succeed,
    };
    let id = jobs::push(&mut conn, &job).await.unwrap();
    drop(conn);

    // The job is held by a worker and its handler has started (recorded its start).
    let pid = eventually(
        "a worker to start the probe",
        Duration::from_secs(20),
        || async {
            let started = repo::probe::find(&db.pool, "crash")
                .await
                .ok()
                .flatten()
                .is_some_and(|c| c.starts == 1);
            if started {
                holder_pid(&db, &id).await
            } else {
                None
            }
        },
    )
    .await;
    let (victim, survivor) = if pid == a.pid() {
        (&mut a, &b)
    } else {
        (&mut b, &a)
    };
    assert_eq!(pid, victim.pid());
    victim.signal(Signal::SIGKILL);
    let _ = victim.child.wait().await;

    let row = eventually(
        "the survivor to finish the job",
        Duration::from_secs(60),
        || async {
            repo::jobs::find(&db.pool, &id)
                .await
                .unwrap()
                .filter(|r| r.status == JobStatus::Done)
        },
    )
    .await;
    let counts = repo::probe::find(&db.pool, "crash").await.unwrap().unwrap();
    assert_eq!(
        counts.starts, 2,
        "started by the victim, then by the survivor"
    );
    assert_eq!(counts.completions, 1, "completed exactly once");
    assert!(
        row.lock_by
            .unwrap()
            .contains(&format!(":{}:", survivor.pid())),
        "the survivor completed it"
    );

    // Nothing runs it again after completion.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let counts = repo::probe::find(&db.pool, "crash").await.unwrap().unwrap();
    assert_eq!(
        (counts.starts, counts.completions),
        (2, 1),
        "{}",
        survivor.log_text()
    );
}

#[tokio::test]
async fn sigterm_finishes_the_running_job_and_returns_unstarted_ones() {
    let db = TestDb::new().await;
    let mut w = start_worker(&db.url);

    let mut conn = db.pool.acquire().await.unwrap();
    let slow = jobs::push(
        &mut conn,
        &Probe {
            key: "slow".into(),
            sleep_ms: 2000,
            behaviour: ProbeBehaviour::Succeed,
        },
    )
    .await
    .unwrap();
    drop(conn);
    eventually(
        "the worker to start the job",
        Duration::from_secs(20),
        || holder_pid(&db, &slow),
    )
    .await;
    // Queued while the worker is busy; the worker must not lose them when it stops.
    let mut conn = db.pool.acquire().await.unwrap();
    let later: Vec<_> = (0..3)
        .map(|i| Probe {
            key: format!("later-{i}"),
            sleep_ms: 2000,
            behaviour: ProbeBehaviour::Succeed,
        })
        .collect();
    let later_ids = jobs::push_many(&mut conn, &later).await.unwrap();
    drop(conn);

    w.signal(Signal::SIGTERM);
    let status = tokio::time::timeout(Duration::from_secs(30), w.child.wait())
        .await
        .expect("exits")
        .unwrap();
    assert!(status.success(), "clean exit: {}", w.log_text());

    let row = repo::jobs::find(&db.pool, &slow).await.unwrap().unwrap();
    assert_eq!(
        row.status,
        JobStatus::Done,
        "the running job finished before exit: {}",
        w.log_text()
    );
    assert_eq!(
        repo::probe::find(&db.pool, "slow")
            .await
            .unwrap()
            .unwrap()
            .completions,
        1
    );
    for id in &later_ids {
        let row = repo::jobs::find(&db.pool, id).await.unwrap().unwrap();
        assert!(
            matches!(row.status.as_str(), "Pending" | "Done"),
            "job {} left {}",
            id,
            row.status
        );
    }
}
