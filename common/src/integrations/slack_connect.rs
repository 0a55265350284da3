//! Connecting Slack with OAuth v2 ("Add to Slack"), and refreshing rotating Slack tokens.
//!
//! The authorize link carries a state signed with the Slack-connect key, naming the organisation
//! and the admin who asked and bound to a cookie nonce in that admin's browser; it expires, works
//! once, only in that browser and only while its maker is still an admin. The callback exchanges
//! the code for the bot token (plus refresh token and expiry when token rotation is on) and creates
//! the organisation's Slack integration for that workspace, or gives an existing one the new
//! credentials.

use crate::domain::{AuditAction, AuditResource};
use chrono::Utc;
use serde_json::json;
use sqlx::PgPool;

use super::{credentials, providers, whole_second};
use crate::{
    Error,
    crypto::{keyring::Keyring, purpose_keys::PurposeKey, signed_state},
    domain::{IntegrationKind, OrgId, Permission, StateFlow, UserId},
    identity::{ClientMeta, audit},
    repo::{
        audit_logs::NewEntry,
        integrations::{self, Integration, NewCredentials, NewIntegration},
        oauth_states, orgs,
    },
    slack::{Slack, SlackError},
};

const STATE_TTL_SECS: i64 = 600;

/// Where to send the browser, and the nonce to set as its cookie.
#[derive(Debug, Clone)]
pub struct SlackAuthorize {
    pub url: String,
    pub browser_nonce: String,
}

/// The "Add to Slack" flow.
pub struct SlackConnect<'a> {
    pub slack: &'a Slack,
    pub pool: &'a PgPool,
    pub keyring: &'a Keyring,
    /// Signs the state (the Slack-connect purpose key).
    pub state_key: &'a PurposeKey,
    pub public_url: &'a url::Url,
}

impl SlackConnect<'_> {
    fn redirect_uri(&self) -> String {
        let mut url = self.public_url.clone();
        url.set_path("/api/v1/slack/callback");
        url.to_string()
    }

    /// Slack's authorize page for `org`, started by `user`, and the nonce for the browser cookie.
    pub fn authorize_url(&self, org: OrgId, user: UserId) -> Result<SlackAuthorize, Error> {
        let started = signed_state::start(self.state_key, org, user, STATE_TTL_SECS);
        let url = self
            .slack
            .authorize_url(&started.state, &self.redirect_uri())
            .map_err(|e| Error::rejected("slack_oauth_not_configured", e.to_string()))?;
        Ok(SlackAuthorize {
            url,
            browser_nonce: started.browser_nonce,
        })
    }

    /// Completes the flow: the organisation's Slack integration for the workspace, new or updated.
    /// `browser_nonce` is the cookie the browser presented with the callback.
    pub async fn complete(
        &self,
        meta: &ClientMeta,
        code: &str,
        state: &str,
        browser_nonce: Option<&str>,
    ) -> Result<Integration, Error> {
        let invalid_state = || {
            Error::rejected(
                "invalid_oauth_state",
                "The Slack link is invalid, expired, already used or was started in another browser; start again.",
            )
        };
        let claims = signed_state::verify(self.state_key, state).ok_or_else(invalid_state)?;
        let (org, user) = (claims.org, claims.user);
        // None when the maker left (or the organisation or the user is gone).
        let role = orgs::role_of(self.pool, org, user).await?;
        if !signed_state::same_browser(&claims, browser_nonce) {
            let mut entry = NewEntry::failure(AuditAction::IntegrationCreate).meta(
                json!({"type": IntegrationKind::Slack, "via": "oauth", "reason": "other_browser"}),
            );
            // Only a current membership proves both rows still exist for the audit's references.
            if role.is_some() {
                entry = entry.org(org).actor(user);
            }
            audit(self.pool, meta, entry).await?;
            return Err(invalid_state());
        }
        if !oauth_states::use_once(
            self.pool,
            &crate::crypto::tokens::hash(state),
            StateFlow::SlackConnect,
        )
        .await?
        {
            return Err(invalid_state());
        }
        // The link dies with its maker's admin rights (checked after the state is used up).
        if !role.is_some_and(|r| r.allows(Permission::IntegrationsManage)) {
            return Err(Error::forbidden(
                "forbidden",
                "The Slack link was made by someone who no longer administers this organisation.",
            ));
        }
        let grant = self
            .slack
            .exchange_code(code, &self.redirect_uri())
            .await
            .map_err(|e| match e {
                SlackError::Transient(m) => Error::Upstream {
                    provider: crate::domain::Upstream::Slack,
                    message: m,
                },
                other => Error::rejected(
                    "oauth_code_invalid",
                    format!("Slack refused the code: {other}"),
                ),
            })?;
        let team_id = grant.team_id.clone().unwrap_or_default();
        let team_name = grant.team_name.clone().unwrap_or_else(|| team_id.clone());
        let config = json!({"team_id": team_id, "team_name": team_name});
        let creds = providers::grant_credentials(&grant, None);
        let expires_at = providers::grant_expiry(&grant);
        let due = whole_second(Utc::now());
        let existing = integrations::find_slack_team(self.pool, org, &team_id).await?;
        let id = existing.unwrap_or_default();
        let (sealed, hints) = credentials::seal(self.keyring, id, &creds)?;
        let mut tx = self.pool.begin().await?;
        let row = if existing.is_some() {
            integrations::lock(&mut tx, org, id).await?;
            integrations::merge_config(&mut *tx, org, id, &config).await?;
            integrations::replace_credentials(
                &mut *tx,
                org,
                id,
                &NewCredentials {
                    config: None,
                    sealed: &sealed,
                    hints: &hints,
                    token_expires_at: expires_at,
                    next_check_at: due,
                },
            )
            .await?
            .ok_or(Error::NotFound)?
        } else {
            integrations::insert(
                &mut *tx,
                &NewIntegration {
                    id,
                    org,
                    kind: IntegrationKind::Slack,
                    name: &format!("Slack {team_name}"),
                    config: &config,
                    credentials_sealed: &sealed,
                    credential_hints: &hints,
                    created_by: Some(user),
                    token_expires_at: expires_at,
                    next_check_at: due,
                },
            )
            .await?
        };
        if row.enabled {
            super::schedule_check(&mut tx, id, due).await?;
        }
        audit(
            &mut *tx,
            meta,
            NewEntry::success(if existing.is_some() {
                AuditAction::IntegrationCredentialsUpdate
            } else {
                AuditAction::IntegrationCreate
            })
            .org(org)
            .actor(user)
            .resource(AuditResource::Integration, id)
            .meta(json!({"type": IntegrationKind::Slack, "via": "oauth", "team_id": team_id,
                         "credential_fields": credentials::fields(&hints), "rotation": expires_at.is_some()})),
        )
        .await?;
        tx.commit().await?;
        Ok(row)
    }
}
