//! Configuration: every setting comes from the environment, parsed once at boot into typed structs.
//!
//! A missing or malformed required variable is an error that names the variable, so start-up fails
//! with a message an operator can act on. Every variable here is documented in `.env.example` and the
//! README table.

use std::{collections::HashMap, time::Duration};

use secrecy::SecretString;
use url::Url;

/// A configuration problem, always naming the variable at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is required but not set")]
    Missing(&'static str),
    #[error("{name} is malformed: {reason}")]
    Malformed { name: &'static str, reason: String },
}

/// Where variables are read from: the process environment in production, a map in tests.
pub trait Source {
    fn get(&self, name: &str) -> Option<String>;
}

/// The real process environment.
pub struct ProcessEnv;

impl Source for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.trim().is_empty())
    }
}

impl Source for HashMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        HashMap::get(self, name)
            .cloned()
            .filter(|v| !v.trim().is_empty())
    }
}

/// Settings shared by the API and the workers.
#[derive(Debug, Clone)]
pub struct Config {
    pub database: DatabaseConfig,
    pub github: GithubConfig,
    pub slack: SlackConfig,
    pub health: HealthConfig,
    /// Networks that requests to user-typed URLs may reach (`OUTBOUND_ALLOWED_CIDRS`; the rules
    /// are in `crate::net::policy`).
    pub outbound_allowed_cidrs: Vec<ipnet::IpNet>,
    pub log: LogConfig,
    /// Keys sealing third-party secrets (`ENCRYPTION_KEYS`, `ENCRYPTION_ACTIVE_KEY_ID`).
    pub keyring: crate::crypto::keyring::Keyring,
    pub mail: MailConfig,
    /// Public base URL of the API, for links in emails and OAuth redirects.
    pub public_url: Url,
}

#[derive(Debug, Clone)]
pub struct MailConfig {
    /// `smtp://` or `smtps://` URL; without it mail goes to the log and the outbox table only.
    pub smtp_url: Option<SecretString>,
    pub from: String,
}

#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    pub url: SecretString,
    pub max_connections: u32,
}

#[derive(Debug, Clone)]
pub struct GithubConfig {
    pub api_url: Url,
    pub web_url: Url,
    pub app_id: Option<u64>,
    pub app_private_key: Option<SecretString>,
    /// The App's URL name (`https://github.com/apps/<slug>`), for its install link.
    pub app_slug: Option<String>,
    /// Scopes asked for when a user connects GitHub for repository access.
    pub repo_scopes: Vec<String>,
    pub oauth_client_id: Option<String>,
    pub oauth_client_secret: Option<SecretString>,
}

#[derive(Debug, Clone)]
pub struct SlackConfig {
    pub api_url: Url,
    /// At most one "still failing" message per incident in this many seconds.
    pub group_notify_window_secs: u64,
    /// The Slack app for "Add to Slack" (OAuth v2); both or neither.
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
    /// Slack's authorize page (`https://slack.com/oauth/v2/authorize`).
    pub authorize_url: Url,
    /// Bot scopes asked for.
    pub scopes: String,
}

/// How integrations are health-checked.
#[derive(Debug, Clone)]
pub struct HealthConfig {
    /// Time between checks of a healthy integration.
    pub interval: Duration,
    /// Delay before re-checking after the first failure; doubles per consecutive failure, with
    /// jitter, up to `interval`.
    pub retry_base: Duration,
    /// Consecutive failures that turn `degraded` into `error`.
    pub error_after: u32,
    /// Failing for this long turns the integration `disabled` (checks stop).
    pub disable_after: Duration,
    /// Timeout of one request of a check.
    pub request_timeout: Duration,
    /// Retries inside one check (exponential with jitter, from `inline_retry_base`).
    pub inline_retries: usize,
    pub inline_retry_base: Duration,
    /// A `Retry-After` up to this long is waited for inside the check; a longer one ends the check
    /// and the next one is scheduled after it.
    pub max_inline_wait: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

#[derive(Debug, Clone)]
pub struct LogConfig {
    pub format: LogFormat,
}

/// Settings only the API process needs.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    pub port: u16,
    pub request_timeout: Duration,
    pub body_limit_bytes: usize,
    pub github_webhook_secret: SecretString,
    pub auth: AuthConfig,
    /// Peers (and `X-Forwarded-For` hops) whose forwarding headers are believed
    /// (`TRUSTED_PROXY_CIDRS`); empty means the peer address is always the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Origins a browser may call the API from (`CORS_ALLOWED_ORIGINS`); empty closes CORS.
    pub cors_allowed_origins: Vec<String>,
    /// Bearer token `/metrics` requires (`METRICS_TOKEN`).
    pub metrics_token: Option<SecretString>,
    /// A separate listener for `/metrics` (`METRICS_ADDR`); when set, the public port has none.
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// Bytes of webhook bodies being read at once, across requests (`WEBHOOK_MAX_INFLIGHT_BYTES`).
    pub webhook_max_inflight_bytes: usize,
}

