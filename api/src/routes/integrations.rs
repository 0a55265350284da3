//! `/api/v1/orgs/{org_id}/integrations`: the organisation's integrations. Credentials are
//! write-only: responses show which fields are set and a masked hint of each. Actions on one
//! integration are in `integration_actions`, health and metrics in `integration_health`.

use axum::{
    extract::{Path, State},
    http::StatusCode,
};
use chrono::{DateTime, Utc};
use common::{
    domain::{CheckOutcome, HealthStatus, IntegrationId, IntegrationKind, RecoveryAction},
    integrations::{IntegrationIn, TestReport, catalogue},
    repo::integrations::{self, Integration},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::DoneOut;
use crate::extract::IntegrationPath;
use crate::{
    error::{ApiError, ApiResult, Envelope, ErrorEnvelope},
    extract::{ActOn, Client, OrgMember, ValidJson, ValidQuery, path_uuid, perm},
    list::{ByName, PageQuery, page_whole},
    pagination,
    state::AppState,
};

/// No `Debug`: it holds plaintext credentials.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntegrationCreateIn {
    /// One of the catalogue's types (`GET /api/v1/integration-types`).
    #[serde(rename = "type")]
    #[schema(value_type = common::domain::IntegrationKind)]
    pub kind: String,
    /// Unique within the organisation, 1–100 characters.
    #[schema(value_type = crate::request_formats::IntegrationName)]
    pub name: String,
    /// Checked against the type's `config_schema`.
    #[serde(default = "empty_object")]
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
    /// Checked against the type's `credentials_schema`; never returned. Taken as any JSON and
    /// checked by RepoPal, so a malformed value is never echoed in an error.
    #[serde(default = "empty_object")]
    #[schema(value_type = Object)]
    pub credentials: serde_json::Value,
}

