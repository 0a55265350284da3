//! A small GitHub REST client: JSON over reqwest against the configurable `GITHUB_API_URL`,
//! `Link: rel="next"` pagination, and rate limits honoured: `Retry-After` and `X-RateLimit-Reset`
//! (primary and secondary limits) wait and retry when the wait is short, 5xx and network errors
//! retry with exponential backoff (backon), anything longer is reported so the job can back off.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use reqwest::{Method, StatusCode, header::HeaderMap};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;

/// How GitHub refused or failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GithubError {
    #[error("GitHub refused the credentials (401)")]
    Unauthorized,
    #[error("GitHub says forbidden (403): {0}")]
    Forbidden(String),
    #[error("not found on GitHub (404)")]
    NotFound,
    #[error("GitHub rate limit: retry in {0:?}")]
    RateLimited(Duration),
    #[error("GitHub answered {status}: {message}")]
    Status { status: u16, message: String },
    #[error("GitHub unreachable: {0}")]
    Network(String),
    #[error("GitHub answered an unexpected body: {0}")]
    Decode(String),
    #[error("GitHub's answer is larger than {0} bytes")]
    TooLarge(usize),
}

impl GithubError {
    pub(super) fn transient(&self) -> bool {
        matches!(
            self,
            Self::Network(_)
                | Self::Status {
                    status: 500..=599,
                    ..
                }
        ) || matches!(self, Self::RateLimited(d) if *d <= MAX_INLINE_WAIT)
    }
}

/// Waits up to this long inside a request for a rate limit to lift; longer waits are reported.
const MAX_INLINE_WAIT: Duration = Duration::from_secs(10);
/// The longest wait GitHub's headers are believed for (its primary limit resets hourly).
const MAX_REPORTED_WAIT: Duration = Duration::from_secs(3600);

/// One page of a list and the URL of the next one.
#[derive(Debug)]
pub struct Page<T> {
    pub items: T,
    pub next: Option<String>,
}

#[derive(Clone)]
pub struct GithubClient {
    pub(super) http: reqwest::Client,
    pub(super) api_url: String,
}

pub(super) fn rate_limit_wait(status: StatusCode, headers: &HeaderMap) -> Option<Duration> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    if let Some(wait) = crate::remote_time::retry_after(headers, MAX_REPORTED_WAIT) {
        return Some(wait);
    }
    let exhausted = header("x-ratelimit-remaining") == Some(0);
    if (status == StatusCode::FORBIDDEN || status == StatusCode::TOO_MANY_REQUESTS) && exhausted {
        let reset = header("x-ratelimit-reset")?;
        let now = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0);
        return Some(Duration::from_secs(reset.saturating_sub(now).max(1)).min(MAX_REPORTED_WAIT));
    }
    (status == StatusCode::TOO_MANY_REQUESTS).then_some(Duration::from_secs(60))
}

fn next_link(headers: &HeaderMap) -> Option<String> {
    let link = headers.get("link")?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (url, rel) = part.split_once(';')?;
        rel.contains("rel=\"next\"").then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned()
        })
    })
}

impl GithubClient {
    pub fn new(api_url: &url::Url) -> Result<Self, crate::Error> {
        let http = crate::services::http_client(
            reqwest::Client::builder()
                .user_agent("RepoPal")
                .timeout(Duration::from_secs(30))
                .redirect(reqwest::redirect::Policy::limited(3)),
            "the GitHub HTTP client",
        )?;
        Ok(Self {
            http,
            api_url: api_url.as_str().trim_end_matches('/').to_owned(),
        })
    }

    /// An absolute URL for an API path (`/installation/repositories`), or the URL itself.
    pub fn url(&self, path_or_url: &str) -> String {
        if path_or_url.starts_with("http://") || path_or_url.starts_with("https://") {
            path_or_url.to_owned()
        } else {
            format!("{}/{}", self.api_url, path_or_url.trim_start_matches('/'))
        }
    }

