//! Settings only the API process needs.

use std::time::Duration;

use secrecy::SecretString;

use super::{AuthConfig, ProcessEnv, auth};
use super::{ConfigError, Source, parse::*};

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
    /// How long a request waits for a database connection before it is answered 503
    /// `database_unavailable` (`API_DB_ACQUIRE_TIMEOUT_MS`).
    pub db_acquire_timeout: Duration,
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
        let auth = auth::read(env, jwt)?;
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
            db_acquire_timeout: or_default(
                env,
                "API_DB_ACQUIRE_TIMEOUT_MS",
                Duration::from_millis(1000),
                parse_positive_millis,
            )?,
        })
    }
}
