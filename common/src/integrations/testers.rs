//! Running connection tests: each type's test is its provider's (`super::providers`), sent over
//! plain HTTP with a per-request timeout, or through the guarded `common::net::Outbound` for a
//! user-typed URL (a refused destination is a definite failure, recorded, never retried inline).
//!
//! Transient failures (network, timeouts, 5xx, 429) are retried inside the test with exponential
//! backoff and jitter (`backon`), honouring `Retry-After` up to `max_inline_wait`; a longer wait
//! ends the test so the next check is scheduled after it instead of holding a worker. A
//! `Retry-After` is believed up to the health interval, never further (`crate::remote_time`).

use std::{
    sync::atomic::{AtomicU32, Ordering},
    time::{Duration, Instant},
};

use backon::Retryable;
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value, json};

use super::{
    failure::{Failure, network, status_failure},
    health::{Verdict, inline_backoff},
    providers::{self, Attempt, TestCx},
};
use crate::crypto::keyring::Keyring;
use crate::{
    Error,
    config::{Config, HealthConfig},
    domain::{IntegrationKind, OrgId, RecoveryAction},
    github::Github,
    net::{Outbound, Policy},
};
use sqlx::PgPool;

/// The longest one connection test may take, retries included (the check job's timeout is 120 s).
pub const TEST_BUDGET: Duration = Duration::from_secs(60);

/// The largest answer body a connection test reads (an Argo CD list of many applications fits).
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// What a connection test found.
#[derive(Debug, Clone)]
pub struct TestReport {
    pub ok: bool,
    pub latency_ms: i32,
    /// Requests sent, retries included.
    pub attempts: i32,
    /// Requests that failed.
    pub errors: i32,
    /// What the provider said (account, team, application count, status, …).
    pub details: Value,
    pub failure: Option<Failure>,
    /// A recovery action taken during the test (`token_refreshed`, `hook_reinstall`).
    pub action: Option<RecoveryAction>,
}

impl TestReport {
    /// A test cut off at its `budget`.
    pub fn gave_up(budget: Duration, took: Duration) -> Self {
        Self {
            ok: false,
            latency_ms: i32::try_from(took.as_millis()).unwrap_or(i32::MAX),
            attempts: 1,
            errors: 1,
            details: json!({}),
            failure: Some(Failure::over_budget(budget)),
            action: None,
        }
    }

    pub fn error(&self) -> Option<String> {
        self.failure.as_ref().map(|f| f.message().to_owned())
    }

    /// The state machine's view of this report.
    pub fn verdict(&self) -> Verdict {
        match &self.failure {
            None => Verdict::Healthy,
            Some(Failure::Rejected(e)) => Verdict::Rejected { error: e.clone() },
            Some(Failure::Transient {
                message,
                retry_after,
            }) => Verdict::Failing {
                error: message.clone(),
                retry_after: *retry_after,
            },
            Some(f) => Verdict::Failing {
                error: f.message().to_owned(),
                retry_after: None,
            },
        }
    }
}

/// Runs connection tests.
#[derive(Clone)]
pub struct Tester {
    /// For the operator-configured GitHub and Slack only.
    pub(super) http: reqwest::Client,
    /// For every user-typed URL.
    pub outbound: Outbound,
    pub policy: HealthConfig,
    pub(super) github_api: String,
    pub(super) slack_api: String,
    /// For the GitHub App test, which reads and repairs the installation's rows.
    pub(super) github: Github,
    pub(super) pool: PgPool,
    pub(super) keyring: Keyring,
}

pub(super) fn str_field<'a>(m: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    m.get(k).and_then(Value::as_str)
}

impl Tester {
    /// Built once at boot (`crate::services::Services`); a client that cannot be built is an error.
    pub fn new(config: &Config, github: Github, pool: PgPool) -> Result<Self, Error> {
        Ok(Self {
            http: crate::services::http_client(
                reqwest::Client::builder()
                    .user_agent("RepoPal health check")
                    .timeout(config.health.request_timeout)
                    .redirect(reqwest::redirect::Policy::limited(3)),
                "the health-check HTTP client",
            )?,
            outbound: Outbound::new(
                Policy::new(&config.outbound_allowed_cidrs),
                config.health.request_timeout,
            ),
            policy: config.health.clone(),
            github_api: config
                .github
                .api_url
                .as_str()
                .trim_end_matches('/')
                .to_owned(),
            slack_api: config
                .slack
                .api_url
                .as_str()
                .trim_end_matches('/')
                .to_owned(),
            github,
            pool,
            keyring: config.keyring.clone(),
        })
    }

