//! Cookie headers shared by the OAuth flow cookies and the console session: one `__Host-`/Secure
//! rule for https, one `Set-Cookie` shape, one reader that refuses a cookie sent twice.

use axum::http::{HeaderMap, header};

/// The cookie's name for this deployment: `__Host-` (Secure, `Path=/`, no `Domain`) over https.
pub fn cookie_name(public_url: &url::Url, base: &str) -> String {
    if public_url.scheme() == "https" {
        format!("__Host-{base}")
    } else {
        base.to_owned()
    }
}

/// A `Set-Cookie` value for the cookie `name` (already scoped by [`cookie_name`]) on `path`:
/// HttpOnly, SameSite=Lax, Secure over https.
pub fn cookie_header(
    public_url: &url::Url,
    name: &str,
    path: &str,
    value: &str,
    max_age: i64,
) -> String {
    let secure = if public_url.scheme() == "https" {
        "; Secure"
    } else {
        ""
    };
    format!("{name}={value}; Path={path}; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, `Path=/`, Secure over https.
pub fn set_cookie(public_url: &url::Url, base: &str, value: &str, max_age: i64) -> String {
    cookie_header(
        public_url,
        &cookie_name(public_url, base),
        "/",
        value,
        max_age,
    )
}

/// The cookie's value when the browser sent it exactly once (a second, tossed copy voids it).
pub fn read_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
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
