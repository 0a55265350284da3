//! Scripted faults shared by the fakes (`fake_slack`, `fake_github`, `fake_argocd`): a test
//! queues one-shot faults or sets a persistent one, and each faulted route answers with the
//! error its real service would send, or answers late.
//!
//! Handlers take the fault out of their state under the lock, drop the guard, then call
//! [`apply`], so a `Slow` fault never holds a `std::sync::Mutex` across an `await`.

use std::{collections::VecDeque, time::Duration};

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::json;

/// One way a faulted request goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 500.
    ServerError,
    /// HTTP 503.
    Unavailable,
    /// HTTP 429 with `Retry-After: secs`.
    RateLimited(u64),
    /// HTTP 429 with this exact `Retry-After` text (an HTTP-date, a negative or huge number…).
    RateLimitedRaw(&'static str),
    /// Sleep this many milliseconds, then answer normally.
    Slow(u64),
    /// HTTP 401.
    Unauthorized,
}

/// The faults scripted for one fake: queued one-shot faults are used first, oldest first; once
/// the queue is empty every request gets the persistent fault, if any.
#[derive(Debug, Default)]
pub struct Faults {
    queue: VecDeque<Fault>,
    persistent: Option<Fault>,
}

impl Faults {
    /// Queues one-shot faults for the next requests, in order.
    pub fn push(&mut self, faults: &[Fault]) {
        self.queue.extend(faults.iter().copied());
    }

    /// Sets (or with `None` clears) the fault every request gets once the queue is empty.
    pub fn set_persistent(&mut self, fault: Option<Fault>) {
        self.persistent = fault;
    }

    /// The fault for the next request: a queued one first, else the persistent one.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<Fault> {
        self.queue.pop_front().or(self.persistent)
    }

    /// Drops the queue and the persistent fault.
    pub fn clear(&mut self) {
        self.queue.clear();
        self.persistent = None;
    }

    /// How many one-shot faults are still queued.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }
}

/// Whose error bodies a fault answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// `{"message": "..."}` as the GitHub REST API does.
    Github,
    /// Slack's Web API: 429 with `Retry-After`, bare 5xx, `{"ok": false, "error": ...}` bodies.
    Slack,
    /// ArgoCD's grpc-gateway errors: `{"error": ..., "code": <grpc code>, "message": ...}`.
    ArgoCd,
}

/// The error response for `fault`; `None` for [`Fault::Slow`], which answers normally (late).
pub fn error_response(fault: Fault, flavor: Flavor) -> Option<Response> {
    let response = match (fault, flavor) {
        (Fault::Slow(_), _) => return None,
        (Fault::RateLimitedRaw(raw), _) => {
            let mut response = error_response(Fault::RateLimited(0), flavor)?;
            response.headers_mut().insert(
                "retry-after",
                axum::http::HeaderValue::from_static(raw),
            );
            response
        }
        (Fault::ServerError, Flavor::Github) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"message": "Server Error"})),
        )
            .into_response(),
        (Fault::Unavailable, Flavor::Github) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"message": "Service Unavailable"})),
        )
            .into_response(),
        (Fault::RateLimited(secs), Flavor::Github) => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", secs.to_string())],
            Json(json!({
                "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
            })),
        )
            .into_response(),
        (Fault::Unauthorized, Flavor::Github) => (
            StatusCode::UNAUTHORIZED,
            Json(json!({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})),
        )
            .into_response(),
        (Fault::ServerError, Flavor::Slack) => {
            (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
        }
        (Fault::Unavailable, Flavor::Slack) => {
            (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response()
        }
        (Fault::RateLimited(secs), Flavor::Slack) => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", secs.to_string())],
            Json(json!({"ok": false, "error": "ratelimited"})),
        )
            .into_response(),
        (Fault::Unauthorized, Flavor::Slack) => (
            StatusCode::UNAUTHORIZED,
            Json(json!({"ok": false, "error": "invalid_auth"})),
        )
            .into_response(),
        (Fault::ServerError, Flavor::ArgoCd) => argo_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            13,
            "internal error",
            Vec::new(),
        ),
        (Fault::Unavailable, Flavor::ArgoCd) => argo_error(
            StatusCode::SERVICE_UNAVAILABLE,
            14,
            "service unavailable",
            Vec::new(),
        ),
        (Fault::RateLimited(secs), Flavor::ArgoCd) => argo_error(
            StatusCode::TOO_MANY_REQUESTS,
            8,
            "too many requests",
            vec![("retry-after", secs.to_string())],
        ),
        (Fault::Unauthorized, Flavor::ArgoCd) => argo_error(
            StatusCode::UNAUTHORIZED,
            16,
            "invalid session: token signature is invalid",
            Vec::new(),
        ),
    };
    Some(response)
}

fn argo_error(
    status: StatusCode,
    code: u32,
    message: &str,
    headers: Vec<(&'static str, String)>,
) -> Response {
    let mut response = (
        status,
        Json(json!({"error": message, "code": code, "message": message})),
    )
        .into_response();
    for (name, value) in headers {
        response
            .headers_mut()
            .insert(name, value.parse().expect("header value"));
    }
    response
}

/// Carries out a fault taken from the state (with the lock already released): sleeps for
/// [`Fault::Slow`] and returns `None` so the handler answers normally, returns the error
/// response for any other fault, and `None` when there is no fault.
pub async fn apply(fault: Option<Fault>, flavor: Flavor) -> Option<Response> {
    match fault? {
        Fault::Slow(ms) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            None
        }
        other => error_response(other, flavor),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queued_faults_come_first_then_the_persistent_one() {
        let mut faults = Faults::default();
        assert_eq!(faults.next(), None);
        faults.set_persistent(Some(Fault::Unavailable));
        faults.push(&[Fault::ServerError, Fault::RateLimited(3)]);
        assert_eq!(faults.queued(), 2);
        assert_eq!(faults.next(), Some(Fault::ServerError));
        assert_eq!(faults.next(), Some(Fault::RateLimited(3)));
        assert_eq!(faults.next(), Some(Fault::Unavailable));
        assert_eq!(faults.next(), Some(Fault::Unavailable));
        faults.set_persistent(None);
        assert_eq!(faults.next(), None);
    }

    #[test]
    fn statuses_and_retry_after() {
        for flavor in [Flavor::Github, Flavor::Slack, Flavor::ArgoCd] {
            let status = |f| error_response(f, flavor).expect("response").status();
            assert_eq!(
                status(Fault::ServerError),
                StatusCode::INTERNAL_SERVER_ERROR
            );
            assert_eq!(status(Fault::Unavailable), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(status(Fault::Unauthorized), StatusCode::UNAUTHORIZED);
            let limited = error_response(Fault::RateLimited(7), flavor).expect("response");
            assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
            assert_eq!(limited.headers()["retry-after"], "7");
            assert!(error_response(Fault::Slow(5), flavor).is_none());
        }
    }

    #[tokio::test]
    async fn slow_sleeps_then_lets_the_handler_answer() {
        let started = std::time::Instant::now();
        assert!(apply(Some(Fault::Slow(30)), Flavor::Slack).await.is_none());
        assert!(started.elapsed() >= Duration::from_millis(30));
        assert!(apply(None, Flavor::Slack).await.is_none());
        assert!(
            apply(Some(Fault::ServerError), Flavor::Slack)
                .await
                .is_some()
        );
    }
}
