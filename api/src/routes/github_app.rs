//! Linking GitHub App installations to organisations: the install link and the setup callback.

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use common::domain::OrgId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    error::{ApiError, Envelope, ErrorEnvelope},
    extract::{Client, OrgMember, ValidQuery, perm},
    flow_cookie::FlowCookie,
    state::AppState,
};

/// Binds the install state to the browser that asked for the link; sent back to the setup URL.
pub(crate) const COOKIE: FlowCookie = FlowCookie {
    name: "repopal_install",
    path: "/api/v1/github/setup",
};

#[derive(Debug, Serialize, ToSchema)]
pub struct InstallLinkOut {
    /// Send the browser here; GitHub comes back to the setup callback with the state. The cookie
    /// set with this answer must come back with that callback (same browser).
    pub url: String,
}

/// The GitHub App's install link for this organisation (org_admin), with a signed state bound to
/// this browser by an HttpOnly cookie.
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}/github/install", operation_id = "github_app_install_link", tag = "github", security(("bearer" = [])),
    params(("org_id" = String, Path, format = Uuid)),
    responses((status = 200, body = InstallLinkOut), (status = 400, description = "github_app_not_configured", body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn install_link(
    State(state): State<AppState>,
    member: OrgMember<perm::GithubManage>,
) -> Result<Response, ApiError> {
    let link = common::github::install_url(
        &state.services.config.github,
        &state.state_keys.github_install,
        member.org_id,
        member.caller.user_id,
    )?;
    Ok(COOKIE.setting_for(
        &state.services.config.public_url,
        &link.browser_nonce,
        common::github::INSTALL_STATE_TTL_SECS,
        Envelope(InstallLinkOut { url: link.url }),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SetupQuery {
    /// Absent when an organisation owner still has to approve the request (`setup_action=request`).
    pub installation_id: Option<i64>,
    /// The user authorization code GitHub sends when the App requests it during installation
    /// (required: it proves the installer can access the installation).
    pub code: Option<String>,
    /// `install` or `update`.
    pub setup_action: Option<String>,
    pub state: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InstallLinkedOut {
    pub org_id: OrgId,
    pub installation_id: i64,
    /// The first repository sync; follow it at `/api/v1/orgs/{org_id}/jobs/{job_id}`.
    pub job_id: String,
}

/// GitHub's setup URL: links the installation to the organisation in the state and syncs it, only
/// in the browser that got the install link, while its maker is still an admin, and for a GitHub
/// user who administers the installation's account.
#[utoipa::path(get, path = "/api/v1/github/setup", operation_id = "github_app_setup", tag = "github", params(SetupQuery),
    responses((status = 200, body = InstallLinkedOut),
              (status = 202, description = "Waiting for an owner's approval", body = PendingOut),
              (status = 400, description = "invalid_install_state, install_code_missing, oauth_code_invalid", body = ErrorEnvelope),
              (status = 403, description = "installation_not_yours, forbidden (the link's maker is no longer an admin)", body = ErrorEnvelope),
              (status = 409, description = "installation_linked_elsewhere", body = ErrorEnvelope)))]
pub async fn setup(
    State(state): State<AppState>,
    Client(meta): Client,
    headers: HeaderMap,
    ValidQuery(q): ValidQuery<SetupQuery>,
) -> Result<Response, ApiError> {
    let Some(installation_id) = q.installation_id else {
        // `setup_action=request`: an organisation owner must approve the install first; GitHub
        // sends the `installation` webhook (and the owner comes back through the setup URL) then.
        return Ok((
            StatusCode::ACCEPTED,
            Envelope(PendingOut {
                pending_approval: true,
            }),
        )
            .into_response());
    };
    let nonce = COOKIE.read(&state.services.config.public_url, &headers);
    let (org_id, job) = state
        .services
        .github_db()
        .complete_install(
            &state.state_keys.github_install,
            &meta,
            common::github::SetupCallback {
                state: &q.state,
                browser_nonce: nonce.as_deref(),
                installation_id: common::domain::InstallationId(installation_id),
                setup_action: q.setup_action.as_deref().unwrap_or("install"),
                code: q.code.as_deref(),
            },
        )
        .await?;
    let linked = InstallLinkedOut {
        org_id,
        installation_id,
        job_id: job.0,
    };
    Ok(COOKIE.clearing(&state.services.config.public_url, Envelope(linked)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PendingOut {
    /// The install waits for an organisation owner's approval.
    pub pending_approval: bool,
}
