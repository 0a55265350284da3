//! `Outbound`: the one HTTP client for user-typed URLs, which checks every hop and connects only to the addresses it checked.

use std::{
    future::Future,
    net::{IpAddr, SocketAddr},
    pin::Pin,
    sync::Arc,
    time::Duration,
};

use reqwest::{Method, StatusCode, header::LOCATION};
use url::{Host, Url};

use super::policy::{Class, Policy};

/// Redirects followed before giving up.
pub const MAX_REDIRECTS: usize = 5;
/// The longest a name lookup may take.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// Looks names up. The system's resolver in production; tests script one to play DNS tricks.
pub trait Resolve: Send + Sync {
    fn lookup<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<SocketAddr>>> + Send + 'a>>;
}

/// The operating system's resolver (`getaddrinfo`, through tokio).
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn lookup<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<SocketAddr>>> + Send + 'a>> {
        Box::pin(async move { Ok(tokio::net::lookup_host((host, port)).await?.collect()) })
    }
}

/// Why an outbound request did not happen or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    /// The destination (or a redirect's) is refused by the policy.
    #[error("{0}")]
    NotAllowed(String),
    #[error("{0}")]
    InvalidUrl(String),
    /// The name did not resolve (now).
    #[error("{0}")]
    Resolve(String),
    /// The CA bundle to trust is not usable.
    #[error("{0}")]
    InvalidCa(String),
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooManyRedirects,
    /// No answer (the message never carries the URL).
    #[error("{0}")]
    Network(String),
}

/// Why a request got no answer, without its URL: the innermost cause says most.
fn network(e: reqwest::Error) -> OutboundError {
    if e.is_timeout() {
        return OutboundError::Network("timed out".into());
    }
    let mut message = String::from("unreachable");
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        message = format!("unreachable: {s}");
        source = s.source();
    }
    OutboundError::Network(message)
}

/// How a request checks the server's certificate: against the system's roots (and `ca_pem`'s
/// certificates, when given), or not at all when `verify` is off (self-signed servers).
#[derive(Debug, Clone)]
pub struct Tls {
    pub verify: bool,
    /// PEM certificates to trust besides the system's roots.
    pub ca_pem: Option<String>,
}

impl Default for Tls {
    fn default() -> Self {
        Self {
            verify: true,
            ca_pem: None,
        }
    }
}

/// A checked destination: the URL and, for a name, the addresses it resolved to (all allowed).
#[derive(Debug, Clone)]
pub struct Destination {
    pub url: Url,
    pub addrs: Vec<SocketAddr>,
}

/// The guarded client. Cheap to clone.
#[derive(Clone)]
pub struct Outbound {
    policy: Arc<Policy>,
    resolver: Arc<dyn Resolve>,
    timeout: Duration,
}

/// A reqwest resolver that knows one name, answering the addresses that were checked for it,
/// and nothing else: the connection can only go where the check looked.
struct Pinned {
    host: String,
    addrs: Vec<SocketAddr>,
}

impl reqwest::dns::Resolve for Pinned {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let answer = if name.as_str().eq_ignore_ascii_case(&self.host) {
            Ok(Box::new(self.addrs.clone().into_iter()) as reqwest::dns::Addrs)
        } else {
            Err("outbound name was not checked".into())
        };
        Box::pin(std::future::ready(answer))
    }
}

fn refused(what: &str, class: Class) -> OutboundError {
    OutboundError::NotAllowed(format!(
        "destination not allowed: {what} is {} (see OUTBOUND_ALLOWED_CIDRS)",
        class.describe()
    ))
}

