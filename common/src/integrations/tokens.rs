//! Stored tokens used outside checks: the organisation's Slack bot token, and marking refused
//! credentials `reauth_required`.

use crate::domain::{AuditAction, AuditResource};
use secrecy::SecretString;
use serde_json::{Map, Value, json};
use sqlx::{PgConnection, PgPool};

use super::decrypt;
use crate::{
    Error,
    crypto::keyring::Keyring,
    domain::{HealthStatus, IntegrationId, IntegrationKind, OrgId},
    repo::{
        audit_logs::NewEntry,
        integrations::{self},
    },
};

/// A usable Slack bot token and where it came from.
pub struct SlackToken {
    pub integration: IntegrationId,
    pub token: SecretString,
    /// The sealed credentials it was read from: a refusal of this token marks the integration only
    /// while they are still the stored ones.
    pub sealed: Option<String>,
}

/// The channels the organisation's Slack bot can see, for the console's channel pickers; `None`
/// when no Slack integration is usable or Slack did not answer (the form then takes typed names).
pub async fn slack_channels(
    services: &crate::services::Services,
    org: OrgId,
) -> Result<Option<Vec<crate::slack::Channel>>, Error> {
    let Some(token) = slack_bot_token(
        &services.pool,
        &services.keyring,
        org,
        "slack_channel_picker",
    )
    .await?
    else {
        return Ok(None);
    };
    Ok(channels_with(services, &token).await)
}

/// The channels the bot of Slack integration `id` can see (its own workspace's), for the alert
/// channel picker; `None` when it is not a usable Slack integration or Slack did not answer.
pub async fn slack_channels_of(
    services: &crate::services::Services,
    org: OrgId,
    id: IntegrationId,
) -> Result<Option<Vec<crate::slack::Channel>>, Error> {
    let Some(row) = integrations::sealed(&services.pool, org, id).await? else {
        return Ok(None);
    };
    let usable = row.kind == IntegrationKind::Slack
        && row.enabled
        && !matches!(
            row.status,
            HealthStatus::Disabled | HealthStatus::ReauthRequired
        )
        && row.credentials_sealed.is_some();
    if !usable {
        return Ok(None);
    }
    let token = bot_token_of(
        &services.pool,
        &services.keyring,
        &row,
        "slack_channel_picker",
    )
    .await?;
    Ok(channels_with(services, &token).await)
}

async fn channels_with(
    services: &crate::services::Services,
    token: &SlackToken,
) -> Option<Vec<crate::slack::Channel>> {
    match services.slack.channels(&token.token).await {
        Ok(channels) => Some(channels),
        Err(e) => {
            tracing::warn!(error = %e, "listing Slack channels failed");
            None
        }
    }
}

/// The organisation's usable Slack bot token, decrypted (and the decrypt audit-logged with its
/// purpose), or `None` when no Slack integration is usable.
pub async fn slack_bot_token(
    pool: &PgPool,
    keyring: &Keyring,
    org: OrgId,
    purpose: &str,
) -> Result<Option<SlackToken>, Error> {
    match integrations::usable_of_kind(pool, org, IntegrationKind::Slack).await? {
        Some(row) => bot_token_of(pool, keyring, &row, purpose).await.map(Some),
        None => Ok(None),
    }
}

/// The bot token of this Slack integration, decrypted (audit-logged with its purpose).
pub async fn bot_token_of(
    pool: &PgPool,
    keyring: &Keyring,
    row: &integrations::Sealed,
    purpose: &str,
) -> Result<SlackToken, Error> {
    let creds: Map<String, Value> = decrypt(pool, keyring, row, purpose).await?;
    let token = creds
        .get("bot_token")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::Invalid("the Slack integration has no bot_token".into()))?;
    Ok(SlackToken {
        integration: row.id,
        token: SecretString::from(token.to_owned()),
        sealed: row.credentials_sealed.clone(),
    })
}

/// A provider refused the credentials outside a check (a token refresh, a Slack post): the
/// integration becomes `reauth_required` (no more checks), and the transition is audit-logged.
/// With `refused_sealed`, only while those are still the stored credentials (new ones may have
/// arrived meanwhile).
pub async fn mark_refused(
    conn: &mut PgConnection,
    org: OrgId,
    id: IntegrationId,
    refused_sealed: Option<&str>,
    error: &str,
) -> Result<(), Error> {
    if let Some(before) =
        integrations::mark_reauth_required(&mut *conn, org, id, refused_sealed, error).await?
    {
        crate::repo::audit_logs::insert(
            &mut *conn,
            &NewEntry::success(AuditAction::IntegrationHealthTransition)
                .org(org)
                .resource(AuditResource::Integration, id)
                .meta(json!({"from": before, "to": HealthStatus::ReauthRequired, "error": error})),
        )
        .await?;
    }
    Ok(())
}
