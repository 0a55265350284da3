//! Waits and lifetimes sent by remote services (`Retry-After`, `expires_in`), read so that no value, however absurd, can overflow a duration or a timestamp.
//!
//! `Retry-After` is delta-seconds or an HTTP-date; anything else (negative, fractional, garbage)
//! is ignored, a date in the past is no wait, and every wait is clamped by the caller's maximum
//! (health checks use the health interval, `HEALTH_CHECK_INTERVAL_SECS`). Lifetimes are clamped
//! to `MAX_LIFETIME`, and `after` saturates instead of panicking.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;

/// The longest lifetime believed from a remote service (ten years).
pub const MAX_LIFETIME: Duration = Duration::from_secs(10 * 365 * 86_400);

/// A `Retry-After` value as a wait from `now`, at most `max`.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>, max: Duration) -> Option<Duration> {
    let value = value.trim();
    let wait = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // All digits: any length (too long for u64 is simply "very long").
        Duration::from_secs(value.parse::<u64>().unwrap_or(u64::MAX))
    } else {
        let date = DateTime::parse_from_rfc2822(value)
            .ok()?
            .with_timezone(&Utc);
        (date - now).to_std().unwrap_or_default()
    };
    Some(wait.min(max))
}

/// The `Retry-After` of a response, at most `max`.
pub fn retry_after(headers: &HeaderMap, max: Duration) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, Utc::now(), max))
}

/// `at + d`, or the latest representable time when that overflows.
pub fn after(at: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(d)
        .ok()
        .and_then(|d| at.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// An expiry `secs` seconds from `now` (a remote `expires_in`), clamped to `0..=MAX_LIFETIME`.
pub fn expires_at(now: DateTime<Utc>, secs: i64) -> DateTime<Utc> {
    let secs = u64::try_from(secs).unwrap_or(0);
    after(now, Duration::from_secs(secs).min(MAX_LIFETIME))
}

/// An expiry `d` from `now` (a remote lifetime already read as a `Duration`), clamped likewise.
pub fn expires_after(now: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    after(now, d.min(MAX_LIFETIME))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn absurd_retry_afters_are_clamped_or_ignored() {
        let now = Utc::now();
        let p = |v| parse_retry_after(v, now, HOUR);
        assert_eq!(p("120"), Some(Duration::from_secs(120)));
        assert_eq!(p("99999999999999"), Some(HOUR));
        assert_eq!(p("999999999999999999999999999999"), Some(HOUR));
        assert_eq!(p("-5"), None);
        assert_eq!(p("1.5"), None);
        assert_eq!(p("soon"), None);
        assert_eq!(p(""), None);
        assert_eq!(p("Fri, 31 Dec 9999 23:59:59 GMT"), Some(HOUR));
        assert_eq!(p("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
        let soon = (now + chrono::Duration::seconds(90)).to_rfc2822();
        let got = p(&soon).expect("a wait");
        assert!(
            got <= Duration::from_secs(90) && got >= Duration::from_secs(88),
            "{got:?}"
        );
    }

    #[test]
    fn times_saturate() {
        let now = Utc::now();
        assert_eq!(
            after(now, Duration::from_secs(u64::MAX)),
            DateTime::<Utc>::MAX_UTC
        );
        assert_eq!(
            after(now, Duration::from_secs(99_999_999_999_999)),
            DateTime::<Utc>::MAX_UTC
        );
        assert_eq!(expires_at(now, i64::MAX), after(now, MAX_LIFETIME));
        assert_eq!(expires_at(now, -10), now);
        assert_eq!(expires_after(now, Duration::MAX), after(now, MAX_LIFETIME));
    }
}
