//! `/api/v1/orgs/{org_id}/integrations/{integration_id}/…`: actions on one integration: enable,
//! disable, replace its credentials, test it, sync it, read its log.

use axum::{
    extract::{Path, State},
    http::StatusCode,
};
use common::{
    domain::AuditResource,
    integrations::{SyncOutcome, Toggle},
    repo::{audit_logs::Filter, integrations},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    audit_logs::{AuditPageOut, page_out},
    integrations::{
        CredentialsIn, CredentialsOut, IntegrationOut, ManageIntegration, TestOut, integration_id,
    },
};
use crate::extract::IntegrationPath;
use crate::{
    error::{ApiError, ApiResult, Envelope, ErrorEnvelope},
    extract::{OrgMember, ValidJson, ValidQuery, perm},
    pagination,
    state::AppState,
};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
}

/// What syncing did: a job started, or nothing to sync for this type.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncOut {
    /// Whether a sync job was enqueued.
    pub started: bool,
    /// The job doing it (`GET /api/v1/orgs/{org_id}/jobs/{job_id}`).
    pub job_id: Option<String>,
    /// Why there is nothing to sync, when there is not.
    pub reason: Option<&'static str>,
}

async fn switch(on: ManageIntegration, toggle: Toggle) -> ApiResult<IntegrationOut> {
    let row =
        common::integrations::set_enabled(&on.state.services.pool, &on.acting(), on.id()?, toggle)
            .await?;
    Ok(Envelope(row.into()))
}

/// Enable: used again, health starts afresh and is checked at once (org_admin). An integration
/// in `reauth_required` stays so until its credentials are replaced.
#[utoipa::path(post, path = "/api/v1/orgs/{org_id}/integrations/{integration_id}/enable", operation_id = "integrations_enable", tag = "integrations", security(("bearer" = [])),
    params(IntegrationPath),
    responses((status = 200, body = IntegrationOut), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn enable(on: ManageIntegration) -> ApiResult<IntegrationOut> {
    switch(on, Toggle::Enable).await
}

/// Disable: not used and not checked (org_admin).
#[utoipa::path(post, path = "/api/v1/orgs/{org_id}/integrations/{integration_id}/disable", operation_id = "integrations_disable", tag = "integrations", security(("bearer" = [])),
    params(IntegrationPath),
    responses((status = 200, body = IntegrationOut), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn disable(on: ManageIntegration) -> ApiResult<IntegrationOut> {
    switch(on, Toggle::Disable).await
}

/// Replace the credentials: they are tested first, and kept only when the test passes
/// (otherwise 400 `credentials_test_failed` and the old ones stay). Resets the health (org_admin).
#[utoipa::path(patch, path = "/api/v1/orgs/{org_id}/integrations/{integration_id}/credentials", operation_id = "integrations_replace_credentials", tag = "integrations", security(("bearer" = [])),
    params(IntegrationPath),
    request_body = CredentialsIn,
    responses((status = 200, body = CredentialsOut), (status = 400, description = "credentials_test_failed", body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn replace_credentials(
    on: ManageIntegration,
    ValidJson(body): ValidJson<CredentialsIn>,
) -> ApiResult<CredentialsOut> {
    let (row, report) = common::integrations::replace_credentials(
        &on.state.services,
        &on.acting(),
        on.id()?,
        common::integrations::CredentialsIn {
            credentials: body.credentials,
            config: body.config,
        },
    )
    .await?;
    Ok(Envelope(CredentialsOut {
        integration: row.into(),
        test: report.into(),
    }))
}

/// Run the connection test now with the stored credentials: status, latency and details
/// (org_admin). Recorded in the health history; the health state is left to the scheduled checks.
#[utoipa::path(post, path = "/api/v1/orgs/{org_id}/integrations/{integration_id}/test", operation_id = "integrations_test", tag = "integrations", security(("bearer" = [])),
    params(IntegrationPath),
    responses((status = 200, body = TestOut), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn test(on: ManageIntegration) -> ApiResult<TestOut> {
    let report = common::integrations::test_now(&on.state.services, &on.acting(), on.id()?).await?;
    Ok(Envelope(report.into()))
}

/// The integration's log: its audit trail (created, changed, credentials replaced or decrypted,
/// tested, enabled, disabled, health transitions), newest first (org_admin, team_lead).
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}/integrations/{integration_id}/logs", operation_id = "integrations_logs", tag = "integrations", security(("bearer" = [])),
    params(IntegrationPath, LogQuery),
    responses((status = 200, body = AuditPageOut), (status = 400, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope)))]
pub async fn logs(
    State(state): State<AppState>,
    member: OrgMember<perm::IntegrationsRead>,
    Path(IntegrationPath {
        integration_id: id, ..
    }): Path<IntegrationPath>,
    ValidQuery(q): ValidQuery<LogQuery>,
) -> ApiResult<AuditPageOut> {
    let id = integration_id(&id)?;
    integrations::find(&state.services.pool, member.org_id, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let limit = pagination::limit(q.limit, 50, 200)?;
    let before_id = pagination::id_cursor(q.cursor.as_deref())?;
    let filter = Filter {
        resource: Some((AuditResource::Integration, id.to_string())),
        before_id,
        limit: limit + 1,
        ..Filter::default()
    };
    let entries = state.identity.audit_log(member.org_id, &filter).await?;
    Ok(Envelope(page_out(entries, limit)))
}

/// Sync: copy what RepoPal keeps of the integration afresh (org_admin). A GitHub App installation
/// lists its repositories again, Argo CD its applications (202 with the job id); other types have
/// nothing to sync and say so (200).
#[utoipa::path(post, path = "/api/v1/orgs/{org_id}/integrations/{integration_id}/sync", operation_id = "integrations_sync", tag = "integrations", security(("bearer" = [])),
    params(IntegrationPath),
    responses((status = 202, description = "A sync job started", body = SyncOut),
              (status = 200, description = "Nothing to sync for this type", body = SyncOut),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn sync(on: ManageIntegration) -> Result<(StatusCode, Envelope<SyncOut>), ApiError> {
    let outcome =
        common::integrations::sync(&on.state.services.pool, &on.acting(), on.id()?).await?;
    Ok(match outcome {
        SyncOutcome::Enqueued(job) => (
            StatusCode::ACCEPTED,
            Envelope(SyncOut {
                started: true,
                job_id: Some(job.to_string()),
                reason: None,
            }),
        ),
        SyncOutcome::NothingToSync(reason) => (
            StatusCode::OK,
            Envelope(SyncOut {
                started: false,
                job_id: None,
                reason: Some(reason),
            }),
        ),
    })
}
