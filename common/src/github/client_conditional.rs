//! The GitHub client's conditional GETs (`If-None-Match`, a 304 costs no rate limit) and capped
//! downloads (job logs).

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use reqwest::StatusCode;
use secrecy::ExposeSecret;

use super::client::{Auth, GithubClient, GithubError, rate_limit_wait};

/// The answer to a conditional GET.
#[derive(Debug)]
pub enum Conditional {
    /// 304: the cached copy with this ETag is current (costs no rate limit).
    NotModified,
    /// 200 with the body and its ETag, if GitHub sent one.
    Fresh { etag: Option<String>, body: Vec<u8> },
}

impl GithubClient {
    /// `GET` with `If-None-Match` when an ETag is known; a body over `max_bytes` is refused.
    /// Rate limits are reported (never waited for here), 5xx and network errors retried.
    pub async fn get_conditional(
        &self,
        path: &str,
        auth: &Auth<'_>,
        etag: Option<&str>,
        max_bytes: usize,
    ) -> Result<Conditional, GithubError> {
        let url = self.url(path);
        let attempt = || async {
            let mut req = self
                .http
                .get(&url)
                .header("Accept", "application/vnd.github+json")
                .header("X-GitHub-Api-Version", "2022-11-28");
            if let Auth::Bearer(token) = auth {
                req = req.bearer_auth(token.expose_secret());
            }
            if let Some(tag) = etag {
                req = req.header("If-None-Match", tag);
            }
            let mut res = req
                .send()
                .await
                .map_err(|e| GithubError::Network(e.without_url().to_string()))?;
            let status = res.status();
            if status == StatusCode::NOT_MODIFIED {
                return Ok(Conditional::NotModified);
            }
            if let Some(wait) =
                rate_limit_wait(status, res.headers()).filter(|_| !status.is_success())
            {
                return Err(GithubError::RateLimited(wait));
            }
            if !status.is_success() {
                return Err(match status {
                    StatusCode::UNAUTHORIZED => GithubError::Unauthorized,
                    StatusCode::FORBIDDEN => GithubError::Forbidden("forbidden".into()),
                    StatusCode::NOT_FOUND => GithubError::NotFound,
                    s => GithubError::Status {
                        status: s.as_u16(),
                        message: "request failed".into(),
                    },
                });
            }
            let etag = res
                .headers()
                .get("etag")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let mut body = Vec::new();
            while let Some(chunk) = res
                .chunk()
                .await
                .map_err(|e| GithubError::Network(e.without_url().to_string()))?
            {
                if body.len() + chunk.len() > max_bytes {
                    return Err(GithubError::TooLarge(max_bytes));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Conditional::Fresh { etag, body })
        };
        attempt
            .retry(
                ExponentialBuilder::default()
                    .with_min_delay(Duration::from_millis(200))
                    .with_max_times(2)
                    .with_jitter(),
            )
            .when(|e: &GithubError| {
                matches!(
                    e,
                    GithubError::Network(_)
                        | GithubError::Status {
                            status: 500..=599,
                            ..
                        }
                )
            })
            .await
    }

    /// A plain-text download (a job's log): GitHub's redirect to another host is followed
    /// WITHOUT the token; the response is handed back for streaming.
    pub async fn get_download(
        &self,
        path: &str,
        auth: &Auth<'_>,
    ) -> Result<reqwest::Response, GithubError> {
        let mut req = self
            .http
            .get(self.url(path))
            .header("X-GitHub-Api-Version", "2022-11-28");
        if let Auth::Bearer(token) = auth {
            req = req.bearer_auth(token.expose_secret());
        }
        let res = req
            .send()
            .await
            .map_err(|e| GithubError::Network(e.without_url().to_string()))?;
        let status = res.status();
        if let Some(wait) = rate_limit_wait(status, res.headers()).filter(|_| !status.is_success())
        {
            return Err(GithubError::RateLimited(wait));
        }
        match status {
            s if s.is_success() => Ok(res),
            StatusCode::UNAUTHORIZED => Err(GithubError::Unauthorized),
            StatusCode::NOT_FOUND | StatusCode::GONE => Err(GithubError::NotFound),
            s => Err(GithubError::Status {
                status: s.as_u16(),
                message: "log download failed".into(),
            }),
        }
    }
}
