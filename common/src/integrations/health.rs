//! The health state machine and check timing, as pure functions of the policy, the current state
//! and a check's outcome (so every delay and transition is computed and unit-tested, not slept).
//!
//! `active` → `degraded` (first failures) → `error` (after `error_after` consecutive failures) →
//! `disabled` (failing for `disable_after`; checks stop). A success returns to `active`; a
//! credential the provider rejects is `reauth_required` (checks stop until new credentials).

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use chrono::{DateTime, Utc};

use crate::{config::HealthConfig, domain::HealthStatus};

/// How a check ended, as far as the state machine cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Healthy,
    /// Failed; `retry_after` is the provider's `Retry-After`, if it sent one.
    Failing {
        error: String,
        retry_after: Option<Duration>,
    },
    /// The provider refused the credentials: no point checking again until they change.
    Rejected {
        error: String,
    },
}

/// The health fields of an integration before a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthState {
    pub status: HealthStatus,
    pub consecutive_failures: i32,
    pub failing_since: Option<DateTime<Utc>>,
}

/// The health fields after a check, and when the next one is due (`None`: no more checks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Next {
    pub status: HealthStatus,
    pub consecutive_failures: i32,
    pub failing_since: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub next_check_at: Option<DateTime<Utc>>,
}

impl Next {
    /// Whether this is a transition worth telling people about: into `error`, or from `error`
    /// back to `active` (never the flapping between `active` and `degraded`).
    pub fn notifies(&self, before: HealthStatus) -> bool {
        self.status != before
            && (self.status == HealthStatus::Error
                || (self.status == HealthStatus::Active && before == HealthStatus::Error))
    }
}

/// Delay before the next check after `failures` consecutive failures: `retry_base` doubling per
/// failure up to `interval`, minus up to 20% jitter (`jitter` in `0.0..1.0`), and never before the
/// provider's `Retry-After` — itself believed only up to `interval`, so an absurd one cannot stop
/// the checks.
pub fn failure_delay(
    policy: &HealthConfig,
    failures: i32,
    retry_after: Option<Duration>,
    jitter: f64,
) -> Duration {
    let exp = u32::try_from(failures.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    let backoff = policy
        .retry_base
        .saturating_mul(2u32.saturating_pow(exp))
        .min(policy.interval);
    let jittered = backoff.mul_f64(1.0 - 0.2 * jitter.clamp(0.0, 1.0));
    jittered.max(retry_after.unwrap_or_default().min(policy.interval))
}

/// Applies one check's verdict at `now`.
pub fn next(
    policy: &HealthConfig,
    state: &HealthState,
    verdict: &Verdict,
    now: DateTime<Utc>,
    jitter: f64,
) -> Next {
    let at = |d: Duration| crate::remote_time::after(now, d);
    match verdict {
        Verdict::Healthy => Next {
            status: HealthStatus::Active,
            consecutive_failures: 0,
            failing_since: None,
            last_error: None,
            next_check_at: Some(at(policy.interval)),
        },
        Verdict::Rejected { error } => Next {
            status: HealthStatus::ReauthRequired,
            consecutive_failures: state.consecutive_failures.saturating_add(1),
            failing_since: state.failing_since.or(Some(now)),
            last_error: Some(error.clone()),
            next_check_at: None,
        },
        Verdict::Failing { error, retry_after } => {
            let failures = state.consecutive_failures.saturating_add(1);
            let since = state.failing_since.unwrap_or(now);
            let failing_for = (now - since).to_std().unwrap_or_default();
            let status = if failing_for >= policy.disable_after {
                HealthStatus::Disabled
            } else if failures >= i32::try_from(policy.error_after).unwrap_or(i32::MAX) {
                HealthStatus::Error
            } else {
                HealthStatus::Degraded
            };
            Next {
                status,
                consecutive_failures: failures,
                failing_since: Some(since),
                last_error: Some(error.clone()),
                next_check_at: (status != HealthStatus::Disabled)
                    .then(|| at(failure_delay(policy, failures, *retry_after, jitter))),
            }
        }
    }
}

/// The retry schedule inside one check: exponential from `inline_retry_base`, with jitter,
/// `inline_retries` times.
pub fn inline_backoff(policy: &HealthConfig) -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(policy.inline_retry_base)
        .with_max_delay(policy.inline_retry_base.saturating_mul(8))
        .with_max_times(policy.inline_retries)
        .with_jitter()
}