fn empty_object() -> serde_json::Value {
    serde_json::json!({})
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntegrationUpdateIn {
    #[schema(value_type = Option<crate::request_formats::IntegrationName>)]
    pub name: Option<String>,
    /// Replaces the whole config; checked against the type's `config_schema`.
    #[schema(value_type = Option<Object>)]
    pub config: Option<serde_json::Value>,
}

/// No `Debug`: it holds plaintext credentials.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialsIn {
    /// The complete new credentials, checked against the type's `credentials_schema` and then
    /// tested; never returned.
    #[schema(value_type = Object)]
    pub credentials: serde_json::Value,
    /// A new config to test them against and store with them: needed to move credentials to
    /// another server (`server_url`/`url` with a new origin).
    #[schema(value_type = Option<Object>)]
    pub config: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IntegrationOut {
    pub id: IntegrationId,
    #[serde(rename = "type")]
    pub kind: IntegrationKind,
    pub name: String,
    pub config: serde_json::Value,
    /// Each credential field that is set, with a masked hint (`…abcd`).
    pub credentials: serde_json::Value,
    pub enabled: bool,
    pub status: HealthStatus,
    pub last_error: Option<String>,
    pub last_check_at: Option<DateTime<Utc>>,
    pub next_check_at: Option<DateTime<Utc>>,
    /// When a rotating token (Slack) expires; it is refreshed before then.
    pub token_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When the last sync ran (types that sync, such as Argo CD).
    pub last_sync_at: Option<DateTime<Utc>>,
    /// When the next scheduled sync is due (every `config.sync_interval` seconds).
    pub next_sync_at: Option<DateTime<Utc>>,
    /// The last sync's outcome: `ok`, `error`, `applications`, `removed`, `opened`, `resolved`.
    #[schema(value_type = Option<Object>)]
    pub last_sync: Option<serde_json::Value>,
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
            last_check_at: i.last_check_at,
            next_check_at: i.next_check_at,
            token_expires_at: i.token_expires_at,
            created_at: i.created_at,
            updated_at: i.updated_at,
            last_sync_at: i.last_sync_at,
            next_sync_at: i.next_sync_at,
            last_sync: i.last_sync,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IntegrationListOut {
    pub items: Vec<IntegrationOut>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IntegrationQuery {
    /// `active`, `degraded`, `error`, `disabled` or `reauth_required`.
    #[param(value_type = Option<HealthStatus>)]
    pub status: Option<String>,
    /// An integration type.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<String>,
    /// The `next_cursor` of the previous page, passed back unchanged.
    pub cursor: Option<String>,
    /// Items per page: 1–200, default 50.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TestOut {
    pub ok: bool,
    pub status: CheckOutcome,
    pub latency_ms: i32,
    /// Requests sent, retries included.
    pub attempts: i32,
    pub error: Option<String>,
    /// What the provider reported (account, team, applications, HTTP status, …).
    pub details: serde_json::Value,
    /// A recovery action taken while testing.
    pub action: Option<RecoveryAction>,
}

impl From<TestReport> for TestOut {
    fn from(r: TestReport) -> Self {
        Self {
            ok: r.ok,
            status: CheckOutcome::of(r.ok),
            latency_ms: r.latency_ms,
            attempts: r.attempts,
            error: r.error(),
            details: r.details,
            action: r.action,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CredentialsOut {
    pub integration: IntegrationOut,
    /// The connection test the new credentials passed.
    pub test: TestOut,
}

/// Create an integration (org_admin); credentials are sealed and never returned. Its first health
/// check runs at once.
#[utoipa::path(post, path = "/api/v1/orgs/{org_id}/integrations", operation_id = "integrations_create", tag = "integrations", security(("bearer" = [])),
    params(("org_id" = String, Path, format = Uuid)),
    request_body = IntegrationCreateIn,
    responses((status = 201, body = IntegrationOut), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 409, body = ErrorEnvelope), (status = 422, description = "validation_failed: each failing field; destination_not_allowed: a URL the outbound policy refuses (OUTBOUND_ALLOWED_CIDRS)", body = ErrorEnvelope)))]
pub async fn create(
    State(state): State<AppState>,
    member: OrgMember<perm::IntegrationsManage>,
    Client(meta): Client,
    ValidJson(body): ValidJson<IntegrationCreateIn>,
) -> Result<(StatusCode, Envelope<IntegrationOut>), ApiError> {
    let row = common::integrations::create(
        &state.services,
        &member.acting(&meta),
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

/// The organisation's integrations, by name (org_admin, team_lead).
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}/integrations", operation_id = "integrations_list", tag = "integrations", security(("bearer" = [])),
    params(("org_id" = String, Path, format = Uuid), IntegrationQuery),
    responses((status = 200, body = IntegrationListOut), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    member: OrgMember<perm::IntegrationsRead>,
    ValidQuery(q): ValidQuery<IntegrationQuery>,
) -> ApiResult<IntegrationListOut> {
    let statuses: Vec<&str> = HealthStatus::ALL.iter().map(|s| s.as_str()).collect();
    pagination::one_of("status", q.status.as_deref(), &statuses)?;
    pagination::one_of("type", q.kind.as_deref(), &catalogue::kinds())?;
    let filter = integrations::Filter {
        status: q.status.as_deref().and_then(|s| s.parse().ok()),
        kind: q.kind.as_deref().and_then(|k| k.parse().ok()),
    };
    let rows = integrations::list(&state.services.pool, member.org_id, &filter).await?;
    let page = PageQuery {
        cursor: q.cursor,
        limit: q.limit,
    };
    // By name, then id: NUL cannot occur in a name, so it separates the two.
    let (rows, next_cursor) =
        page_whole(rows, &page, |r| ByName(format!("{}\0{}", r.name, r.id.0)))?;
    Ok(Envelope(IntegrationListOut {
        items: rows.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

/// One integration.
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}/integrations/{integration_id}", operation_id = "integrations_get", tag = "integrations", security(("bearer" = [])),
    params(IntegrationPath),
    responses((status = 200, body = IntegrationOut), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(state): State<AppState>,
    member: OrgMember<perm::IntegrationsRead>,
    Path(IntegrationPath {
        integration_id: id, ..
    }): Path<IntegrationPath>,
) -> ApiResult<IntegrationOut> {
    let row = integrations::find(&state.services.pool, member.org_id, integration_id(&id)?)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Envelope(row.into()))
}

/// Change the name and/or config (org_admin).
#[utoipa::path(patch, path = "/api/v1/orgs/{org_id}/integrations/{integration_id}", operation_id = "integrations_update", tag = "integrations", security(("bearer" = [])),
    params(IntegrationPath),
    request_body = IntegrationUpdateIn,
    responses((status = 200, body = IntegrationOut), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn update(
    on: ManageIntegration,
    ValidJson(body): ValidJson<IntegrationUpdateIn>,
) -> ApiResult<IntegrationOut> {
    let row = common::integrations::update(
        &on.state.services,
        &on.acting(),
        on.id()?,
        common::integrations::IntegrationPatch {
            name: body.name,
            config: body.config,
        },
    )
    .await?;
    Ok(Envelope(row.into()))
}

/// Delete an integration, its credentials and its health history (org_admin).
#[utoipa::path(delete, path = "/api/v1/orgs/{org_id}/integrations/{integration_id}", operation_id = "integrations_delete", tag = "integrations", security(("bearer" = [])),
    params(IntegrationPath),
    responses((status = 200, description = "Deleted", body = DoneOut), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn delete(on: ManageIntegration) -> ApiResult<DoneOut> {
    common::integrations::delete(&on.state.services.pool, &on.acting(), on.id()?).await?;
    Ok(Envelope(DoneOut { ok: true }))
}

/// An org_admin acting on the integration the path names.
pub(super) type ManageIntegration = ActOn<perm::IntegrationsManage, IntegrationPath>;

/// An integration id from the path; not a UUID is not found.
pub(super) fn integration_id(raw: &str) -> Result<IntegrationId, ApiError> {
    path_uuid(raw).map(IntegrationId)
}
