//! Connection tests, one per integration type, over plain HTTP with a per-request timeout:
//! GitHub `GET /user` (token) or an installation token and `GET /installation/repositories`
//! (App installation, plus a ping of RepoPal's hooks on its monitored repositories), Slack
//! `auth.test`, Argo CD `GET /api/v1/applications`, and a generic URL probe. Argo CD and the probe
//! go to user-typed URLs, so only through the guarded `common::net::Outbound`; a refused
//! destination is a definite failure (recorded, never retried inline).
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
use reqwest::{Method, StatusCode, header::HeaderMap};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value, json};

use super::health::{Verdict, inline_backoff};
use crate::crypto::keyring::Keyring;
use crate::{
    Error,
    config::{Config, HealthConfig},
    domain::OrgId,
    github::{Github, HookHealth, installation_token},
    net::{Outbound, OutboundError, Policy},
    repo::repositories,
};
use sqlx::PgPool;

/// The longest one connection test may take, retries included (the check job's timeout is 120 s).
pub const TEST_BUDGET: Duration = Duration::from_secs(60);

/// Why one attempt failed.

/// The largest answer body a connection test reads (an Argo CD list of many applications fits).
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Worth retrying: network, timeout, 5xx, 429 (with the provider's `Retry-After`).
    Transient {
        message: String,
        retry_after: Option<Duration>,
    },
    /// A definite failure that retrying now will not change (404, unexpected status).
    Failed(String),
    /// The provider refused the credentials.
    Rejected(String),
    /// The access token expired and can be refreshed (Slack token rotation).
    Expired(String),
}

impl Failure {
    /// A test that ran out of time.
    pub fn over_budget(budget: Duration) -> Self {
        Self::Transient {
            message: format!("the test took longer than {} s", budget.as_secs()),
            retry_after: None,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            Self::Transient { message, .. }
            | Self::Failed(message)
            | Self::Rejected(message)
            | Self::Expired(message) => message,
        }
    }
}

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
    pub action: Option<String>,
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
    http: reqwest::Client,
    /// For every user-typed URL.
    pub outbound: Outbound,
    pub policy: HealthConfig,
    github_api: String,
    slack_api: String,
    /// For the GitHub App test, which reads and repairs the installation's rows.
    github: Github,
    pool: PgPool,
    keyring: Keyring,
}

type Attempt = Result<Value, Failure>;

/// The common reading of an HTTP status: `None` when it is a success. A `Retry-After` is believed
/// up to `max_wait`.
fn status_failure(
    provider: &str,
    status: StatusCode,
    headers: &HeaderMap,
    max_wait: Duration,
) -> Option<Failure> {
    if status.is_success() {
        return None;
    }
    // GitHub's secondary limits answer 403 with `Retry-After` (and calls to spare).
    let limited = status == StatusCode::TOO_MANY_REQUESTS
        || (status == StatusCode::FORBIDDEN
            && (headers
                .get("x-ratelimit-remaining")
                .is_some_and(|v| v.as_bytes() == b"0")
                || headers.contains_key("retry-after")));
    Some(if limited || status.is_server_error() {
        Failure::Transient {
            message: format!("{provider} answered {status}"),
            retry_after: crate::remote_time::retry_after(headers, max_wait)
                .or(limited.then_some(Duration::from_secs(60).min(max_wait))),
        }
    } else if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        Failure::Rejected(format!("{provider} refused the credentials ({status})"))
    } else {
        Failure::Failed(format!("{provider} answered {status}"))
    })
}

/// A request that got no answer. The URL (which may carry user-supplied query strings) is left out.
fn network(provider: &str, e: reqwest::Error) -> Failure {
    let what = if e.is_timeout() {
        "timed out".to_owned()
    } else {
        format!("unreachable: {}", e.without_url())
    };
    Failure::Transient {
        message: format!("{provider} {what}"),
        retry_after: None,
    }
}

