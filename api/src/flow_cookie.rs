//! The browser cookie that binds an OAuth `state` to the browser that started the flow: HttpOnly,
//! SameSite=Lax. When `PUBLIC_URL` is https it is a `__Host-` cookie (Secure, `Path=/`, no
//! `Domain`), so no sibling or parent domain can toss its own nonce into a victim's browser; over
//! plain http (development) it is scoped to the flow's path. A request carrying the cookie twice
//! (a tossed one beside the genuine one) counts as carrying none.

use axum::{
    http::{HeaderMap, header},
    response::{IntoResponse, Response},
};

use crate::cookies::{cookie_header, cookie_name, read_cookie};

/// How long a flow's cookie lives unless the flow says otherwise.
pub const TEN_MINUTES: u32 = 600;

/// One flow's cookie: its name and the path of its routes.
pub struct FlowCookie {
    pub name: &'static str,
    pub path: &'static str,
}

impl FlowCookie {
    /// `Set-Cookie` value carrying `nonce` for ten minutes.
    pub fn set(&self, public_url: &url::Url, nonce: &str) -> String {
        self.header(public_url, nonce, TEN_MINUTES)
    }

    /// `Set-Cookie` value carrying `nonce` for `max_age_secs` (as long as the flow's state lives).
    pub fn set_for(&self, public_url: &url::Url, nonce: &str, max_age_secs: u32) -> String {
        self.header(public_url, nonce, max_age_secs)
    }

    /// `answer` with the cookie carrying `nonce` for ten minutes (the flow starts).
    pub fn setting(
        &self,
        public_url: &url::Url,
        nonce: &str,
        answer: impl IntoResponse,
    ) -> Response {
        self.setting_for(public_url, nonce, TEN_MINUTES, answer)
    }

    /// `answer` with the cookie carrying `nonce` for `max_age_secs` (the flow starts).
    pub fn setting_for(
        &self,
        public_url: &url::Url,
        nonce: &str,
        max_age_secs: u32,
        answer: impl IntoResponse,
    ) -> Response {
        let cookie = self.set_for(public_url, nonce, max_age_secs);
        ([(header::SET_COOKIE, cookie)], answer).into_response()
    }

    /// `answer` with the cookie removed (the flow is over).
    pub fn clearing(&self, public_url: &url::Url, answer: impl IntoResponse) -> Response {
        ([(header::SET_COOKIE, self.clear(public_url))], answer).into_response()
    }

    /// `Set-Cookie` value removing the cookie.
    pub fn clear(&self, public_url: &url::Url) -> String {
        self.header(public_url, "", 0)
    }

    /// The cookie's name and path for this deployment.
    fn scoped(&self, public_url: &url::Url) -> (String, &'static str) {
        let path = if public_url.scheme() == "https" {
            "/"
        } else {
            self.path
        };
        (cookie_name(public_url, self.name), path)
    }

    fn header(&self, public_url: &url::Url, value: &str, max_age: u32) -> String {
        let (name, path) = self.scoped(public_url);
        cookie_header(public_url, &name, path, value, max_age.into())
    }

    /// The nonce the browser sent back, when it sent exactly one.
    pub fn read(&self, public_url: &url::Url, headers: &HeaderMap) -> Option<String> {
        read_cookie(headers, &self.scoped(public_url).0)
    }
}
