//! Effects happen once across crashes: a real worker SIGKILLed after the provider accepted an
//! effect and before the ledger committed it does not repeat the effect when the job runs again.

use std::time::Duration;

use nix::sys::signal::Signal;
use repopal_tests::{
    monitored::{CHANNELS, Monitored, QUEUES},
    process::{Proc, spawn},
    worker::{drain, eventually},
};

/// The real worker binary with the setup's fakes and fast crash recovery.
fn worker(m: &Monitored) -> Proc {
    let mut env = repopal_tests::http::test_env(&m.app.db.url);
    for (k, v) in m.env() {
        env.insert((*k).to_owned(), v.clone());
    }
    for (k, v) in [
        ("WORKER_HEARTBEAT_SECS", "1"),
        ("WORKER_MISSED_HEARTBEATS", "3"),
        ("WORKER_POLL_INTERVAL_MS", "100"),
        ("WORKER_SHUTDOWN_TIMEOUT_SECS", "2"),
        ("JOB_RETRY_BASE_MS", "20"),
        ("JOB_RETRY_MAX_SECS", "1"),
        ("SCHEDULER_TICK_SECS", "3600"),
    ] {
        env.insert(k.to_owned(), v.to_owned());
    }
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    spawn("repopal-worker", &[], &pairs)
}

#[tokio::test]
async fn a_slack_post_interrupted_after_slack_accepted_it_is_not_repeated() {
    let m = Monitored::start(&[]).await;
    // Slack accepts every post but the worker never hears back.
    m.slack.hold_answers(true);
    let failure = m.workflow_run(880_001, 41, 1, "main", "failure");
    m.deliver("workflow_run", "effects-once-1", &failure).await;

    let mut victim = worker(&m);
    eventually(
        "Slack to accept a post whose answer is held back",
        Duration::from_secs(60),
        || async { (m.slack.held() >= 1).then_some(()) },
    )
    .await;
    victim.signal(Signal::SIGKILL);
    let _ = victim.child.wait().await;
    let accepted_before_the_crash = m.slack.posted().len();
    assert!(accepted_before_the_crash >= 1);
    m.slack.hold_answers(false);

    let survivor = worker(&m);
    drain(&m.app.db.pool, QUEUES, Duration::from_secs(90)).await;

    let posted = m.slack.posted();
    for channel in CHANNELS {
        let to_channel: Vec<_> = posted.iter().filter(|p| p.channel == channel).collect();
        assert_eq!(
            to_channel.len(),
            1,
            "one message in {channel}: {posted:?}\n{}",
            survivor.log_text()
        );
        assert!(to_channel[0].text.contains("Incident opened"));
        // The one message carries RepoPal's key in its metadata.
        let history = m.slack.history(channel);
        assert_eq!(history.len(), 1, "{history:?}");
        assert_eq!(history[0]["metadata"]["event_type"], "repopal_message");
        assert!(
            history[0]["metadata"]["event_payload"]["idempotency_key"]
                .as_str()
                .is_some_and(|k| k.starts_with("slack:"))
        );
    }
    assert!(
        m.slack.count("conversations.history") >= accepted_before_the_crash,
        "every interrupted post was looked up before posting again"
    );
    assert!(
        survivor
            .log_text()
            .contains("an earlier attempt already posted this message"),
        "{}",
        survivor.log_text()
    );
}
