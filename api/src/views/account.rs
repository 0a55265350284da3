//! Account pages: sign-up, sign-in (password or GitHub) and sign-out; the pages reached by an
//! emailed link or token are in `account_links`.

use askama::Template;
use axum::{
    extract::{Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use common::{domain::Email, identity::SignedIn};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::{
    page::{ConsoleError, FieldErrors, Layout, field_errors, ok, render},
    session::{
        AnonCsrf, MaybeSigned, Posted, SESSION_COOKIE, Signed, safe_next, session_value, set_cookie,
    },
};
use crate::{error::ApiError, extract::Client, routes::auth::RegisterIn, state::AppState};

/// Query of pages that may carry a notice, a `next` target or a token.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    pub notice: Option<String>,
    pub next: Option<String>,
    pub token: Option<String>,
}

pub(super) fn token_of(token: &Option<SecretString>) -> &str {
    token
        .as_ref()
        .map(ExposeSecret::expose_secret)
        .unwrap_or_default()
}

pub(super) fn with_cookie(mut response: Response, cookie: Option<String>) -> Response {
    if let Some(c) = cookie.and_then(|c| c.parse().ok()) {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response
}

/// A page anyone may post, titled `title`: its forms carry the browser's CSRF token (the
/// session's when `signed`), and a browser without the anonymous cookie gets one.
pub(super) fn anonymous_page<P: Template>(
    state: &AppState,
    headers: &HeaderMap,
    signed: Option<&Signed>,
    title: &str,
    page: impl FnOnce(Layout) -> P,
) -> Response {
    let csrf = AnonCsrf::for_page(state, headers, signed);
    let page = page(Layout::anonymous(title, &csrf.token));
    with_cookie(ok(&page), csrf.set_cookie)
}

/// Sets the console cookie for the session `signed_in` started and sends the browser on.
async fn start_session(
    state: &AppState,
    signed_in: &SignedIn,
    next: &str,
) -> Result<Response, ConsoleError> {
    let caller = state
        .identity
        .authenticate(&signed_in.tokens.access_token)
        .await?
        .ok_or_else(|| ConsoleError::internal(&"fresh session did not authenticate"))?;
    let public_url = &state.services.config.public_url;
    let max_age = i64::try_from(state.api.auth.refresh_token_ttl.as_secs()).unwrap_or(i64::MAX);
    let cookie = set_cookie(
        public_url,
        SESSION_COOKIE,
        &session_value(&state.state_keys, caller.session_id),
        max_age,
    );
    let target = if safe_next(next) { next } else { "/" };
    Ok(with_cookie(
        Redirect::to(target).into_response(),
        Some(cookie),
    ))
}

// ---- sign in ----

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    l: Layout,
    email: String,
    next: String,
    error: Option<String>,
    github: bool,
}

pub async fn login_page(
    State(state): State<AppState>,
    MaybeSigned(signed): MaybeSigned,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    if signed.is_some() {
        return Redirect::to("/").into_response();
    }
    let github = state.services.config.github.oauth_client_id.is_some();
    anonymous_page(&state, &headers, None, "Sign in", |l| LoginPage {
        l: l.with_notice(q.notice.as_deref()),
        email: String::new(),
        next: q.next.filter(|n| safe_next(n)).unwrap_or_default(),
        error: None,
        github,
    })
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    password: Option<SecretString>,
    #[serde(default)]
    next: String,
    #[serde(default)]
    csrf: String,
}

pub async fn login(
    State(state): State<AppState>,
    Client(meta): Client,
    Posted { form, .. }: Posted<LoginForm>,
) -> Response {
    let password = form.password.unwrap_or_else(|| SecretString::from(""));
    let result = match Email::parse(&form.email) {
        Ok(email) => state
            .identity
            .login(&meta, &email, &password)
            .await
            .map_err(ApiError::from),
        Err(_) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "Invalid email or password.",
        )),
    };
    match result {
        Ok(signed_in) => start_session(&state, &signed_in, &form.next)
            .await
            .unwrap_or_else(IntoResponse::into_response),
        Err(e) => {
            let page = LoginPage {
                l: Layout::anonymous("Sign in", &form.csrf),
                email: form.email,
                next: if safe_next(&form.next) {
                    form.next
                } else {
                    String::new()
                },
                error: Some(e.message),
                github: state.services.config.github.oauth_client_id.is_some(),
            };
            render(e.status, &page)
        }
    }
}

// ---- sign up ----

#[derive(Template)]
#[template(path = "signup.html")]
pub(super) struct SignupPage {
    pub(super) l: Layout,
    pub(super) full_name: String,
    pub(super) email: String,
    pub(super) organization_name: String,
    /// Set when signing up to accept an invitation: the token, and no organisation field.
    pub(super) invitation: String,
    pub(super) errors: FieldErrors,
    pub(super) error: Option<String>,
}

impl SignupPage {
    fn err(&self, field: &str) -> String {
        self.errors.get(field).cloned().unwrap_or_default()
    }
}

pub async fn signup_page(
    State(state): State<AppState>,
    MaybeSigned(signed): MaybeSigned,
    headers: HeaderMap,
) -> Response {
    if signed.is_some() {
        return Redirect::to("/").into_response();
    }
    anonymous_page(&state, &headers, None, "Create an account", |l| {
        SignupPage {
            l,
            full_name: String::new(),
            email: String::new(),
            organization_name: String::new(),
            invitation: String::new(),
            errors: FieldErrors::new(),
            error: None,
        }
    })
}

#[derive(Deserialize)]
pub struct SignupForm {
    #[serde(default)]
    full_name: String,
    #[serde(default)]
    email: String,
    password: Option<SecretString>,
    #[serde(default)]
    organization_name: String,
    #[serde(default)]
    invitation: String,
    #[serde(default)]
    csrf: String,
}

pub async fn signup(
    State(state): State<AppState>,
    Client(meta): Client,
    Posted { form, .. }: Posted<SignupForm>,
) -> Response {
    let invited = !form.invitation.is_empty();
    let body = RegisterIn {
        email: form.email.clone(),
        password: form.password.unwrap_or_else(|| SecretString::from("")),
        full_name: form.full_name.clone(),
        organization_name: (!invited).then(|| form.organization_name.clone()),
    };
    let result = match body.parse() {
        Ok(registration) => state
            .identity
            .register(&meta, registration)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match result {
        Ok(signed_in) => {
            let next = if invited {
                format!(
                    "/accept-invitation?token={}",
                    super::session::urlencode(&form.invitation)
                )
            } else {
                "/".to_owned()
            };
            start_session(&state, &signed_in, &next)
                .await
                .unwrap_or_else(IntoResponse::into_response)
        }
        Err(e) => {
            let page = SignupPage {
                l: Layout::anonymous("Create an account", &form.csrf),
                full_name: form.full_name,
                email: form.email,
                organization_name: form.organization_name,
                invitation: form.invitation,
                errors: field_errors(&e),
                error: Some(e.message),
            };
            render(e.status, &page)
        }
    }
}

// ---- sign out ----

#[derive(Deserialize)]
pub struct Empty {}

pub async fn logout(
    State(state): State<AppState>,
    Client(meta): Client,
    Posted { signed, .. }: Posted<Empty>,
) -> Response {
    if let Some(s) = signed
        && let Err(e) = state.identity.logout(&meta, s.caller).await
    {
        return ConsoleError::from(e).into_response();
    }
    let clear = set_cookie(&state.services.config.public_url, SESSION_COOKIE, "", 0);
    with_cookie(
        Redirect::to("/login?notice=signed_out").into_response(),
        Some(clear),
    )
}
