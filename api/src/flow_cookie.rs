//! The browser cookie that binds an OAuth `state` to the browser that started the flow: HttpOnly,
//! SameSite=Lax. When `PUBLIC_URL` is https it is a `__Host-` cookie (Secure, `Path=/`, no
//! `Domain`), so no sibling or parent domain can toss its own nonce into a victim's browser; over
//! plain http (development) it is scoped to the flow's path. A request carrying the cookie twice
//! (a tossed one beside the genuine one) counts as carrying none.

use axum::http::{HeaderMap, header};

/// One flow's cookie: its name and the path of its routes.
pub struct FlowCookie {
    pub name: &'static str,
    pub path: &'static str,
}

impl FlowCookie {
    /// `Set-Cookie` value carrying `nonce` for ten minutes.
    pub fn set(&self, public_url: &url::Url, nonce: &str) -> String {
        self.header(public_url, nonce, 600)
    }

    /// `Set-Cookie` value carrying `nonce` for `max_age_secs` (as long as the flow's state lives).
    pub fn set_for(&self, public_url: &url::Url, nonce: &str, max_age_secs: u32) -> String {
        self.header(public_url, nonce, max_age_secs)
    }

    /// `Set-Cookie` value removing the cookie.
    pub fn clear(&self, public_url: &url::Url) -> String {
        self.header(public_url, "", 0)
    }

    /// The cookie's name and path for this deployment.
    fn scoped(&self, public_url: &url::Url) -> (String, &'static str) {
        if public_url.scheme() == "https" {
            (format!("__Host-{}", self.name), "/")
        } else {
            (self.name.to_owned(), self.path)
        }
    }

    fn header(&self, public_url: &url::Url, value: &str, max_age: u32) -> String {
        let (name, path) = self.scoped(public_url);
        let secure = if public_url.scheme() == "https" {
            "; Secure"
        } else {
            ""
        };
        format!("{name}={value}; Path={path}; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
    }

    /// The nonce the browser sent back, when it sent exactly one.
    pub fn read(&self, public_url: &url::Url, headers: &HeaderMap) -> Option<String> {
        let (name, _) = self.scoped(public_url);
        let mut values = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .filter(|(k, _)| *k == name)
            .map(|(_, v)| v.to_owned());
        let first = values.next()?;
        values.next().is_none().then_some(first)
    }
}
