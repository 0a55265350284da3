//! Refreshing an integration's rotating token through its provider (`Provider::refresh`), once at
//! a time per integration: the row is locked meanwhile and re-read under the lock, so a single-use
//! refresh token is never sent twice.

use crate::domain::{AuditAction, AuditResource};
use serde_json::json;

use super::{
    credentials, decrypt, mark_refused,
    providers::{self, RefreshCx, RefreshFailure, Refreshed},
};
use crate::{
    Error,
    domain::{HealthStatus, IntegrationId, OrgId},
    github::{RefreshOutcome, RefreshWhen},
    repo::{
        audit_logs::{self, NewEntry},
        integrations,
    },
};

/// What a refused refresh token does to the integration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnRefusal {
    /// It becomes `reauth_required` (audit-logged): a scheduled refresh, a Slack post.
    MarkReauthRequired,
    /// Its health is left alone: a health check records the refusal as its own result.
    LeaveHealth,
}

/// One request to refresh an integration's token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshRequest {
    pub when: RefreshWhen,
    pub on_refusal: OnRefusal,
}

/// Refreshes integration `id` of `org` as `req` asks. A type whose tokens do not rotate, a
/// disabled integration or one already needing new credentials is `NotRefreshable`.
pub async fn refresh_token(
    cx: &RefreshCx<'_>,
    org: OrgId,
    id: IntegrationId,
    req: RefreshRequest,
) -> Result<RefreshOutcome, Error> {
    let mut tx = cx.pool.begin().await?;
    let row = integrations::lock(&mut tx, org, id)
        .await?
        .ok_or(Error::NotFound)?;
    let provider = providers::of(row.kind);
    if !provider.refreshes_tokens() || !row.enabled || row.status == HealthStatus::ReauthRequired {
        return Ok(RefreshOutcome::NotRefreshable);
    }
    if !req.when.goes_ahead(
        row.token_expires_at,
        row.last_refreshed_at,
        chrono::TimeDelta::seconds(30),
    ) {
        return Ok(RefreshOutcome::AlreadyFresh);
    }
    let creds = decrypt(cx.pool, cx.keyring, &row, "token_refresh").await?;
    match provider.refresh(cx, &creds).await {
        Ok(Refreshed {
            credentials: new,
            expires_at,
        }) => {
            let (sealed, hints) = credentials::seal(cx.keyring, id, &new)?;
            let refreshed = integrations::RefreshedCredentials {
                sealed: &sealed,
                hints: &hints,
                token_expires_at: expires_at,
            };
            integrations::store_refreshed(&mut *tx, org, id, &refreshed).await?;
            audit_logs::insert(
                &mut *tx,
                &NewEntry::success(AuditAction::IntegrationTokenRefresh)
                    .org(org)
                    .resource(AuditResource::Integration, id),
            )
            .await?;
            tx.commit().await?;
            Ok(RefreshOutcome::Refreshed)
        }
        Err(RefreshFailure::NotRefreshable) => Ok(RefreshOutcome::NotRefreshable),
        Err(RefreshFailure::Refused { code, message }) => {
            if req.on_refusal == OnRefusal::MarkReauthRequired {
                mark_refused(&mut tx, org, id, None, &message).await?;
            }
            audit_logs::insert(
                &mut *tx,
                &NewEntry::failure(AuditAction::IntegrationTokenRefresh)
                    .org(org)
                    .resource(AuditResource::Integration, id)
                    .meta(json!({"error": code})),
            )
            .await?;
            tx.commit().await?;
            Ok(RefreshOutcome::ReauthRequired)
        }
        Err(RefreshFailure::Unavailable(message)) => Err(Error::Upstream {
            provider: row.kind.into(),
            message,
        }),
    }
}
