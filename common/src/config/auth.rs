//! Sessions, tokens and brute-force protection (part of `ApiConfig`).

use std::time::Duration;

use secrecy::SecretString;

use super::{ConfigError, Source, parse::*};

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

/// The settings, given the already checked JWT signing key.
pub(super) fn read(env: &dyn Source, jwt: String) -> Result<AuthConfig, ConfigError> {
    Ok(AuthConfig {
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
    })
}
