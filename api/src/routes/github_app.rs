//! Linking GitHub App installations to organisations: the install link and the setup callback.

use axum::extract::State;
use common::domain::OrgId;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    error::{ApiResult, Envelope, ErrorEnvelope},
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
    pub installation_id: i64,
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
              (status = 400, description = "invalid_install_state", body = ErrorEnvelope),
              (status = 409, description = "installation_linked_elsewhere", body = ErrorEnvelope)))]
pub async fn setup(
    State(state): State<AppState>,
    Client(meta): Client,
    ValidQuery(q): ValidQuery<SetupQuery>,
) -> ApiResult<InstallLinkedOut> {
    let key = state.api.auth.jwt_signing_key.expose_secret().as_bytes();
    let (org_id, job) = common::github::complete_install(
        &state.pool,
        key,
        &meta,
        &q.state,
        q.installation_id,
        q.setup_action.as_deref().unwrap_or("install"),
    )
    .await?;
    Ok(Envelope(InstallLinkedOut {
        org_id,
        installation_id: q.installation_id,
        job_id: job.0,
    }))
}