/// Sessions, tokens and brute-force protection.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub jwt_signing_key: SecretString,
    pub jwt_key_id: String,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    /// Requests per minute per client IP on the `/api/v1/auth` endpoints.
    pub rate_limit_per_minute: u32,
    /// Password hashes (argon2) computed at once (`PASSWORD_HASH_CONCURRENCY`, default: cores).
    pub password_hash_concurrency: usize,
    /// How long a request waits for a hashing slot before 503 `server_busy`
    /// (`PASSWORD_HASH_MAX_WAIT_MS`, default 2 s).
    pub password_hash_max_wait: Duration,
    /// Failed logins (since the last success) before an account is locked, the first lock's length
    /// (doubling per further failure) and the longest lock.
    pub lockout_threshold: u32,
    pub lockout_base: Duration,
    pub lockout_max: Duration,
    /// Scopes asked for on GitHub login.
    pub github_login_scopes: Vec<String>,
}

/// Settings only the worker processes need.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Default number of jobs one process runs at once per queue.
    pub concurrency: usize,
    /// How often a worker proves it is alive.
    pub heartbeat: Duration,
    /// Missed heartbeats after which another worker re-runs a dead worker's jobs.
    pub missed_heartbeats: usize,
    /// Polling interval for delayed and retried jobs (immediate ones arrive by LISTEN/NOTIFY).
    pub poll_interval: Duration,
    /// First retry delay; doubles per attempt, with jitter, up to `retry_max`.
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// How long SIGTERM waits for running jobs before giving up on them.
    pub shutdown_timeout: Duration,
    /// Period of the scheduler tick that enqueues periodic jobs.
    pub scheduler_tick: Duration,
    /// Finished job rows and stale worker rows older than this are pruned.
    pub job_retention: Duration,
    /// Per-queue overrides from `JOB_TIMEOUT_SECS_<QUEUE>`, `JOB_BATCH_SIZE_<QUEUE>` and
    /// `JOB_CONCURRENCY_<QUEUE>` (queue name upper-cased, e.g. `JOB_TIMEOUT_SECS_PROBE`).
    pub queue_overrides: HashMap<String, QueueOverride>,
}

