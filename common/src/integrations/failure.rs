//! Why a connection test failed, and the common reading of an HTTP answer or a missing one as a
//! failure (transient, definite, refused credentials, expired token).

use std::time::Duration;

use reqwest::{StatusCode, header::HeaderMap};

use crate::net::OutboundError;

/// Why one attempt failed.
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

/// The common reading of an HTTP status: `None` when it is a success. A `Retry-After` is believed
/// up to `max_wait`.
pub(super) fn status_failure(
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
pub(super) fn network(provider: &str, e: reqwest::Error) -> Failure {
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
pub(super) fn outbound_failure(provider: &str, e: OutboundError) -> Failure {
    match e {
        OutboundError::NotAllowed(m)
        | OutboundError::InvalidUrl(m)
        | OutboundError::InvalidCa(m) => Failure::Failed(format!("{provider}: {m}")),
        OutboundError::TooManyRedirects => Failure::Failed(format!("{provider}: {e}")),
        OutboundError::Resolve(m) | OutboundError::Network(m) => Failure::Transient {
            message: format!("{provider} {m}"),
            retry_after: None,
        },
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
        limited.insert("retry-after", "120".parse().expect("header value"));
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