/// The delays `inline_backoff` would wait, without waiting (for tests and the docs).
pub fn inline_delays(policy: &HealthConfig) -> Vec<Duration> {
    inline_backoff(policy).build().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> HealthConfig {
        HealthConfig {
            interval: Duration::from_secs(300),
            retry_base: Duration::from_secs(30),
            error_after: 3,
            disable_after: Duration::from_secs(3 * 86400),
            request_timeout: Duration::from_secs(10),
            inline_retries: 2,
            inline_retry_base: Duration::from_millis(500),
            max_inline_wait: Duration::from_secs(5),
        }
    }

    fn state(status: HealthStatus, failures: i32, since: Option<DateTime<Utc>>) -> HealthState {
        HealthState {
            status,
            consecutive_failures: failures,
            failing_since: since,
        }
    }

    fn failing() -> Verdict {
        Verdict::Failing {
            error: "GitHub answered 500".into(),
            retry_after: None,
        }
    }

    #[test]
    fn failure_delays_double_up_to_the_interval_and_respect_retry_after() {
        let p = policy();
        let secs = |n, ra, j| failure_delay(&p, n, ra, j).as_secs_f64();
        assert_eq!(secs(1, None, 0.0), 30.0);
        assert_eq!(secs(2, None, 0.0), 60.0);
        assert_eq!(secs(3, None, 0.0), 120.0);
        assert_eq!(secs(4, None, 0.0), 240.0);
        assert_eq!(secs(5, None, 0.0), 300.0, "capped at the interval");
        assert_eq!(secs(40, None, 0.0), 300.0);
        // Jitter takes off at most 20%.
        assert_eq!(secs(2, None, 1.0), 48.0);
        assert_eq!(secs(2, None, 0.5), 54.0);
        // Retry-After wins when it is later.
        assert_eq!(secs(1, Some(Duration::from_secs(120)), 0.0), 120.0);
        assert_eq!(secs(3, Some(Duration::from_secs(10)), 0.0), 120.0);
        // An absurd one waits the interval, no more.
        assert_eq!(
            secs(1, Some(Duration::from_secs(99_999_999_999_999)), 0.0),
            300.0
        );
        assert_eq!(secs(1, Some(Duration::MAX), 0.0), 300.0);
    }

    #[test]
    fn an_absurd_retry_after_schedules_within_the_interval() {
        let p = policy();
        let t0 = Utc::now();
        let n = next(
            &p,
            &state(HealthStatus::Active, 0, None),
            &Verdict::Failing {
                error: "Argo CD answered 429".into(),
                retry_after: Some(Duration::MAX),
            },
            t0,
            0.0,
        );
        assert_eq!(n.next_check_at, Some(t0 + chrono::Duration::seconds(300)));
    }

    #[test]
    fn inline_retries_are_exponential_with_bounded_jitter() {
        let p = policy();
        let delays = inline_delays(&p);
        assert_eq!(delays.len(), 2);
        // backon's jitter adds up to one more base delay: 500ms·2^n + [0, 500ms·2^n).
        assert!(
            delays[0] >= Duration::from_millis(500) && delays[0] < Duration::from_millis(1000),
            "{delays:?}"
        );
        assert!(
            delays[1] >= Duration::from_millis(1000) && delays[1] < Duration::from_millis(2000),
            "{delays:?}"
        );
    }

    #[test]
    fn the_state_machine_degrades_errors_disables_and_recovers() {
        let p = policy();
        let t0 = Utc::now();
        let n1 = next(
            &p,
            &state(HealthStatus::Active, 0, None),
            &failing(),
            t0,
            0.0,
        );
        assert_eq!(
            (n1.status, n1.consecutive_failures, n1.failing_since),
            (HealthStatus::Degraded, 1, Some(t0))
        );
        assert_eq!(n1.next_check_at, Some(t0 + chrono::Duration::seconds(30)));
        assert!(!n1.notifies(HealthStatus::Active));

        let n2 = next(
            &p,
            &state(HealthStatus::Degraded, 1, Some(t0)),
            &failing(),
            t0,
            0.0,
        );
        assert_eq!(n2.status, HealthStatus::Degraded);
        let n3 = next(
            &p,
            &state(HealthStatus::Degraded, 2, Some(t0)),
            &failing(),
            t0,
            0.0,
        );
        assert_eq!(
            (n3.status, n3.consecutive_failures),
            (HealthStatus::Error, 3)
        );
        assert!(
            n3.notifies(HealthStatus::Degraded),
            "into error is announced"
        );
        let n4 = next(
            &p,
            &state(HealthStatus::Error, 3, Some(t0)),
            &failing(),
            t0,
            0.0,
        );
        assert!(!n4.notifies(HealthStatus::Error), "staying in error is not");

        let later = t0 + chrono::Duration::days(3);
        let off = next(
            &p,
            &state(HealthStatus::Error, 50, Some(t0)),
            &failing(),
            later,
            0.0,
        );
        assert_eq!(
            (off.status, off.next_check_at),
            (HealthStatus::Disabled, None)
        );

        let back = next(
            &p,
            &state(HealthStatus::Error, 4, Some(t0)),
            &Verdict::Healthy,
            t0,
            0.0,
        );
        assert_eq!(
            (back.status, back.consecutive_failures, back.failing_since),
            (HealthStatus::Active, 0, None)
        );
        assert_eq!(
            back.next_check_at,
            Some(t0 + chrono::Duration::seconds(300))
        );
        assert!(
            back.notifies(HealthStatus::Error),
            "back to active from error is announced"
        );
        let quiet = next(
            &p,
            &state(HealthStatus::Degraded, 1, Some(t0)),
            &Verdict::Healthy,
            t0,
            0.0,
        );
        assert!(
            !quiet.notifies(HealthStatus::Degraded),
            "degraded → active is not"
        );

        let rejected = next(
            &p,
            &state(HealthStatus::Active, 0, None),
            &Verdict::Rejected {
                error: "invalid_auth".into(),
            },
            t0,
            0.0,
        );
        assert_eq!(
            (rejected.status, rejected.next_check_at),
            (HealthStatus::ReauthRequired, None)
        );
    }
}