/// Operator overrides of one queue's built-in limits.
#[derive(Debug, Clone, Default)]
pub struct QueueOverride {
    pub timeout: Option<Duration>,
    pub batch_size: Option<usize>,
    pub concurrency: Option<usize>,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&ProcessEnv)
    }

    pub fn from_source(env: &dyn Source) -> Result<Self, ConfigError> {
        let database_url = database_url(env)?;
        let app_id = optional(env, "GITHUB_APP_ID", parse_u64)?;
        let app_private_key = env.get("GITHUB_APP_PRIVATE_KEY").map(SecretString::from);
        if app_id.is_some() != app_private_key.is_some() {
            let name = if app_id.is_some() {
                "GITHUB_APP_PRIVATE_KEY"
            } else {
                "GITHUB_APP_ID"
            };
            return Err(ConfigError::Malformed {
                name,
                reason: "GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY must be set together".into(),
            });
        }
        if env
            .get("GITHUB_APP_PRIVATE_KEY")
            .is_some_and(|key| !key.contains("PRIVATE KEY"))
        {
            return Err(ConfigError::Malformed {
                name: "GITHUB_APP_PRIVATE_KEY",
                reason: "expected a PEM-encoded RSA private key".into(),
            });
        }
        let oauth_client_id = env.get("GITHUB_OAUTH_CLIENT_ID");
        let oauth_client_secret = env
            .get("GITHUB_OAUTH_CLIENT_SECRET")
            .map(SecretString::from);
        if oauth_client_id.is_some() != oauth_client_secret.is_some() {
            let name = if oauth_client_id.is_some() {
                "GITHUB_OAUTH_CLIENT_SECRET"
            } else {
                "GITHUB_OAUTH_CLIENT_ID"
            };
            return Err(ConfigError::Malformed {
                name,
                reason:
                    "GITHUB_OAUTH_CLIENT_ID and GITHUB_OAUTH_CLIENT_SECRET must be set together"
                        .into(),
            });
        }
        let slack_client_id = env.get("SLACK_CLIENT_ID");
        let slack_client_secret = env.get("SLACK_CLIENT_SECRET").map(SecretString::from);
        if slack_client_id.is_some() != slack_client_secret.is_some() {
            return Err(ConfigError::Malformed {
                name: if slack_client_id.is_some() {
                    "SLACK_CLIENT_SECRET"
                } else {
                    "SLACK_CLIENT_ID"
                },
                reason: "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET must be set together".into(),
            });
        }
        let format = match env.get("LOG_FORMAT").as_deref() {
            None | Some("json") => LogFormat::Json,
            Some("pretty") => LogFormat::Pretty,
            Some(other) => {
                return Err(ConfigError::Malformed {
                    name: "LOG_FORMAT",
                    reason: format!("`{other}` is not one of json, pretty"),
                });
            }
        };
        let keyring = crate::crypto::keyring::Keyring::parse(
            &SecretString::from(required(env, "ENCRYPTION_KEYS")?),
            env.get("ENCRYPTION_ACTIVE_KEY_ID").as_deref(),
        )
        .map_err(|reason| ConfigError::Malformed {
            name: "ENCRYPTION_KEYS",
            reason,
        })?;
        let smtp_url = env.get("SMTP_URL");
        if smtp_url
            .as_ref()
            .is_some_and(|url| !(url.starts_with("smtp://") || url.starts_with("smtps://")))
        {
            return Err(ConfigError::Malformed {
                name: "SMTP_URL",
                reason: "expected smtp:// or smtps://".into(),
            });
        }
        Ok(Self {
            keyring,
            mail: MailConfig {
                smtp_url: smtp_url.map(SecretString::from),
                from: env
                    .get("MAIL_FROM")
                    .unwrap_or_else(|| "RepoPal <noreply@localhost>".to_owned()),
            },
            public_url: or_default(
                env,
                "PUBLIC_URL",
                default_url("http://localhost:8080"),
                parse_url,
            )?,
            database: DatabaseConfig {
                url: SecretString::from(database_url),
                max_connections: or_default(env, "DATABASE_MAX_CONNECTIONS", 20, parse_u32)?,
            },
            github: GithubConfig {
                api_url: or_default(
                    env,
                    "GITHUB_API_URL",
                    default_url("https://api.github.com"),
                    parse_url,
                )?,
                web_url: or_default(
                    env,
                    "GITHUB_WEB_URL",
                    default_url("https://github.com"),
                    parse_url,
                )?,
                app_id,
                app_private_key,
                app_slug: env.get("GITHUB_APP_SLUG"),
                repo_scopes: env
                    .get("GITHUB_REPO_SCOPES")
                    .unwrap_or_else(|| "repo read:org".to_owned())
                    .split([' ', ','])
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
                oauth_client_id,
                oauth_client_secret,
            },
            slack: SlackConfig {
                api_url: or_default(
                    env,
                    "SLACK_API_URL",
                    default_url("https://slack.com/api"),
                    parse_url,
                )?,
                group_notify_window_secs: or_default(
                    env,
                    "INCIDENT_NOTIFY_WINDOW_SECS",
                    900,
                    parse_notify_window,
                )?,
                client_id: slack_client_id,
                client_secret: slack_client_secret,
                authorize_url: or_default(
                    env,
                    "SLACK_AUTHORIZE_URL",
                    default_url("https://slack.com/oauth/v2/authorize"),
                    parse_url,
                )?,
                scopes: env
                    .get("SLACK_SCOPES")
                    .unwrap_or_else(|| "chat:write,channels:read".to_owned()),
            },
            health: HealthConfig {
                interval: or_default(
                    env,
                    "HEALTH_CHECK_INTERVAL_SECS",
                    Duration::from_secs(300),
                    parse_positive_secs,
                )?,
                retry_base: or_default(
                    env,
                    "HEALTH_RETRY_BASE_SECS",
                    Duration::from_secs(30),
                    parse_positive_secs,
                )?,
                error_after: or_default(env, "HEALTH_ERROR_AFTER", 3, |v| {
                    parse_positive(v).map(|n| u32::try_from(n).unwrap_or(u32::MAX))
                })?,
                disable_after: or_default(
                    env,
                    "HEALTH_DISABLE_AFTER_DAYS",
                    Duration::from_secs(3 * 86400),
                    |v| {
                        parse_positive(v)
                            .map(|d| Duration::from_secs((d as u64).saturating_mul(86400)))
                    },
                )?,
                request_timeout: or_default(
                    env,
                    "HEALTH_REQUEST_TIMEOUT_SECS",
                    Duration::from_secs(10),
                    parse_positive_secs,
                )?,
                inline_retries: or_default(env, "HEALTH_INLINE_RETRIES", 2, parse_usize)?,
                inline_retry_base: or_default(
                    env,
                    "HEALTH_INLINE_RETRY_MS",
                    Duration::from_millis(500),
                    parse_positive_millis,
                )?,
                max_inline_wait: or_default(
                    env,
                    "HEALTH_MAX_INLINE_WAIT_SECS",
                    Duration::from_secs(5),
                    parse_positive_secs,
                )?,
            },
            outbound_allowed_cidrs: or_default(
                env,
                "OUTBOUND_ALLOWED_CIDRS",
                Vec::new(),
                parse_cidrs,
            )?,
            log: LogConfig { format },
        })
    }
}