/// `localhost`, `localhost.` and every name under it (RFC 6761) are loopback without asking DNS.
fn is_localhost(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

impl Outbound {
    /// A client with the system resolver; `timeout` bounds each request (each hop).
    pub fn new(policy: Policy, timeout: Duration) -> Self {
        Self::with_resolver(policy, timeout, Arc::new(SystemResolver))
    }

    pub fn with_resolver(policy: Policy, timeout: Duration, resolver: Arc<dyn Resolve>) -> Self {
        Self {
            policy: Arc::new(policy),
            resolver,
            timeout,
        }
    }

    fn check_ip(&self, what: &str, ip: IpAddr) -> Result<(), OutboundError> {
        self.policy.check(ip).map_err(|class| refused(what, class))
    }

    /// Parses and checks `url`: an http(s) URL whose host is an allowed address, or a name whose
    /// every address is allowed. (Decimal, octal and hex IPv4 spellings are parsed as addresses
    /// by the URL parser, so they are judged as the address they spell.)
    pub async fn check(&self, url: &str) -> Result<Destination, OutboundError> {
        let url = Url::parse(url.trim())
            .map_err(|e| OutboundError::InvalidUrl(format!("not a valid URL ({e})")))?;
        self.check_url(url).await
    }

    async fn check_url(&self, url: Url) -> Result<Destination, OutboundError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(OutboundError::InvalidUrl(
                "only http:// and https:// URLs are allowed".into(),
            ));
        }
        let port = url
            .port_or_known_default()
            .ok_or_else(|| OutboundError::InvalidUrl("the URL has no port".into()))?;
        let addrs = match url.host() {
            None => return Err(OutboundError::InvalidUrl("the URL has no host".into())),
            Some(Host::Ipv4(ip)) => {
                self.check_ip(&ip.to_string(), IpAddr::V4(ip))?;
                Vec::new()
            }
            Some(Host::Ipv6(ip)) => {
                self.check_ip(&ip.to_string(), IpAddr::V6(ip))?;
                Vec::new()
            }
            Some(Host::Domain(name)) => {
                if is_localhost(name) {
                    return Err(refused(name, Class::Loopback));
                }
                let found = tokio::time::timeout(RESOLVE_TIMEOUT, self.resolver.lookup(name, port))
                    .await
                    .map_err(|_| OutboundError::Resolve(format!("resolving {name} timed out")))?
                    .map_err(|e| {
                        OutboundError::Resolve(format!("{name} does not resolve ({e})"))
                    })?;
                if found.is_empty() {
                    return Err(OutboundError::Resolve(format!("{name} has no address")));
                }
                // One refused address refuses the name: no mixing a public answer with an
                // internal one and hoping the connection picks the latter.
                for addr in &found {
                    self.policy.check(addr.ip()).map_err(|class| {
                        refused(&format!("{name} resolves to an address that"), class)
                    })?;
                }
                found
            }
        };
        Ok(Destination { url, addrs })
    }

    /// For create/update: `Err` only when `url` is refused. A name that does not resolve now is
    /// let through (it is checked again, and refused then if need be, on every request).
    pub async fn check_destination(&self, url: &str) -> Result<(), OutboundError> {
        match self.check(url).await {
            Ok(_) | Err(OutboundError::Resolve(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// A client for one hop: no proxy, no redirects of its own, names resolved only to the
    /// checked addresses.
    fn client_for(&self, dest: &Destination, tls: &Tls) -> Result<reqwest::Client, OutboundError> {
        let pinned = Pinned {
            host: dest.url.host_str().unwrap_or_default().to_owned(),
            addrs: dest.addrs.clone(),
        };
        let mut builder = reqwest::Client::builder()
            .user_agent("RepoPal health check")
            .timeout(self.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(pinned));
        if !tls.verify {
            builder = builder.danger_accept_invalid_certs(true);
        }
        if let Some(pem) = tls.ca_pem.as_deref().filter(|p| !p.trim().is_empty()) {
            let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
                .ok()
                .filter(|c| !c.is_empty())
                .ok_or_else(|| {
                    OutboundError::InvalidCa("the CA bundle holds no valid PEM certificate".into())
                })?;
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        builder.build().map_err(network)
    }

    /// Sends `method url` (with `bearer` as `Authorization` while the origin stays the first
    /// one), following up to `MAX_REDIRECTS` redirects, each checked like the first URL.
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        bearer: Option<&str>,
    ) -> Result<reqwest::Response, OutboundError> {
        self.send_with(method, url, bearer, &Tls::default()).await
    }

    /// `send`, checking the server's certificate as `tls` says.
    pub async fn send_with(
        &self,
        method: Method,
        url: &str,
        bearer: Option<&str>,
        tls: &Tls,
    ) -> Result<reqwest::Response, OutboundError> {
        let mut dest = self.check(url).await?;
        let origin = dest.url.origin();
        let mut method = method;
        for _ in 0..=MAX_REDIRECTS {
            let client = self.client_for(&dest, tls)?;
            let mut req = client.request(method.clone(), dest.url.clone());
            if let Some(token) = bearer.filter(|_| dest.url.origin() == origin) {
                req = req.bearer_auth(token);
            }
            let res = req.send().await.map_err(network)?;
            let follow = matches!(
                res.status(),
                StatusCode::MOVED_PERMANENTLY
                    | StatusCode::FOUND
                    | StatusCode::SEE_OTHER
                    | StatusCode::TEMPORARY_REDIRECT
                    | StatusCode::PERMANENT_REDIRECT
            );
            let location = res.headers().get(LOCATION).and_then(|v| v.to_str().ok());
            let (true, Some(location)) = (follow, location) else {
                return Ok(res);
            };
            let next = dest.url.join(location).map_err(|e| {
                OutboundError::InvalidUrl(format!("a redirect pointed to an invalid URL ({e})"))
            })?;
            if res.status() == StatusCode::SEE_OTHER && method != Method::HEAD {
                method = Method::GET;
            }
            dest = self.check_url(next).await?;
        }
        Err(OutboundError::TooManyRedirects)
    }
}
