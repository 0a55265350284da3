//! `/api/v1/orgs/{org_id}/integrations`: the organisation's integrations (Slack so far).
//! Credentials are write-only: responses show which fields are set and a masked hint of each.

use axum::{
    extract::{Path, State},
    http::StatusCode,
};
use chrono::{DateTime, Utc};
use common::{
    integrations::IntegrationIn,
    repo::integrations::{self, Integration},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    error::{ApiError, ApiResult, Envelope, ErrorEnvelope},
    extract::{Client, OrgMember, ValidJson, path_uuid, perm},
    state::AppState,
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntegrationCreateIn {
    /// `slack` (more types arrive with the integrations catalogue).
    #[serde(rename = "type")]
    pub kind: String,
    /// Unique within the organisation, 1–100 characters.
    pub name: String,
    #[serde(default = "empty_object")]
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
    /// For `slack`: `{"bot_token": "xoxb-…"}`. Never returned.
    /// Taken as any JSON and checked by RepoPal, so a malformed value is never echoed in an error.
    #[schema(value_type = Object)]
    pub credentials: serde_json::Value,
}

fn empty_object() -> serde_json::Value {
    serde_json::json!({})
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IntegrationOut {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub config: serde_json::Value,
    /// Each credential field that is set, with a masked hint (`…abcd`).
    pub credentials: serde_json::Value,
    pub enabled: bool,
    /// `active`, `degraded`, `error`, `disabled` or `reauth_required`.
    pub status: String,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Integration> for IntegrationOut {
    fn from(i: Integration) -> Self {
        Self {
            id: i.id,
            kind: i.kind,
            name: i.name,
            config: i.config,
            credentials: i.credential_hints,
            enabled: i.enabled,
            status: i.status,
            last_error: i.last_error,
            created_at: i.created_at,
            updated_at: i.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IntegrationListOut {
    pub items: Vec<IntegrationOut>,
}

/// Create an integration (org_admin); credentials are sealed and never returned.
#[utoipa::path(post, path = "/api/v1/orgs/{org_id}/integrations", tag = "integrations", security(("bearer" = [])),
    params(("org_id" = String, Path, format = Uuid)),
    request_body = IntegrationCreateIn,
    responses((status = 201, body = IntegrationOut), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create(
    State(state): State<AppState>,
    member: OrgMember<perm::IntegrationsManage>,
    Client(meta): Client,
    ValidJson(body): ValidJson<IntegrationCreateIn>,
) -> Result<(StatusCode, Envelope<IntegrationOut>), ApiError> {
    let row = common::integrations::create(
        &state.pool,
        &state.config.keyring,
        &meta,
        member.org_id,
        member.caller.user_id,
        IntegrationIn {
            kind: body.kind,
            name: body.name,
            config: body.config,
            credentials: body.credentials,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Envelope(row.into())))
}

/// The organisation's integrations (org_admin, team_lead).
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}/integrations", tag = "integrations", security(("bearer" = [])),
    params(("org_id" = String, Path, format = Uuid)),
    responses((status = 200, body = IntegrationListOut), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    member: OrgMember<perm::IntegrationsRead>,
) -> ApiResult<IntegrationListOut> {
    let rows = integrations::list(&state.pool, member.org_id).await?;
    Ok(Envelope(IntegrationListOut {
        items: rows.into_iter().map(Into::into).collect(),
    }))
}

/// One integration.
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}/integrations/{integration_id}", tag = "integrations", security(("bearer" = [])),
    params(("org_id" = String, Path, format = Uuid), ("integration_id" = String, Path, format = Uuid)),
    responses((status = 200, body = IntegrationOut), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(state): State<AppState>,
    member: OrgMember<perm::IntegrationsRead>,
    Path((_org, id)): Path<(String, String)>,
) -> ApiResult<IntegrationOut> {
    let row = integrations::find(&state.pool, member.org_id, path_uuid(&id)?)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Envelope(row.into()))
}

/// Delete an integration and its credentials (org_admin).
#[utoipa::path(delete, path = "/api/v1/orgs/{org_id}/integrations/{integration_id}", tag = "integrations", security(("bearer" = [])),
    params(("org_id" = String, Path, format = Uuid), ("integration_id" = String, Path, format = Uuid)),
    responses((status = 204), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn delete(
    State(state): State<AppState>,
    member: OrgMember<perm::IntegrationsManage>,
    Client(meta): Client,
    Path((_org, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    common::integrations::delete(
        &state.pool,
        &meta,
        member.org_id,
        member.caller.user_id,
        path_uuid(&id)?,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
