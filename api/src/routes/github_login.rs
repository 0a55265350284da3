//! `/api/v1/auth/oauth/github/…`: sign in with GitHub (authorize → callback), and unlink.

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::Response,
};
use common::identity::OAuthCallback;
use serde::Deserialize;
use utoipa::IntoParams;

use super::auth::{AuthOut, DoneOut};
use crate::{
    error::{ApiError, ApiResult, Envelope, ErrorEnvelope},
    extract::{Client, CurrentUser, ValidQuery},
    flow_cookie::FlowCookie,
    state::AppState,
};

pub(crate) const COOKIE: FlowCookie = FlowCookie {
    name: "repopal_oauth",
    path: "/api/v1/auth/oauth/github",
};

/// Redirect the browser to GitHub; sets the cookie the callback checks the state against.
#[utoipa::path(get, path = "/api/v1/auth/oauth/github/authorize", operation_id = "github_login_authorize", tag = "auth",
    responses((status = 302, description = "Redirect to GitHub"), (status = 400, description = "oauth_not_configured", body = ErrorEnvelope)))]
pub async fn authorize(State(state): State<AppState>) -> Result<Response, ApiError> {
    let start = state.identity.github_authorize().await?;
    let answer = (StatusCode::FOUND, [(header::LOCATION, start.url)]);
    let public_url = &state.services.config.public_url;
    Ok(COOKIE.setting(public_url, &start.browser_nonce, answer))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    /// Set by GitHub when the user denies access (`access_denied`).
    pub error: Option<String>,
}

impl CallbackQuery {
    /// The query with the nonce of the browser that brought it.
    pub fn with_nonce<'a>(&'a self, browser_nonce: Option<&'a str>) -> OAuthCallback<'a> {
        OAuthCallback {
            browser_nonce,
            state: self.state.as_deref(),
            code: self.code.as_deref(),
            error: self.error.as_deref(),
        }
    }
}

/// GitHub redirects here; signs in (creating or linking the account) and answers like login.
#[utoipa::path(get, path = "/api/v1/auth/oauth/github/callback", operation_id = "github_login_callback", tag = "auth", params(CallbackQuery),
    responses((status = 200, body = AuthOut),
              (status = 400, description = "invalid_oauth_state, oauth_state_reused, oauth_denied, oauth_code_invalid", body = ErrorEnvelope),
              (status = 502, description = "upstream_error", body = ErrorEnvelope)))]
pub async fn callback(
    State(state): State<AppState>,
    Client(meta): Client,
    headers: HeaderMap,
    ValidQuery(q): ValidQuery<CallbackQuery>,
) -> Result<Response, ApiError> {
    let nonce = COOKIE.read(&state.services.config.public_url, &headers);
    let signed_in = state
        .identity
        .github_callback(&meta, &q.with_nonce(nonce.as_deref()))
        .await?;
    let answer = Envelope(AuthOut::from(signed_in));
    Ok(COOKIE.clearing(&state.services.config.public_url, answer))
}

/// Unlink GitHub from the signed-in account (refused when it is the only way to sign in).
#[utoipa::path(post, path = "/api/v1/auth/oauth/github/disconnect", operation_id = "github_login_disconnect", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = DoneOut), (status = 404, body = ErrorEnvelope),
              (status = 409, description = "last_login_method", body = ErrorEnvelope)))]
pub async fn disconnect(
    State(state): State<AppState>,
    Client(meta): Client,
    CurrentUser(caller): CurrentUser,
) -> ApiResult<DoneOut> {
    state.identity.github_disconnect(&meta, caller).await?;
    Ok(Envelope(DoneOut { ok: true }))
}
