//! A cookie-keeping browser stand-in for the console, driven in-process: GETs pages, remembers
//! cookies and the last page's CSRF token, and posts forms with the console's `Origin`.

use std::collections::BTreeMap;

use axum::{
    body::Body,
    http::{Method, Request},
};

use crate::{TestApp, http::TestResponse};

/// The origin of `PUBLIC_URL` in the test configuration.
pub const ORIGIN: &str = "http://repopal.test";

/// One browser: its cookies and the CSRF token of the last page it opened.
#[derive(Debug, Default, Clone)]
pub struct Browser {
    pub cookies: BTreeMap<String, String>,
    pub csrf: Option<String>,
}

/// The value of the first `name="csrf"` hidden input on a page.
pub fn csrf_of(html: &str) -> Option<String> {
    let at = html.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    let rest = &html[at..];
    Some(rest[..rest.find('"')?].to_owned())
}

impl Browser {
    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn remember(&mut self, res: &TestResponse) {
        for v in res.headers.get_all(axum::http::header::SET_COOKIE) {
            let Some(pair) = v.to_str().ok().and_then(|v| v.split(';').next()) else {
                continue;
            };
            if let Some((k, val)) = pair.split_once('=') {
                if val.is_empty() || v.to_str().is_ok_and(|s| s.contains("Max-Age=0")) {
                    self.cookies.remove(k);
                } else {
                    self.cookies.insert(k.to_owned(), val.to_owned());
                }
            }
        }
        if let Some(token) = csrf_of(&res.text()) {
            self.csrf = Some(token);
        }
    }

    /// The session cookie's `name=value`, when signed in.
    pub fn session_cookie(&self) -> Option<String> {
        self.cookies
            .get("repopal_session")
            .map(|v| format!("repopal_session={v}"))
    }

    pub async fn get(&mut self, app: &TestApp, path: &str) -> TestResponse {
        let peer: std::net::SocketAddr = "192.0.2.7:40000".parse().expect("ip");
        let req = Request::builder()
            .method(Method::GET)
            .uri(path)
            .header("user-agent", "repopal-console-tests/1.0")
            .header("cookie", self.cookie_header())
            .extension(axum::extract::ConnectInfo(peer))
            .body(Body::empty())
            .expect("request");
        let res = app.request(req).await;
        self.remember(&res);
        res
    }

    /// Posts `fields` (plus the page's CSRF token) as a same-origin browser form would.
    pub async fn post(
        &mut self,
        app: &TestApp,
        path: &str,
        fields: &[(&str, &str)],
    ) -> TestResponse {
        let csrf = self.csrf.clone().unwrap_or_default();
        let mut all: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(app, path, &all, Some(ORIGIN)).await
    }

    /// Posts exactly `fields` with the given `Origin` (or none).
    pub async fn post_raw(
        &mut self,
        app: &TestApp,
        path: &str,
        fields: &[(&str, &str)],
        origin: Option<&str>,
    ) -> TestResponse {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let peer: std::net::SocketAddr = "192.0.2.7:40000".parse().expect("ip");
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header("user-agent", "repopal-console-tests/1.0")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", self.cookie_header())
            .extension(axum::extract::ConnectInfo(peer));
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        let res = app
            .request(req.body(Body::from(body)).expect("request"))
            .await;
        self.remember(&res);
        res
    }

    /// Signs up through the console (opening `/signup` first for its token); returns the
    /// redirect target.
    pub async fn sign_up(&mut self, app: &TestApp, name: &str, email: &str, org: &str) -> String {
        self.get(app, "/signup").await;
        let res = self
            .post(
                app,
                "/signup",
                &[
                    ("full_name", name),
                    ("email", email),
                    ("password", crate::auth::PASSWORD),
                    ("organization_name", org),
                ],
            )
            .await;
        assert_eq!(res.status, 303, "sign-up: {}", res.text());
        location(&res)
    }
}

/// The `Location` a redirect points at.
pub fn location(res: &TestResponse) -> String {
    res.headers
        .get(axum::http::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}