impl ApiConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&ProcessEnv)
    }

    pub fn from_source(env: &dyn Source) -> Result<Self, ConfigError> {
        let secret = strong_secret(env, "GITHUB_WEBHOOK_SECRET", 16)?;
        let jwt = strong_secret(env, "JWT_SIGNING_KEY", 32)?;
        if optional(env, "TRUST_PROXY_HEADERS", parse_bool)? == Some(true) {
            return Err(ConfigError::Malformed {
                name: "TRUST_PROXY_HEADERS",
                reason: "was replaced by TRUSTED_PROXY_CIDRS: list your proxies' addresses instead"
                    .into(),
            });
        }
        let auth = AuthConfig {
            jwt_signing_key: SecretString::from(jwt),
            jwt_key_id: env.get("JWT_KEY_ID").unwrap_or_else(|| "k1".to_owned()),
            access_token_ttl: or_default(
                env,
                "ACCESS_TOKEN_TTL_SECS",
                Duration::from_secs(900),
                parse_positive_secs,
            )?,
            refresh_token_ttl: or_default(
                env,
                "REFRESH_TOKEN_TTL_DAYS",
                Duration::from_secs(30 * 86400),
                |v| parse_positive(v).map(|d| Duration::from_secs(d as u64 * 86400)),
            )?,
            rate_limit_per_minute: or_default(env, "AUTH_RATE_LIMIT_PER_MINUTE", 30, |v| {
                parse_positive(v).map(|n| u32::try_from(n).unwrap_or(u32::MAX))
            })?,
            password_hash_concurrency: or_default(
                env,
                "PASSWORD_HASH_CONCURRENCY",
                std::thread::available_parallelism().map_or(2, usize::from),
                parse_positive,
            )?,
            password_hash_max_wait: or_default(
                env,
                "PASSWORD_HASH_MAX_WAIT_MS",
                Duration::from_secs(2),
                parse_positive_millis,
            )?,
            lockout_threshold: or_default(env, "LOGIN_LOCKOUT_THRESHOLD", 5, |v| {
                parse_positive(v).map(|n| u32::try_from(n).unwrap_or(u32::MAX))
            })?,
            lockout_base: or_default(
                env,
                "LOGIN_LOCKOUT_BASE_SECS",
                Duration::from_secs(30),
                parse_positive_secs,
            )?,
            lockout_max: or_default(
                env,
                "LOGIN_LOCKOUT_MAX_SECS",
                Duration::from_secs(900),
                parse_positive_secs,
            )?,
            github_login_scopes: env
                .get("GITHUB_LOGIN_SCOPES")
                .unwrap_or_else(|| "read:user user:email".to_owned())
                .split([' ', ','])
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        };
        Ok(Self {
            auth,
            port: or_default(env, "PORT", 8080, parse_u16)?,
            request_timeout: or_default(
                env,
                "REQUEST_TIMEOUT_SECS",
                Duration::from_secs(30),
                parse_positive_secs,
            )?,
            body_limit_bytes: or_default(env, "BODY_LIMIT_BYTES", 1024 * 1024, parse_usize)?,
            github_webhook_secret: SecretString::from(secret),
            trusted_proxies: optional(env, "TRUSTED_PROXY_CIDRS", parse_cidrs)?.unwrap_or_default(),
            cors_allowed_origins: optional(env, "CORS_ALLOWED_ORIGINS", parse_origins)?
                .unwrap_or_default(),
            metrics_token: match env.get("METRICS_TOKEN") {
                Some(_) => Some(SecretString::from(
                    strong_secret(env, "METRICS_TOKEN", 16)?.trim().to_owned(),
                )),
                None => None,
            },
            metrics_addr: optional(env, "METRICS_ADDR", |v| {
                v.parse()
                    .map_err(|_| format!("`{v}` is not an address and port, e.g. 127.0.0.1:9100"))
            })?,
            webhook_max_inflight_bytes: or_default(
                env,
                "WEBHOOK_MAX_INFLIGHT_BYTES",
                64 * 1024 * 1024,
                |v| match parse_positive(v)? {
                    n if n <= u32::MAX as usize => Ok(n),
                    _ => Err(format!("`{v}` is more than 4294967295")),
                },
            )?,
        })
    }
}