    /// Sends one request, with inline retries for transient failures and short rate limits.
    pub async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path_or_url: &str,
        auth: &Auth<'_>,
        body: Option<&serde_json::Value>,
    ) -> Result<Page<T>, GithubError> {
        let url = self.url(path_or_url);
        let attempt = || async {
            let mut req = self
                .http
                .request(method.clone(), &url)
                .header("Accept", "application/vnd.github+json")
                .header("X-GitHub-Api-Version", "2022-11-28");
            req = match auth {
                Auth::Bearer(token) => req.bearer_auth(token.expose_secret()),
                Auth::None => req,
            };
            if let Some(b) = body {
                req = req.json(b);
            }
            let res = req
                .send()
                .await
                .map_err(|e| GithubError::Network(e.without_url().to_string()))?;
            let status = res.status();
            let headers = res.headers().clone();
            if let Some(wait) = rate_limit_wait(status, &headers).filter(|_| !status.is_success()) {
                return Err(GithubError::RateLimited(wait));
            }
            if status.is_success() {
                let next = next_link(&headers);
                let bytes = res
                    .bytes()
                    .await
                    .map_err(|e| GithubError::Network(e.without_url().to_string()))?;
                // 204, and 201/202 answers with no body (re-run requests), decode as null.
                let items = if bytes.is_empty() {
                    serde_json::from_value(serde_json::Value::Null)
                } else {
                    serde_json::from_slice::<T>(&bytes)
                }
                .map_err(|e| GithubError::Decode(e.to_string()))?;
                return Ok(Page { items, next });
            }
            let message = res
                .text()
                .await
                .unwrap_or_default()
                .chars()
                .take(300)
                .collect::<String>();
            Err(match status {
                StatusCode::UNAUTHORIZED => GithubError::Unauthorized,
                StatusCode::FORBIDDEN => GithubError::Forbidden(message),
                StatusCode::NOT_FOUND => GithubError::NotFound,
                s => GithubError::Status {
                    status: s.as_u16(),
                    message,
                },
            })
        };
        attempt
            .retry(ExponentialBuilder::default().with_min_delay(Duration::from_millis(200)).with_max_times(4).with_jitter())
            .when(GithubError::transient)
            .adjust(|e, dur| match e {
                GithubError::RateLimited(wait) => Some(*wait),
                _ => dur,
            })
            .notify(|e, dur| tracing::warn!(error = %e, retry_in_ms = dur.as_millis(), "GitHub request failed; retrying"))
            .await
    }

    /// A plain-text document (job logs), through [`Self::get_download`]: at most `max_bytes` are
    /// kept, from the end.
    pub async fn get_text_tail(
        &self,
        path: &str,
        auth: &Auth<'_>,
        max_bytes: usize,
    ) -> Result<String, GithubError> {
        // Streamed: only the last `max_bytes` are ever held, however long the log.
        let mut res = self.get_download(path, auth).await?;
        let mut tail: std::collections::VecDeque<u8> = std::collections::VecDeque::new();
        while let Some(chunk) = res
            .chunk()
            .await
            .map_err(|e| GithubError::Network(e.without_url().to_string()))?
        {
            tail.extend(chunk.iter());
            let excess = tail.len().saturating_sub(max_bytes);
            tail.drain(..excess);
        }
        Ok(String::from_utf8_lossy(tail.make_contiguous()).into_owned())
    }

    pub async fn get<T: DeserializeOwned>(
        &self,
        path_or_url: &str,
        auth: &Auth<'_>,
    ) -> Result<Page<T>, GithubError> {
        self.send(Method::GET, path_or_url, auth, None).await
    }
}

pub use super::client_conditional::Conditional;

/// How a request authenticates.
pub enum Auth<'a> {
    Bearer(&'a SecretString),
    None,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_header_and_rate_limit_parsing() {
        let mut h = HeaderMap::new();
        h.insert(
            "link",
            "<https://api.github.com/x?page=3>; rel=\"next\", <https://api.github.com/x?page=50>; rel=\"last\"".parse().unwrap(),
        );
        assert_eq!(
            next_link(&h).as_deref(),
            Some("https://api.github.com/x?page=3")
        );
        let mut h = HeaderMap::new();
        h.insert("retry-after", "7".parse().unwrap());
        assert_eq!(
            rate_limit_wait(StatusCode::FORBIDDEN, &h),
            Some(Duration::from_secs(7))
        );
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-remaining", "0".parse().unwrap());
        h.insert(
            "x-ratelimit-reset",
            (chrono::Utc::now().timestamp() + 30)
                .to_string()
                .parse()
                .unwrap(),
        );
        let wait = rate_limit_wait(StatusCode::FORBIDDEN, &h).unwrap();
        assert!(wait >= Duration::from_secs(29) && wait <= Duration::from_secs(31));
        assert_eq!(
            rate_limit_wait(StatusCode::FORBIDDEN, &HeaderMap::new()),
            None,
            "a plain 403 is not a rate limit"
        );
    }
}
