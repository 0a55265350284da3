//! The console's cookie session (a signed pointer to the same server-side session API tokens
//! use), per-session CSRF tokens and the Origin check every state-changing form goes through.

use axum::{
    extract::{FromRequest, FromRequestParts, Request},
    http::{HeaderMap, Method, header, request::Parts},
    response::{IntoResponse, Redirect, Response},
};
use common::{crypto::purpose_keys::StateKeys, domain::SessionId, identity::Caller};
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

use super::page::ConsoleError;
use crate::state::AppState;

/// The session cookie's base name (`__Host-` prefixed when `PUBLIC_URL` is https).
pub const SESSION_COOKIE: &str = "repopal_session";
/// A random per-browser value that anonymous forms (login, sign-up…) bind their CSRF token to.
pub const ANON_COOKIE: &str = "repopal_pre";
/// The largest form body the console reads.
const FORM_LIMIT: usize = 64 * 1024;

pub use crate::cookies::{cookie_name, read_cookie, set_cookie};

/// The session cookie's value for `session`: its id and a MAC over it.
pub fn session_value(keys: &StateKeys, session: SessionId) -> String {
    let id = session.to_string();
    let mac = keys.console_session.mac_hex(id.as_bytes());
    format!("{id}.{mac}")
}

/// The session a cookie names, when its MAC is genuine.
fn parse_session_value(keys: &StateKeys, value: &str) -> Option<SessionId> {
    let (id, mac) = value.split_once('.')?;
    let expected = keys.console_session.mac_hex(id.as_bytes());
    if !bool::from(expected.as_bytes().ct_eq(mac.as_bytes())) {
        return None;
    }
    id.parse().ok().map(SessionId)
}

/// The CSRF token of a session or an anonymous browser.
pub fn csrf_token(keys: &StateKeys, binding: &str) -> String {
    keys.console_csrf.mac_hex(binding.as_bytes())
}

fn session_binding(session: SessionId) -> String {
    format!("session:{session}")
}

fn anon_binding(value: &str) -> String {
    format!("anon:{value}")
}

/// The signed-in person behind a console request, with the CSRF token their forms carry.
#[derive(Debug, Clone)]
pub struct Signed {
    pub caller: Caller,
    pub csrf: String,
}

/// Resolves the session cookie (cached per request).
async fn signed(parts: &mut Parts, state: &AppState) -> Result<Option<Signed>, ConsoleError> {
    if let Some(found) = parts.extensions.get::<Option<Signed>>() {
        return Ok(found.clone());
    }
    let public_url = &state.services.config.public_url;
    let name = cookie_name(public_url, SESSION_COOKIE);
    let session =
        read_cookie(&parts.headers, &name).and_then(|v| parse_session_value(&state.state_keys, &v));
    let found = match session {
        Some(id) => state
            .identity
            .authenticate_session(id)
            .await?
            .map(|caller| Signed {
                csrf: csrf_token(&state.state_keys, &session_binding(caller.session_id)),
                caller,
            }),
        None => None,
    };
    parts.extensions.insert(found.clone());
    Ok(found)
}

/// A page that needs a signed-in person: anyone else is sent to `/login?next=…`.
pub struct Console(pub Signed);

impl FromRequestParts<AppState> for Console {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        if foreign_post(parts, state) {
            return Err(another_site());
        }
        match signed(parts, state).await {
            Ok(Some(s)) => Ok(Self(s)),
            Ok(None) => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .filter(|p| safe_next(p))
                    .unwrap_or("/");
                let target = format!("/login?next={}", urlencode(next));
                Err(Redirect::to(&target).into_response())
            }
            Err(e) => Err(e.into_response()),
        }
    }
}

fn another_site() -> Response {
    ConsoleError::forbidden("This form was sent from another site, so it was refused.")
        .into_response()
}

/// A POST from another origin is refused before anything else looks at it (a cross-site post
/// carries no session cookie, and must not be answered with a sign-in redirect either).
fn foreign_post(parts: &Parts, state: &AppState) -> bool {
    parts.method == Method::POST && !origin_ok(&parts.headers, &state.services.config.public_url)
}

/// A page anyone may open; `Some` when the browser is signed in.
pub struct MaybeSigned(pub Option<Signed>);

impl FromRequestParts<AppState> for MaybeSigned {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        if foreign_post(parts, state) {
            return Err(another_site());
        }
        signed(parts, state)
            .await
            .map(Self)
            .map_err(IntoResponse::into_response)
    }
}