impl WorkerConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&ProcessEnv)
    }

    pub fn from_source(env: &dyn Source) -> Result<Self, ConfigError> {
        let mut queue_overrides = HashMap::new();
        for queue in crate::jobs::ALL_QUEUES.iter().map(|q| q.name) {
            let o = QueueOverride {
                timeout: optional(
                    env,
                    queue_var("JOB_TIMEOUT_SECS", queue),
                    parse_positive_secs,
                )?,
                batch_size: optional(env, queue_var("JOB_BATCH_SIZE", queue), parse_positive)?,
                concurrency: optional(env, queue_var("JOB_CONCURRENCY", queue), parse_positive)?,
            };
            queue_overrides.insert(queue.to_owned(), o);
        }
        let concurrency = or_default(env, "WORKER_CONCURRENCY", 8, parse_usize)?;
        if concurrency == 0 {
            return Err(ConfigError::Malformed {
                name: "WORKER_CONCURRENCY",
                reason: "must be at least 1".into(),
            });
        }
        Self {
            concurrency,
            heartbeat: or_default(
                env,
                "WORKER_HEARTBEAT_SECS",
                Duration::from_secs(5),
                parse_positive_secs,
            )?,
            missed_heartbeats: or_default(env, "WORKER_MISSED_HEARTBEATS", 6, parse_positive)?,
            poll_interval: or_default(
                env,
                "WORKER_POLL_INTERVAL_MS",
                Duration::from_millis(500),
                parse_positive_millis,
            )?,
            retry_base: or_default(
                env,
                "JOB_RETRY_BASE_MS",
                Duration::from_secs(2),
                parse_positive_millis,
            )?,
            retry_max: or_default(
                env,
                "JOB_RETRY_MAX_SECS",
                Duration::from_secs(600),
                parse_positive_secs,
            )?,
            shutdown_timeout: or_default(
                env,
                "WORKER_SHUTDOWN_TIMEOUT_SECS",
                Duration::from_secs(20),
                parse_secs,
            )?,
            scheduler_tick: or_default(
                env,
                "SCHEDULER_TICK_SECS",
                Duration::from_secs(60),
                parse_positive_secs,
            )?,
            job_retention: or_default(
                env,
                "JOB_RETENTION_HOURS",
                Duration::from_secs(7 * 24 * 3600),
                parse_hours,
            )?,
            queue_overrides,
        }
        .validated()
    }

    /// Cross-field rules: a draining worker sends no heartbeats, so the shutdown timeout must end
    /// before other workers would consider it dead and start its jobs a second time.
    fn validated(self) -> Result<Self, ConfigError> {
        if self.shutdown_timeout + self.heartbeat > self.orphan_after() {
            return Err(ConfigError::Malformed {
                name: "WORKER_SHUTDOWN_TIMEOUT_SECS",
                reason: format!(
                    "must be at most WORKER_HEARTBEAT_SECS x (WORKER_MISSED_HEARTBEATS - 1) = {}s",
                    (self.orphan_after() - self.heartbeat).as_secs()
                ),
            });
        }
        Ok(self)
    }

    /// The limits one queue runs with: the operator's overrides over the queue's built-in values.
    pub fn effective(&self, queue: crate::jobs::Queue) -> crate::jobs::Queue {
        let o = self
            .queue_overrides
            .get(queue.name)
            .cloned()
            .unwrap_or_default();
        crate::jobs::Queue {
            timeout: o.timeout.unwrap_or(queue.timeout),
            batch_size: o.batch_size.unwrap_or(queue.batch_size),
            concurrency: Some(
                o.concurrency
                    .or(queue.concurrency)
                    .unwrap_or(self.concurrency),
            ),
            ..queue
        }
    }

    /// How long a worker may be silent before its jobs are handed to another worker.
    pub fn orphan_after(&self) -> Duration {
        self.heartbeat * u32::try_from(self.missed_heartbeats).unwrap_or(u32::MAX)
    }
}

/// The variable overriding one setting of one queue, e.g. `JOB_TIMEOUT_SECS_PROBE`.
fn queue_var(prefix: &str, queue: &str) -> &'static str {
    // Queue names are a fixed, small set and this runs once at boot; leaking the names is fine.
    Box::leak(format!("{prefix}_{}", queue.to_ascii_uppercase()).into_boxed_str())
}

