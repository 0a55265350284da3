//! How integrations are health-checked.

use std::time::Duration;

use super::{ConfigError, Source, parse::*};

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

pub(super) fn read(env: &dyn Source) -> Result<HealthConfig, ConfigError> {
    Ok(HealthConfig {
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
            |v| parse_positive(v).map(|d| Duration::from_secs((d as u64).saturating_mul(86400))),
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
    })
}
