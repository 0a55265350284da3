//! Connecting GitHub for repository access (`/api/v1/oauth/github/…`): the authorization-code flow
//! with the repository scopes, tokens (and the refresh token of expiring tokens) sealed, scopes
//! stored; listing, on-demand refresh, and disconnecting (the token is revoked at GitHub first).

use crate::domain::{AuditAction, AuditResource};
use reqwest::StatusCode;
use secrecy::ExposeSecret;
use serde_json::json;

use super::{
    Caller, ClientMeta, Identity, audit,
    github_login::{GithubUser, upstream},
    oauth_flow::{Flow, GithubAuthorize, OAuthCallback, OAuthGrant},
};
use crate::{
    Error,
    crypto::keyring::{Binding, SealedColumn},
    domain::{ConnectionId, ConnectionProvider, StateFlow},
    github::seal_pair,
    jobs::{self, JobId, RefreshOAuthToken},
    repo::{
        audit_logs::NewEntry,
        jobs as job_rows,
        oauth::{self, Connection},
    },
};

const CONNECT_CALLBACK: &str = "/api/v1/oauth/github/callback";

const CONNECT: Flow = Flow {
    state: StateFlow::GithubConnect,
    callback: CONNECT_CALLBACK,
    audit_action: AuditAction::OauthConnect,
};

impl Identity {
    /// Starts connecting the caller's GitHub account for repository access.
    pub async fn connect_authorize(&self, caller: Caller) -> Result<GithubAuthorize, Error> {
        self.oauth_start(
            &CONNECT,
            &self.config.github.repo_scopes,
            Some(caller.user_id),
        )
        .await
    }

    /// Completes the connect flow and stores the connection.
    pub async fn connect_callback(
        &self,
        meta: &ClientMeta,
        callback: &OAuthCallback<'_>,
    ) -> Result<Connection, Error> {
        let OAuthGrant {
            user,
            access,
            refresh,
            expires_at,
            scopes,
        } = self.oauth_finish(&CONNECT, meta, callback).await?;
        // A connect state always names the user who started it.
        let user = user.ok_or_else(|| {
            Error::rejected("invalid_oauth_state", "The connect state has no user.")
        })?;
        let gh: GithubUser = self.github_get(&access, "user").await?;
        let provider_user_id = gh.id.to_string();

        let mut tx = self.pool.begin().await?;
        let id = match oauth::find_by_provider_user(
            &mut *tx,
            ConnectionProvider::Github,
            &provider_user_id,
        )
        .await?
        {
            Some(existing) if existing.user_id != user => {
                return Err(Error::conflict(
                    "already_linked",
                    "This GitHub account is connected to another user.",
                ));
            }
            Some(existing) => {
                // Wait for any refresh in flight, so it cannot overwrite the new tokens.
                oauth::lock_for_refresh(&mut tx, existing.id).await?;
                let (a, r) =
                    seal_pair(&self.config.keyring, existing.id, &access, refresh.as_ref())?;
                oauth::store_tokens(&mut *tx, existing.id, &a, r.as_deref(), expires_at).await?;
                oauth::update_tokens(&mut *tx, existing.id, &gh.login, &scopes, &a).await?;
                existing.id
            }
            None => {
                let id = ConnectionId::new();
                let sealed = seal_pair(&self.config.keyring, id, &access, refresh.as_ref())?;
                oauth::upsert_repo_access(
                    &mut *tx,
                    oauth::NewRepoAccess {
                        id,
                        user,
                        provider_user_id: &provider_user_id,
                        login: &gh.login,
                        scopes: &scopes,
                        sealed,
                        token_expires_at: expires_at,
                    },
                )
                .await?
            }
        };
        let entry = NewEntry::success(AuditAction::OauthConnect)
            .actor(user)
            .resource(AuditResource::OauthConnection, id)
            .meta(json!({ "provider": ConnectionProvider::Github, "login": gh.login, "scopes": scopes, "expiring": refresh.is_some() }));
        audit(&mut *tx, meta, entry).await?;
        let connection = oauth::find_for_user(&mut *tx, user, id)
            .await?
            .ok_or(Error::NotFound)?;
        tx.commit().await?;
        Ok(connection)
    }

    pub async fn connections(&self, caller: Caller) -> Result<Vec<Connection>, Error> {
        oauth::list_for_user(&self.pool, caller.user_id).await
    }

    /// Enqueues a refresh of one of the caller's connections.
    pub async fn refresh_connection_now(
        &self,
        caller: Caller,
        id: ConnectionId,
    ) -> Result<JobId, Error> {
        let mut tx = self.pool.begin().await?;
        oauth::find_for_user(&mut *tx, caller.user_id, id)
            .await?
            .ok_or(Error::NotFound)?;
        let job = jobs::push(
            &mut tx,
            &RefreshOAuthToken {
                connection_id: id,
                force: true,
            },
        )
        .await?;
        job_rows::record_for_user(&mut *tx, caller.user_id, &job, "refresh_oauth_token").await?;
        tx.commit().await?;
        Ok(job)
    }

    /// Revokes the connection's token at GitHub, then deletes the connection.
    pub async fn disconnect_connection(
        &self,
        meta: &ClientMeta,
        caller: Caller,
        id: ConnectionId,
    ) -> Result<(), Error> {
        oauth::find_for_user(&self.pool, caller.user_id, id)
            .await?
            .ok_or(Error::NotFound)?;
        // Hold the refresh lock from reading the token to deleting the row: a refresh in flight
        // finishes first (and its token is the one revoked), none starts meanwhile.
        let mut tx = self.pool.begin().await?;
        oauth::lock_for_refresh(&mut tx, id).await?;
        let sealed = oauth::sealed_tokens(&mut *tx, id)
            .await?
            .ok_or(Error::NotFound)?;
        let row = id.to_string();
        let access = self.config.keyring.open(
            Binding::new(SealedColumn::OauthAccessToken, &row),
            &sealed.access_token_sealed,
        )?;
        let gh = &self.config.github;
        let (Some(client_id), Some(secret)) = (&gh.oauth_client_id, &gh.oauth_client_secret) else {
            return Err(Error::rejected(
                "oauth_not_configured",
                "GitHub OAuth is not configured on this server.",
            ));
        };
        let url = format!(
            "{}/applications/{client_id}/token",
            gh.api_url.as_str().trim_end_matches('/')
        );
        let res = self
            .http
            .delete(url)
            .basic_auth(client_id, Some(secret.expose_secret()))
            .header("Accept", "application/vnd.github+json")
            .json(&json!({ "access_token": access.expose_secret() }))
            .send()
            .await
            .map_err(|_| upstream("token revocation unreachable"))?;
        // 204 revoked; 404/422 the token was already invalid. Anything else: keep the connection.
        if !(res.status().is_success()
            || res.status() == StatusCode::NOT_FOUND
            || res.status() == StatusCode::UNPROCESSABLE_ENTITY)
        {
            return Err(upstream(format!(
                "token revocation answered {}",
                res.status().as_u16()
            )));
        }

        oauth::delete(&mut *tx, caller.user_id, id).await?;
        audit(
            &mut *tx,
            meta,
            NewEntry::success(AuditAction::OauthDisconnect)
                .actor(caller.user_id)
                .resource(AuditResource::OauthConnection, id),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