fn database_url(env: &dyn Source) -> Result<String, ConfigError> {
    let url = required(env, "DATABASE_URL")?;
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(ConfigError::Malformed {
            name: "DATABASE_URL",
            reason: "expected a postgres:// or postgresql:// URL".into(),
        });
    }
    Ok(url)
}

/// A required secret of at least `min_len` characters that is neither a placeholder nor guessable.
fn strong_secret(
    env: &dyn Source,
    name: &'static str,
    min_len: usize,
) -> Result<String, ConfigError> {
    let value = required(env, name)?;
    if value.chars().count() < min_len {
        return Err(ConfigError::Malformed {
            name,
            reason: format!("must be at least {min_len} characters"),
        });
    }
    if let Some(reason) = crate::crypto::strength::weakness(&value) {
        return Err(ConfigError::Malformed { name, reason });
    }
    Ok(value)
}

fn required(env: &dyn Source, name: &'static str) -> Result<String, ConfigError> {
    env.get(name).ok_or(ConfigError::Missing(name))
}

fn optional<T>(
    env: &dyn Source,
    name: &'static str,
    parse: fn(&str) -> Result<T, String>,
) -> Result<Option<T>, ConfigError> {
    env.get(name)
        .map(|v| parse(v.trim()).map_err(|reason| ConfigError::Malformed { name, reason }))
        .transpose()
}

fn or_default<T>(
    env: &dyn Source,
    name: &'static str,
    default: T,
    parse: fn(&str) -> Result<T, String>,
) -> Result<T, ConfigError> {
    Ok(optional(env, name, parse)?.unwrap_or(default))
}

fn default_url(url: &str) -> Url {
    Url::parse(url).unwrap_or_else(|_| unreachable!("built-in URL {url} is valid"))
}

fn parse_url(v: &str) -> Result<Url, String> {
    let url = Url::parse(v).map_err(|e| format!("not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("expected an http:// or https:// URL".into());
    }
    Ok(url)
}

fn parse_u16(v: &str) -> Result<u16, String> {
    v.parse()
        .map_err(|_| format!("`{v}` is not a number between 0 and 65535"))
}

fn parse_u32(v: &str) -> Result<u32, String> {
    v.parse()
        .map_err(|_| format!("`{v}` is not a positive whole number"))
}

fn parse_u64(v: &str) -> Result<u64, String> {
    v.parse()
        .map_err(|_| format!("`{v}` is not a positive whole number"))
}

/// At most a year, so `now() - window` is always a valid timestamp.
fn parse_notify_window(v: &str) -> Result<u64, String> {
    match parse_u64(v)? {
        secs if secs <= 31_536_000 => Ok(secs),
        _ => Err(format!("`{v}` is more than a year (31536000 seconds)")),
    }
}

fn parse_usize(v: &str) -> Result<usize, String> {
    v.parse()
        .map_err(|_| format!("`{v}` is not a positive whole number"))
}

fn parse_bool(v: &str) -> Result<bool, String> {
    match v {
        "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" => Ok(false),
        _ => Err(format!("`{v}` is not true or false")),
    }
}

/// Comma-separated CIDRs (`10.0.0.0/8, 2001:db8::/32`); a bare address means just that address.
fn parse_cidrs(v: &str) -> Result<Vec<ipnet::IpNet>, String> {
    v.split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| {
            c.parse::<ipnet::IpNet>()
                .or_else(|_| c.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map(|n| n.trunc())
                .map_err(|_| format!("`{c}` is not a CIDR such as 10.0.0.0/8"))
        })
        .collect()
}

/// Comma-separated browser origins (`https://app.example.com`): scheme, host and optional port,
/// nothing else; `*` is refused (CORS stays an allow-list).
fn parse_origins(v: &str) -> Result<Vec<String>, String> {
    v.split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|o| {
            let url = parse_url(o).map_err(|e| format!("`{o}`: {e}"))?;
            let bare = url.path() == "/"
                && url.query().is_none()
                && url.fragment().is_none()
                && url.username().is_empty()
                && url.password().is_none()
                && !o.contains('*');
            if url.host().is_none() || !bare {
                return Err(format!(
                    "`{o}` is not an origin (scheme://host[:port], no path, no wildcard)"
                ));
            }
            Ok(url.origin().ascii_serialization())
        })
        .collect()
}

fn parse_positive(v: &str) -> Result<usize, String> {
    match v.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("`{v}` is not a whole number of at least 1")),
    }
}

fn parse_secs(v: &str) -> Result<Duration, String> {
    parse_u64(v).map(Duration::from_secs)
}

fn parse_hours(v: &str) -> Result<Duration, String> {
    parse_positive(v).map(|h| Duration::from_secs(h as u64 * 3600))
}

