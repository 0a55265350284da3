//! `/api/v1/integration-types`: the catalogue of integration types with the JSON Schemas their
//! `config` and `credentials` are validated against.

use axum::extract::{Path, State};
use common::{
    domain::IntegrationKind,
    integrations::catalogue::{self, IntegrationType},
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::extract::TypePath;
use crate::{
    error::{ApiError, ApiResult, Envelope, ErrorEnvelope},
    extract::{CurrentUser, ValidQuery},
    list::{ByName, PageQuery, page_whole},
    state::AppState,
};

#[derive(Debug, Serialize, ToSchema)]
pub struct IntegrationTypeOut {
    #[serde(rename = "type")]
    pub kind: IntegrationKind,
    pub title: &'static str,
    pub description: &'static str,
    /// What `POST …/integrations/{id}/test` and the health checks do.
    pub connection_test: &'static str,
    /// Also connectable through an OAuth flow (Slack: `GET /api/v1/orgs/{org_id}/slack/authorize`).
    pub oauth: bool,
    /// JSON Schema (2020-12) of `config`.
    #[schema(value_type = Object)]
    pub config_schema: serde_json::Value,
    /// JSON Schema (2020-12) of `credentials` (write-only).
    #[schema(value_type = Object)]
    pub credentials_schema: serde_json::Value,
}

impl From<&IntegrationType> for IntegrationTypeOut {
    fn from(t: &IntegrationType) -> Self {
        Self {
            kind: t.kind,
            title: t.title,
            description: t.description,
            connection_test: t.connection_test,
            oauth: t.oauth,
            config_schema: t.config_schema.clone(),
            credentials_schema: t.credentials_schema.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IntegrationTypeListOut {
    pub items: Vec<IntegrationTypeOut>,
    pub next_cursor: Option<String>,
}

/// Every integration type with its schemas (any signed-in user).
#[utoipa::path(get, path = "/api/v1/integration-types", operation_id = "integration_types_list", tag = "integrations", security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, body = IntegrationTypeListOut), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope)))]
pub async fn list(
    State(_state): State<AppState>,
    _user: CurrentUser,
    ValidQuery(q): ValidQuery<PageQuery>,
) -> ApiResult<IntegrationTypeListOut> {
    let all: Vec<IntegrationTypeOut> = catalogue::all().iter().map(Into::into).collect();
    let (items, next_cursor) = page_whole(all, &q, |t| ByName(t.kind.to_string()))?;
    Ok(Envelope(IntegrationTypeListOut { items, next_cursor }))
}

/// One integration type.
#[utoipa::path(get, path = "/api/v1/integration-types/{type}", operation_id = "integration_types_get", tag = "integrations", security(("bearer" = [])),
    params(TypePath),
    responses((status = 200, body = IntegrationTypeOut), (status = 401, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(_state): State<AppState>,
    _user: CurrentUser,
    Path(TypePath { kind }): Path<TypePath>,
) -> ApiResult<IntegrationTypeOut> {
    let kind: IntegrationKind = kind.parse().map_err(|_| ApiError::not_found())?;
    let t = catalogue::find(kind).ok_or_else(ApiError::not_found)?;
    Ok(Envelope(t.into()))
}
