//! Connecting Slack with OAuth v2 ("Add to Slack"): the authorize link for an organisation, and
//! the callback Slack redirects the browser to.

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::Response,
};
use common::integrations::SlackConnect;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::integrations::IntegrationOut;
use crate::{
    error::{ApiError, Envelope, ErrorEnvelope},
    extract::{Client, OrgMember, ValidQuery, perm},
    flow_cookie::FlowCookie,
    state::AppState,
};

/// Binds the Slack state to the browser that asked for the link; sent back to the callback.
pub(crate) const COOKIE: FlowCookie = FlowCookie {
    name: "repopal_slack",
    path: "/api/v1/slack/callback",
};

#[derive(Debug, Serialize, ToSchema)]
pub struct SlackAuthorizeOut {
    /// Send the browser here; Slack returns it to `/api/v1/slack/callback`, which needs the cookie
    /// set with this answer (same browser).
    pub url: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SlackCallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    /// Set by Slack when the user cancels (`access_denied`).
    pub error: Option<String>,
}

pub(crate) fn connect(state: &AppState) -> SlackConnect<'_> {
    SlackConnect {
        slack: &state.services.slack,
        pool: &state.services.pool,
        keyring: &state.services.config.keyring,
        state_key: &state.state_keys.slack_connect,
        public_url: &state.services.config.public_url,
    }
}

/// Slack's "Add to Slack" page for this organisation, with a signed state valid for 10 minutes
/// (org_admin). 400 `slack_oauth_not_configured` without `SLACK_CLIENT_ID`.
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}/slack/authorize", operation_id = "slack_authorize", tag = "integrations", security(("bearer" = [])),
    params(("org_id" = String, Path, format = Uuid)),
    responses((status = 200, body = SlackAuthorizeOut), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope)))]
pub async fn authorize(
    State(state): State<AppState>,
    member: OrgMember<perm::IntegrationsManage>,
) -> Result<Response, ApiError> {
    let start = connect(&state).authorize_url(member.org_id, member.caller.user_id)?;
    let answer = Envelope(SlackAuthorizeOut { url: start.url });
    let public_url = &state.services.config.public_url;
    Ok(COOKIE.setting(public_url, &start.browser_nonce, answer))
}

/// Slack redirects here: the code is exchanged at `oauth.v2.access` and the organisation's Slack
/// integration for that workspace is created (201) or given the new credentials (200).
#[utoipa::path(get, path = "/api/v1/slack/callback", operation_id = "slack_callback", tag = "integrations", params(SlackCallbackQuery),
    responses((status = 200, body = IntegrationOut), (status = 201, body = IntegrationOut),
              (status = 400, description = "invalid_oauth_state, oauth_denied, oauth_code_invalid", body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 502, body = ErrorEnvelope)))]
pub async fn callback(
    State(state): State<AppState>,
    Client(meta): Client,
    headers: HeaderMap,
    ValidQuery(q): ValidQuery<SlackCallbackQuery>,
) -> Result<Response, ApiError> {
    if q.error.is_some() {
        return Err(
            common::Error::rejected("oauth_denied", "Slack access was not granted.").into(),
        );
    }
    let (Some(code), Some(slack_state)) = (q.code.as_deref(), q.state.as_deref()) else {
        return Err(
            common::Error::rejected("invalid_oauth_state", "code and state are required").into(),
        );
    };
    let nonce = COOKIE.read(&state.services.config.public_url, &headers);
    let row = connect(&state)
        .complete(&meta, code, slack_state, nonce.as_deref())
        .await?;
    let status = if row.created_at == row.updated_at {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let answer = (status, Envelope::<IntegrationOut>(row.into()));
    Ok(COOKIE.clearing(&state.services.config.public_url, answer))
}