/// The CSRF token for an anonymous form, and the cookie to set when the browser has none yet.
pub struct AnonCsrf {
    pub token: String,
    pub set_cookie: Option<String>,
}

impl AnonCsrf {
    /// The token for a page that anyone may post: the session's when signed in.
    pub fn for_page(state: &AppState, headers: &HeaderMap, signed: Option<&Signed>) -> Self {
        match signed {
            Some(s) => Self {
                token: s.csrf.clone(),
                set_cookie: None,
            },
            None => Self::for_request(state, headers),
        }
    }

    pub fn for_request(state: &AppState, headers: &HeaderMap) -> Self {
        let public_url = &state.services.config.public_url;
        let name = cookie_name(public_url, ANON_COOKIE);
        let (value, set_cookie) = match read_cookie(headers, &name).filter(|v| valid_anon(v)) {
            Some(v) => (v, None),
            None => {
                let v = format!(
                    "{}{}",
                    uuid::Uuid::new_v4().simple(),
                    uuid::Uuid::new_v4().simple()
                );
                let cookie = set_cookie(public_url, ANON_COOKIE, &v, 60 * 60 * 24);
                (v, Some(cookie))
            }
        };
        Self {
            token: csrf_token(&state.state_keys, &anon_binding(&value)),
            set_cookie,
        }
    }
}

fn valid_anon(v: &str) -> bool {
    v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A state-changing form that passed the Origin check and carries the CSRF token of the browser
/// that posts it; `signed` is the signed-in person when there is one.
pub struct Posted<T> {
    pub form: T,
    pub signed: Option<Signed>,
}

#[derive(serde::Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for Posted<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        if parts.method != Method::POST {
            return Err(ConsoleError::not_found().into_response());
        }
        if !origin_ok(&parts.headers, &state.services.config.public_url) {
            return Err(another_site());
        }
        let signed = signed(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let expected = match &signed {
            Some(s) => Some(s.csrf.clone()),
            None => {
                let name = cookie_name(&state.services.config.public_url, ANON_COOKIE);
                read_cookie(&parts.headers, &name)
                    .filter(|v| valid_anon(v))
                    .map(|v| csrf_token(&state.state_keys, &anon_binding(&v)))
            }
        };
        let bytes = axum::body::to_bytes(body, FORM_LIMIT)
            .await
            .map_err(|_| ConsoleError::bad_request("The form is too large.").into_response())?;
        let sent: CsrfField = serde_urlencoded::from_bytes(&bytes).map_err(|_| {
            ConsoleError::bad_request("The form could not be read.").into_response()
        })?;
        let valid = expected.is_some_and(|e| {
            !sent.csrf.is_empty() && bool::from(e.as_bytes().ct_eq(sent.csrf.as_bytes()))
        });
        if !valid {
            return Err(ConsoleError::forbidden(
                "This form has expired or was not sent from this page. Reload the page and try again.",
            )
            .into_response());
        }
        // As the JSON API refuses NUL in bodies, so do forms: Postgres cannot store it.
        let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).map_err(|_| {
            ConsoleError::bad_request("The form could not be read.").into_response()
        })?;
        if fields
            .iter()
            .any(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            return Err(ConsoleError::bad_request(
                "The form contains a NUL character, which cannot be stored.",
            )
            .into_response());
        }
        let form = serde_urlencoded::from_bytes(&bytes).map_err(|_| {
            ConsoleError::bad_request("The form could not be read.").into_response()
        })?;
        Ok(Self { form, signed })
    }
}

/// `Origin` must be the console's own (`PUBLIC_URL`); without one, `Sec-Fetch-Site` must not
/// say another site sent the request.
pub fn origin_ok(headers: &HeaderMap, public_url: &url::Url) -> bool {
    let own = public_url.origin().ascii_serialization();
    if let Some(origin) = headers.get(header::ORIGIN) {
        return origin.to_str().is_ok_and(|o| o == own);
    }
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some(site) => matches!(site, "same-origin" | "none"),
        None => true,
    }
}

/// A `next` target that stays on this site: a path, never `//host` or a scheme.
pub fn safe_next(next: &str) -> bool {
    next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control())
}

/// Percent-encodes a query value.
pub fn urlencode(v: &str) -> String {
    url::form_urlencoded::byte_serialize(v.as_bytes()).collect()
}