/// A guarded request that did not get an answer: a refused or invalid destination is definite,
/// the rest is worth retrying.
fn outbound_failure(provider: &str, e: OutboundError) -> Failure {
    match e {
        OutboundError::NotAllowed(m) | OutboundError::InvalidUrl(m) => {
            Failure::Failed(format!("{provider}: {m}"))
        }
        OutboundError::TooManyRedirects => Failure::Failed(format!("{provider}: {e}")),
        OutboundError::Resolve(m) | OutboundError::Network(m) => Failure::Transient {
            message: format!("{provider} {m}"),
            retry_after: None,
        },
    }
}

fn str_field<'a>(m: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
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
        kind: &str,
        config: &Value,
        credentials: &Map<String, Value>,
    ) -> TestReport {
        let started = Instant::now();
        let attempts = AtomicU32::new(0);
        let errors = AtomicU32::new(0);
        let action = std::sync::Mutex::new(None::<String>);
        let (attempts_ref, errors_ref, action_ref) = (&attempts, &errors, &action);
        let once = || async move {
            attempts_ref.fetch_add(1, Ordering::Relaxed);
            let r = self
                .attempt(org, kind, config, credentials, action_ref)
                .await;
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
                    kind,
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

    async fn attempt(
        &self,
        org: OrgId,
        kind: &str,
        config: &Value,
        creds: &Map<String, Value>,
        action: &std::sync::Mutex<Option<String>>,
    ) -> Attempt {
        let empty = Map::new();
        let config = config.as_object().unwrap_or(&empty);
        match kind {
            "github" => self.github_token(creds).await,
            "github_app" => self.github_app(org, config, action).await,
            "slack" => self.slack(creds).await,
            "argocd" => self.argocd(config, creds).await,
            "http" => self.http_probe(config, creds).await,
            other => Err(Failure::Failed(format!("no connection test for `{other}`"))),
        }
    }

    async fn send(
        &self,
        provider: &str,
        req: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, Failure> {
        let res = req.send().await.map_err(|e| network(provider, e))?;
        self.answered(provider, res)
    }

    fn answered(
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
    async fn json(provider: &str, mut res: reqwest::Response) -> Result<Value, Failure> {
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

    fn github_request(
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

    async fn github_token(&self, creds: &Map<String, Value>) -> Attempt {
        let token = SecretString::from(str_field(creds, "token").unwrap_or_default().to_owned());
        let res = self
            .send("GitHub", self.github_request(Method::GET, "/user", &token))
            .await?;
        let scopes = res
            .headers()
            .get("x-oauth-scopes")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let user = Self::json("GitHub", res).await?;
        Ok(json!({"login": user["login"], "account_id": user["id"], "scopes": scopes}))
    }

    /// The installation answers with a fresh token (a refused cached one is replaced: the
    /// `token_refreshed` recovery), and RepoPal's hooks on its monitored repositories still exist
    /// (a missing one is removed from the records and reinstalled: `hook_reinstall`).
    async fn github_app(
        &self,
        org: OrgId,
        config: &Map<String, Value>,
        action: &std::sync::Mutex<Option<String>>,
    ) -> Attempt {
        let installation = config
            .get("installation_id")
            .and_then(Value::as_i64)
            .ok_or_else(|| Failure::Failed("config.installation_id is missing".into()))?;
        let gh = self.github.with_db(&self.pool, &self.keyring);
        let app = gh.app.as_ref().ok_or_else(|| {
            Failure::Failed("the GitHub App is not configured (GITHUB_APP_ID)".into())
        })?;
        let linked = crate::repo::installations::org_of(gh.pool, installation)
            .await
            .map_err(|e| Failure::Transient {
                message: e.to_string(),
                retry_after: None,
            })?;
        if linked != Some(org) {
            return Err(Failure::Rejected(
                "the installation is not linked to this organisation".into(),
            ));
        }
        let mut fresh = false;
        let repos = loop {
            let token =
                installation_token(gh.pool, gh.keyring, &gh.client, app, installation, fresh)
                    .await
                    .map_err(|e| match e {
                        Error::NotFound => {
                            Failure::Rejected("GitHub no longer knows this installation".into())
                        }
                        other => Failure::Transient {
                            message: other.to_string(),
                            retry_after: None,
                        },
                    })?;
            let req =
                self.github_request(Method::GET, "/installation/repositories?per_page=1", &token);
            match self.send("GitHub", req).await {
                Err(Failure::Rejected(_)) if !fresh => {
                    // The cached installation token was revoked or expired early: mint another.
                    fresh = true;
                    if let Ok(mut a) = action.lock() {
                        *a = Some("token_refreshed".into());
                    }
                }
                other => break Self::json("GitHub", other?).await?,
            }
        };
        let mut reinstalled = Vec::new();
        let monitored = repositories::monitored_of_installation(gh.pool, org, installation)
            .await
            .map_err(|e| Failure::Transient {
                message: e.to_string(),
                retry_after: None,
            })?;
        for repo in monitored.iter().take(20) {
            let ping =
                tokio::time::timeout(self.policy.request_timeout, gh.hook_health(org, repo.id))
                    .await
                    .map_err(|_| Failure::Transient {
                        message: format!("pinging the hook of {} timed out", repo.full_name),
                        retry_after: None,
                    })?;
            match ping {
                Ok(HookHealth::Gone) => {
                    crate::github::reinstall_hook(gh.pool, org, repo.id)
                        .await
                        .map_err(|e| Failure::Transient {
                            message: e.to_string(),
                            retry_after: None,
                        })?;
                    reinstalled.push(repo.full_name.clone());
                }
                Ok(_) => {}
                Err(e) => {
                    return Err(Failure::Transient {
                        message: format!("pinging the hook of {}: {e}", repo.full_name),
                        retry_after: None,
                    });
                }
            }
        }
        if !reinstalled.is_empty()
            && let Ok(mut a) = action.lock()
        {
            *a = Some("hook_reinstall".into());
        }
        Ok(json!({
            "installation_id": installation,
            "repositories": repos["total_count"],
            "hooks_checked": monitored.len().min(20),
            "hooks_reinstalled": reinstalled,
        }))
    }

    async fn slack(&self, creds: &Map<String, Value>) -> Attempt {
        let token = str_field(creds, "bot_token").unwrap_or_default();
        let req = self
            .http
            .post(format!("{}/auth.test", self.slack_api))
            .bearer_auth(token);
        let answer = Self::json("Slack", self.send("Slack", req).await?).await?;
        if answer["ok"].as_bool() == Some(true) {
            return Ok(json!({
                "team": answer["team"], "team_id": answer["team_id"],
                "user": answer["user"], "bot_id": answer["bot_id"],
            }));
        }
        let code = answer["error"]
            .as_str()
            .unwrap_or("unknown_error")
            .to_owned();
        Err(match crate::slack::classify(&code) {
            _ if code == "token_expired" => Failure::Expired(format!("Slack: {code}")),
            crate::slack::SlackError::Auth(_) => Failure::Rejected(format!("Slack: {code}")),
            crate::slack::SlackError::Transient(_) => Failure::Transient {
                message: format!("Slack: {code}"),
                retry_after: None,
            },
            crate::slack::SlackError::Rejected(_) => Failure::Failed(format!("Slack: {code}")),
        })
    }

    async fn argocd(&self, config: &Map<String, Value>, creds: &Map<String, Value>) -> Attempt {
        let server = str_field(config, "server_url")
            .unwrap_or_default()
            .trim_end_matches('/');
        let token = str_field(creds, "token").unwrap_or_default();
        let res = self
            .outbound
            .send(
                Method::GET,
                &format!("{server}/api/v1/applications"),
                Some(token),
            )
            .await
            .map_err(|e| outbound_failure("Argo CD", e))?;
        let list = Self::json("Argo CD", self.answered("Argo CD", res)?).await?;
        let items = list["items"].as_array().map(Vec::len).unwrap_or(0);
        Ok(json!({"applications": items}))
    }

    async fn http_probe(&self, config: &Map<String, Value>, creds: &Map<String, Value>) -> Attempt {
        let url = str_field(config, "url").unwrap_or_default();
        let method = if str_field(config, "method") == Some("HEAD") {
            Method::HEAD
        } else {
            Method::GET
        };
        let token = str_field(creds, "bearer_token");
        let res = self
            .outbound
            .send(method, url, token)
            .await
            .map_err(|e| outbound_failure("the endpoint", e))?;
        let status = res.status();
        let expected = config.get("expected_status").and_then(Value::as_u64);
        let healthy = match expected {
            Some(code) => u64::from(status.as_u16()) == code,
            None => status.is_success(),
        };
        if healthy {
            return Ok(json!({"status": status.as_u16()}));
        }
        let mismatch = || {
            Failure::Failed(format!(
                "the endpoint answered {status}, expected {}",
                expected.map_or("2xx".to_owned(), |c| c.to_string())
            ))
        };
        Err(
            match status_failure("the endpoint", status, res.headers(), self.policy.interval) {
                // Without a token of ours to refuse, a 401/403 is just the wrong answer.
                Some(Failure::Rejected(_)) if token.is_none() => mismatch(),
                Some(f) => f,
                None => mismatch(),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);

    fn status_failure(provider: &str, status: StatusCode, h: &HeaderMap) -> Option<Failure> {
        super::status_failure(provider, status, h, DAY)
    }

    #[test]
    fn absurd_retry_afters_are_clamped_to_the_maximum() {
        for absurd in [
            "99999999999999",
            "18446744073709551616",
            "Fri, 31 Dec 9999 23:59:59 GMT",
        ] {
            let mut h = HeaderMap::new();
            h.insert("retry-after", absurd.parse().expect("header value"));
            assert_eq!(
                status_failure("X", StatusCode::TOO_MANY_REQUESTS, &h),
                Some(Failure::Transient {
                    message: "X answered 429 Too Many Requests".into(),
                    retry_after: Some(DAY),
                }),
                "{absurd}"
            );
        }
        let mut h = HeaderMap::new();
        h.insert("retry-after", "-1".parse().expect("header value"));
        assert!(matches!(
            status_failure("X", StatusCode::TOO_MANY_REQUESTS, &h),
            Some(Failure::Transient { retry_after: Some(d), .. }) if d == Duration::from_secs(60)
        ));
    }

    #[test]
    fn statuses_map_to_failures() {
        let h = HeaderMap::new();
        assert_eq!(status_failure("X", StatusCode::OK, &h), None);
        assert!(matches!(
            status_failure("X", StatusCode::UNAUTHORIZED, &h),
            Some(Failure::Rejected(_))
        ));
        assert!(matches!(
            status_failure("X", StatusCode::NOT_FOUND, &h),
            Some(Failure::Failed(_))
        ));
        let mut limited = HeaderMap::new();
        limited.insert("retry-after", "120".parse().unwrap());
        assert_eq!(
            status_failure("X", StatusCode::TOO_MANY_REQUESTS, &limited),
            Some(Failure::Transient {
                message: "X answered 429 Too Many Requests".into(),
                retry_after: Some(Duration::from_secs(120)),
            })
        );
        assert!(matches!(
            status_failure("X", StatusCode::BAD_GATEWAY, &h),
            Some(Failure::Transient {
                retry_after: None,
                ..
            })
        ));
        // A secondary rate limit: 403 with Retry-After is not a refused credential.
        assert!(matches!(
            status_failure("X", StatusCode::FORBIDDEN, &limited),
            Some(Failure::Transient {
                retry_after: Some(_),
                ..
            })
        ));
    }
}