fn parse_positive_secs(v: &str) -> Result<Duration, String> {
    parse_positive(v).map(|n| Duration::from_secs(n as u64))
}

fn parse_positive_millis(v: &str) -> Result<Duration, String> {
    parse_positive(v).map(|n| Duration::from_millis(n as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: &str = "k1:3TKzmA4wcXL3tI5Sif0zKxGHR7/nlp1UtrBawwpG7J4=";

    #[test]
    fn the_notify_window_is_at_most_a_year() {
        assert_eq!(parse_notify_window("900"), Ok(900));
        assert!(parse_notify_window("31536001").is_err());
        assert!(parse_notify_window("-1").is_err());
    }

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        let mut map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        map.entry("JWT_SIGNING_KEY".into())
            .or_insert_with(|| "unit-test-jwt-key-5f0e9a1c7b3d8e2f4a6c".into());
        if map.contains_key("DATABASE_URL") {
            map.entry("ENCRYPTION_KEYS".into())
                .or_insert_with(|| KEYS.into());
        }
        map
    }

    #[test]
    fn missing_database_url_is_named() {
        let err = Config::from_source(&env(&[])).unwrap_err();
        assert_eq!(err.to_string(), "DATABASE_URL is required but not set");
    }

    #[test]
    fn malformed_values_are_named() {
        let base = [("DATABASE_URL", "postgres://localhost/x")];
        let mut e = env(&base);
        e.insert("GITHUB_API_URL".into(), "not a url".into());
        assert!(
            Config::from_source(&e)
                .unwrap_err()
                .to_string()
                .starts_with("GITHUB_API_URL is malformed")
        );

        let e = env(&[
            ("GITHUB_WEBHOOK_SECRET", "unit-test-webhook-secret-9d2c71"),
            ("PORT", "eighty"),
        ]);
        assert!(
            ApiConfig::from_source(&e)
                .unwrap_err()
                .to_string()
                .starts_with("PORT is malformed")
        );

        let e = env(&[("WORKER_CONCURRENCY", "0")]);
        assert!(
            WorkerConfig::from_source(&e)
                .unwrap_err()
                .to_string()
                .starts_with("WORKER_CONCURRENCY")
        );

        let e = env(&[("WORKER_HEARTBEAT_SECS", "0")]);
        assert!(
            WorkerConfig::from_source(&e)
                .unwrap_err()
                .to_string()
                .starts_with("WORKER_HEARTBEAT_SECS")
        );

        let e = env(&[("WORKER_SHUTDOWN_TIMEOUT_SECS", "30")]);
        let err = WorkerConfig::from_source(&e).unwrap_err().to_string();
        assert!(
            err.starts_with("WORKER_SHUTDOWN_TIMEOUT_SECS is malformed"),
            "{err}"
        );

        let e = env(&[("JOB_TIMEOUT_SECS_PROBE", "soon")]);
        assert!(
            WorkerConfig::from_source(&e)
                .unwrap_err()
                .to_string()
                .starts_with("JOB_TIMEOUT_SECS_PROBE")
        );
    }

    #[test]
    fn outbound_cidrs_parse_or_fail_by_name() {
        let base = [("DATABASE_URL", "postgres://localhost/x")];
        let c = Config::from_source(&env(&base)).expect("config");
        assert!(c.outbound_allowed_cidrs.is_empty());
        let mut e = env(&base);
        e.insert(
            "OUTBOUND_ALLOWED_CIDRS".into(),
            " 10.0.0.0/8, 127.0.0.1 ,fd00::/8".into(),
        );
        let c = Config::from_source(&e).expect("config");
        let listed: Vec<String> = c
            .outbound_allowed_cidrs
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(listed, ["10.0.0.0/8", "127.0.0.1/32", "fd00::/8"]);
        e.insert(
            "OUTBOUND_ALLOWED_CIDRS".into(),
            "10.0.0.0/8,intranet".into(),
        );
        let err = Config::from_source(&e).expect_err("malformed").to_string();
        assert!(
            err.starts_with("OUTBOUND_ALLOWED_CIDRS is malformed"),
            "{err}"
        );
        e.insert("OUTBOUND_ALLOWED_CIDRS".into(), "10.0.0.0/33".into());
        assert!(Config::from_source(&e).is_err());
    }

    #[test]
    fn http_hardening_settings_are_parsed_or_named() {
        let base = [("GITHUB_WEBHOOK_SECRET", "unit-test-webhook-secret-9d2c71")];
        let with = |k: &str, v: &str| {
            let mut e = env(&base);
            e.insert(k.into(), v.into());
            ApiConfig::from_source(&e)
        };
        for (name, bad) in [
            ("TRUSTED_PROXY_CIDRS", "10.0.0.0/8, not-a-cidr"),
            ("CORS_ALLOWED_ORIGINS", "https://app.example/path"),
            ("CORS_ALLOWED_ORIGINS", "*"),
            ("METRICS_TOKEN", "short"),
            ("METRICS_ADDR", "localhost"),
            ("WEBHOOK_MAX_INFLIGHT_BYTES", "0"),
            ("PASSWORD_HASH_CONCURRENCY", "0"),
            ("TRUST_PROXY_HEADERS", "true"),
        ] {
            let err = with(name, bad).unwrap_err().to_string();
            assert!(err.starts_with(&format!("{name} is malformed")), "{err}");
        }
        let c = with(
            "TRUSTED_PROXY_CIDRS",
            "10.0.0.0/8, 2001:db8::/32, 192.0.2.1",
        )
        .unwrap();
        assert_eq!(c.trusted_proxies.len(), 3);
        let c = with(
            "CORS_ALLOWED_ORIGINS",
            "https://App.example, http://localhost:3000/",
        )
        .unwrap();
        assert_eq!(
            c.cors_allowed_origins,
            ["https://app.example", "http://localhost:3000"]
        );
        let c = ApiConfig::from_source(&env(&base)).unwrap();
        assert!(c.trusted_proxies.is_empty() && c.cors_allowed_origins.is_empty());
        assert!(c.metrics_token.is_none() && c.metrics_addr.is_none());
        assert_eq!(c.webhook_max_inflight_bytes, 64 * 1024 * 1024);
        assert!(c.auth.password_hash_concurrency >= 1);
        assert!(with("TRUST_PROXY_HEADERS", "false").is_ok());
    }

    #[test]
    fn app_credentials_come_in_pairs() {
        let e = env(&[
            ("DATABASE_URL", "postgres://localhost/x"),
            ("GITHUB_APP_ID", "42"),
        ]);
        let err = Config::from_source(&e).unwrap_err().to_string();
        assert!(
            err.starts_with("GITHUB_APP_PRIVATE_KEY is malformed"),
            "{err}"
        );
        let mut e = env(&[("DATABASE_URL", "postgres://localhost/x")]);
        e.remove("ENCRYPTION_KEYS");
        assert_eq!(
            Config::from_source(&e).unwrap_err().to_string(),
            "ENCRYPTION_KEYS is required but not set"
        );
        e.insert("ENCRYPTION_KEYS".into(), "k1:c2hvcnQ=".into());
        assert!(
            Config::from_source(&e)
                .unwrap_err()
                .to_string()
                .starts_with("ENCRYPTION_KEYS is malformed")
        );
        let mut e = env(&[("GITHUB_WEBHOOK_SECRET", "unit-test-webhook-secret-9d2c71")]);
        e.insert("JWT_SIGNING_KEY".into(), "short".into());
        assert!(
            ApiConfig::from_source(&e)
                .unwrap_err()
                .to_string()
                .starts_with("JWT_SIGNING_KEY is malformed")
        );
    }

    #[test]
    fn defaults_apply() {
        let c = Config::from_source(&env(&[("DATABASE_URL", "postgres://localhost/x")])).unwrap();
        assert_eq!(c.github.api_url.as_str(), "https://api.github.com/");
        let w = WorkerConfig::from_source(&env(&[])).unwrap();
        assert_eq!(w.orphan_after(), Duration::from_secs(30));
        assert_eq!(w.concurrency, 8);
        let probe = w.effective(crate::jobs::Queue::PROBE);
        assert_eq!((probe.batch_size, probe.concurrency), (1, Some(8)));
    }

    #[test]
    fn queue_overrides_apply_to_their_queue_only() {
        let w = WorkerConfig::from_source(&env(&[
            ("JOB_BATCH_SIZE_NOOP", "1"),
            ("JOB_TIMEOUT_SECS_PROBE", "2"),
        ]))
        .unwrap();
        assert_eq!(w.effective(crate::jobs::Queue::NOOP).batch_size, 1);
        assert_eq!(
            w.effective(crate::jobs::Queue::PROBE).timeout,
            Duration::from_secs(2)
        );
        assert_eq!(
            w.effective(crate::jobs::Queue::PRUNE_JOBS).timeout,
            Duration::from_secs(300)
        );
        let err = WorkerConfig::from_source(&env(&[("JOB_CONCURRENCY_NOOP", "0")])).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("JOB_CONCURRENCY_NOOP is malformed"),
            "{err}"
        );
    }
}