    /// Tests `kind` with these config and credentials, retrying transient failures.
    pub async fn test(
        &self,
        org: OrgId,
        kind: IntegrationKind,
        config: &Value,
        credentials: &Map<String, Value>,
    ) -> TestReport {
        let started = Instant::now();
        let attempts = AtomicU32::new(0);
        let errors = AtomicU32::new(0);
        let action = std::sync::Mutex::new(None::<RecoveryAction>);
        let empty = Map::new();
        let cx = TestCx {
            org,
            config: config.as_object().unwrap_or(&empty),
            creds: credentials,
            action: &action,
        };
        let (attempts_ref, errors_ref, cx_ref) = (&attempts, &errors, &cx);
        let once = || async move {
            attempts_ref.fetch_add(1, Ordering::Relaxed);
            let r = self.attempt(kind, cx_ref).await;
            if r.is_err() {
                errors_ref.fetch_add(1, Ordering::Relaxed);
            }
            r
        };
        let max_wait = self.policy.max_inline_wait;
        let retried = once
            .retry(inline_backoff(&self.policy))
            .when(|f: &Failure| match f {
                Failure::Transient { retry_after, .. } => retry_after.is_none_or(|w| w <= max_wait),
                _ => false,
            })
            // `dur` is `None` once the retries are used up: that ends the retrying, whatever the
            // provider asks for. A `Retry-After` only ever lengthens the wait.
            .adjust(|f: &Failure, dur| {
                dur.map(|d| match f {
                    Failure::Transient {
                        retry_after: Some(wait),
                        ..
                    } => d.max(*wait),
                    _ => d,
                })
            })
            .notify(|f: &Failure, dur: Duration| {
                tracing::info!(
                    kind = %kind,
                    error = f.message(),
                    retry_in_ms = dur.as_millis() as u64,
                    "connection test failed; retrying"
                )
            })
            .into_future();
        // However the provider behaves, a test ends within its budget (well inside the job's
        // timeout), as an ordinary failure that is recorded and rescheduled.
        let result = match tokio::time::timeout(TEST_BUDGET, retried).await {
            Ok(r) => r,
            Err(_) => Err(Failure::over_budget(TEST_BUDGET)),
        };
        let latency_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
        let action = action.into_inner().unwrap_or_default();
        let (ok, details, failure) = match result {
            Ok(details) => (true, details, None),
            Err(f) => (false, json!({}), Some(f)),
        };
        TestReport {
            ok,
            latency_ms,
            attempts: attempts.load(Ordering::Relaxed) as i32,
            errors: errors.load(Ordering::Relaxed) as i32,
            details,
            failure,
            action,
        }
    }

    async fn attempt(&self, kind: IntegrationKind, cx: &TestCx<'_>) -> Attempt {
        providers::of(kind).test(self, cx).await
    }

    pub(super) async fn send(
        &self,
        provider: &str,
        req: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, Failure> {
        let res = req.send().await.map_err(|e| network(provider, e))?;
        self.answered(provider, res)
    }

    pub(super) fn answered(
        &self,
        provider: &str,
        res: reqwest::Response,
    ) -> Result<reqwest::Response, Failure> {
        match status_failure(provider, res.status(), res.headers(), self.policy.interval) {
            Some(f) => Err(f),
            None => Ok(res),
        }
    }

    /// The answer's JSON body, read up to `MAX_BODY_BYTES`: a server (possibly one a user typed)
    /// cannot make a check hold more memory than that.
    pub(super) async fn json(provider: &str, mut res: reqwest::Response) -> Result<Value, Failure> {
        let too_large = || {
            Failure::Failed(format!(
                "{provider} answered a body over {MAX_BODY_BYTES} bytes"
            ))
        };
        if res
            .content_length()
            .is_some_and(|n| n > u64::try_from(MAX_BODY_BYTES).unwrap_or(u64::MAX))
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = res
            .chunk()
            .await
            .map_err(|_| Failure::Failed(format!("{provider}'s answer broke off")))?
        {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body)
            .map_err(|_| Failure::Failed(format!("{provider} answered an unexpected body")))
    }

    pub(super) fn github_request(
        &self,
        method: Method,
        path: &str,
        token: &SecretString,
    ) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.github_api))
            .bearer_auth(token.expose_secret())
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28")
    }
}
