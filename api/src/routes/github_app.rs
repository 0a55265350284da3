//! Linking GitHub App installations to organisations: the install link and the setup callback.

use axum::extract::State;
use common::domain::OrgId;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use axum::http::StatusCode;

use crate::{
    error::{ApiError, ApiResult, Envelope, ErrorEnvelope},
    extract::{Client, OrgMember, ValidQuery, perm},
    state::AppState,
};

#[derive(Debug, Serialize, ToSchema)]
pub struct InstallLinkOut {
    /// Send the browser here; GitHub comes back to the setup callback with the state.
    pub url: String,
}

/// The GitHub App's install link for this organisation, with a signed state (org_admin).
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}/github/install", tag = "github", security(("bearer" = [])),
    params(("org_id" = String, Path, format = Uuid)),
    responses((status = 200, body = InstallLinkOut), (status = 400, description = "github_app_not_configured", body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn install_link(
    State(state): State<AppState>,
    member: OrgMember<perm::GithubManage>,
) -> ApiResult<InstallLinkOut> {
    let key = state.api.auth.jwt_signing_key.expose_secret().as_bytes();
    let url = common::github::install_url(
        &state.config.github,
        key,
        member.org_id,
        member.caller.user_id,
    )?;
    Ok(Envelope(InstallLinkOut { url }))
}

#[derive(Debug, Deserialize, IntoParams)]
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

/// GitHub's setup URL: links the installation to the organisation in the state and syncs it.
#[utoipa::path(get, path = "/api/v1/github/setup", tag = "github", params(SetupQuery),
    responses((status = 200, body = InstallLinkedOut),
              (status = 202, description = "Waiting for an owner's approval", body = PendingOut),
              (status = 400, description = "invalid_install_state, install_code_missing, oauth_code_invalid", body = ErrorEnvelope),
              (status = 403, description = "installation_not_yours", body = ErrorEnvelope),
              (status = 409, description = "installation_linked_elsewhere", body = ErrorEnvelope)))]
pub async fn setup(
    State(state): State<AppState>,
    Client(meta): Client,
    ValidQuery(q): ValidQuery<SetupQuery>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
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
    let key = state.api.auth.jwt_signing_key.expose_secret().as_bytes();
    let (org_id, job) = state
        .github
        .complete_install(
            key,
            &meta,
            &q.state,
            installation_id,
            q.setup_action.as_deref().unwrap_or("install"),
            q.code.as_deref(),
        )
        .await?;
    Ok(Envelope(InstallLinkedOut {
        org_id,
        installation_id,
        job_id: job.0,
    })
    .into_response())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PendingOut {
    /// The install waits for an organisation owner's approval.
    pub pending_approval: bool,
}
