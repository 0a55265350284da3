//! The browser cookie that binds an OAuth `state` to the browser that started the flow: HttpOnly,
//! SameSite=Lax, scoped to the flow's path, Secure when `PUBLIC_URL` is https.

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

    fn header(&self, public_url: &url::Url, value: &str, max_age: u32) -> String {
        let secure = if public_url.scheme() == "https" {
            "; Secure"
        } else {
            ""
        };
        format!(
            "{}={value}; Path={}; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
            self.name, self.path
        )
    }

    /// The nonce the browser sent back.
    pub fn read(&self, headers: &HeaderMap) -> Option<String> {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(k, _)| *k == self.name)
            .map(|(_, v)| v.to_owned())
    }
}
