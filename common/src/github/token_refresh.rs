//! Refreshing users' GitHub tokens: one refresh per connection at a time across all workers (a
//! transaction-scoped advisory lock), and the stored credentials are re-read after taking the lock,
//! so a single-use refresh token is never sent twice. `bad_refresh_token` / `invalid_grant` mark the
//! connection `reauth_required` (no retry); network errors and 5xx are retried by the job.

use chrono::{DateTime, Utc};
use oauth2::{RefreshToken, TokenResponse};
use secrecy::{ExposeSecret, SecretString};

use super::GithubDb;
use crate::{
    Error,
    crypto::keyring::{Binding, SealedColumn},
    domain::{ConnectionId, ConnectionStatus},
    repo::oauth,
};

/// Refresh tokens early: this long before the access token expires.
pub const REFRESH_MARGIN: chrono::TimeDelta = chrono::TimeDelta::minutes(30);

/// When a refresh goes ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshWhen {
    /// Only when the token expires within `REFRESH_MARGIN` (the scheduled refresh).
    Due,
    /// Now, unless it was refreshed moments ago (a provider said the token expired, or a client
    /// asked).
    Now,
}

impl RefreshWhen {
    /// Whether a token expiring at `expires_at` and last refreshed at `last_refreshed_at` is
    /// refreshed now: not when it was refreshed within `recent`, and, for `Due`, only when it
    /// expires within `REFRESH_MARGIN`.
    pub fn goes_ahead(
        self,
        expires_at: Option<DateTime<Utc>>,
        last_refreshed_at: Option<DateTime<Utc>>,
        recent: chrono::TimeDelta,
    ) -> bool {
        let now = Utc::now();
        let fresh = expires_at.is_some_and(|exp| exp - REFRESH_MARGIN > now);
        let just_refreshed = last_refreshed_at.is_some_and(|at| at > now - recent);
        !((fresh && self == Self::Due) || just_refreshed)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshOutcome {
    Refreshed,
    /// Another refresh got there first (or it was refreshed within the last minute).
    AlreadyFresh,
    /// Not active, or no refresh token (non-expiring token).
    NotRefreshable,
    /// GitHub refused the refresh token: the user must connect again.
    ReauthRequired,
}

/// Seals a token pair for a connection row.
pub fn seal_pair(
    keyring: &crate::crypto::keyring::Keyring,
    id: ConnectionId,
    access: &SecretString,
    refresh: Option<&SecretString>,
) -> Result<(String, Option<String>), Error> {
    let row = id.to_string();
    let access = keyring.seal(Binding::new(SealedColumn::OauthAccessToken, &row), access)?;
    let refresh = refresh
        .map(|r| keyring.seal(Binding::new(SealedColumn::OauthRefreshToken, &row), r))
        .transpose()?;
    Ok((access, refresh))
}

impl GithubDb<'_> {
    /// Refreshes one connection's tokens if it needs it.
    pub async fn refresh_connection(
        &self,
        id: ConnectionId,
        when: RefreshWhen,
    ) -> Result<RefreshOutcome, Error> {
        let client = super::oauth_client(&self.config, None)?;
        let mut tx = self.pool.begin().await?;
        oauth::lock_for_refresh(&mut tx, id).await?;
        let tokens = oauth::sealed_tokens(&mut *tx, id)
            .await?
            .ok_or(Error::NotFound)?;
        if tokens.status != ConnectionStatus::Active {
            return Ok(RefreshOutcome::NotRefreshable);
        }
        if !when.goes_ahead(
            tokens.token_expires_at,
            tokens.last_refreshed_at,
            chrono::TimeDelta::minutes(1),
        ) {
            return Ok(RefreshOutcome::AlreadyFresh);
        }
        let Some(sealed_refresh) = tokens.refresh_token_sealed else {
            return Ok(RefreshOutcome::NotRefreshable);
        };
        let row = id.to_string();
        let refresh = self.keyring.open(
            Binding::new(SealedColumn::OauthRefreshToken, &row),
            &sealed_refresh,
        )?;

        let result = client
            .exchange_refresh_token(&RefreshToken::new(refresh.expose_secret().to_owned()))
            .request_async(&self.oauth_http)
            .await;
        match result {
            Ok(token) => {
                let access = SecretString::from(token.access_token().secret().clone());
                let next_refresh = token
                    .refresh_token()
                    .map(|r| SecretString::from(r.secret().clone()));
                let expires_at = token
                    .expires_in()
                    .map(|d| crate::remote_time::expires_after(Utc::now(), d));
                let (access, refresh) =
                    seal_pair(self.keyring, id, &access, next_refresh.as_ref())?;
                oauth::store_tokens(&mut *tx, id, &access, refresh.as_deref(), expires_at).await?;
                tx.commit().await?;
                Ok(RefreshOutcome::Refreshed)
            }
            Err(e) => {
                let code = super::token_error_code(&e);
                match code.as_deref() {
                    Some(c @ ("bad_refresh_token" | "invalid_grant")) => {
                        oauth::mark_reauth_required(&mut *tx, id, c).await?;
                        tx.commit().await?;
                        Ok(RefreshOutcome::ReauthRequired)
                    }
                    _ => Err(Error::Upstream {
                        provider: crate::domain::Upstream::Github,
                        message: format!(
                            "token refresh failed: {}",
                            code.unwrap_or_else(|| "unreachable or 5xx".into())
                        ),
                    }),
                }
            }
        }
    }
}
