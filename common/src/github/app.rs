//! GitHub App authentication: an RS256 app JWT (issued 60 s in the past, valid 9 minutes) buys an
//! installation access token, which is sealed and cached in `github_installation_tokens` and reused
//! until 5 minutes before it expires.

use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::{
    GithubDb,
    client::{Auth, GithubError},
};
use crate::{
    Error,
    config::GithubConfig,
    crypto::keyring::{Binding, SealedColumn},
    domain::InstallationId,
    repo::installation_tokens,
};

/// Reuse a cached installation token until this long before it expires.
const REUSE_MARGIN: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// The App's identity, able to sign app JWTs.
#[derive(Clone)]
pub struct AppAuth {
    app_id: u64,
    key: EncodingKey,
}

#[derive(Serialize)]
struct AppClaims {
    iat: i64,
    exp: i64,
    iss: String,
}

#[derive(Deserialize)]
struct TokenResponse {
    token: String,
    expires_at: DateTime<Utc>,
}

impl AppAuth {
    /// From `GITHUB_APP_ID` and `GITHUB_APP_PRIVATE_KEY`; `None` when the App is not configured.
    pub fn from_config(cfg: &GithubConfig) -> Result<Option<Self>, Error> {
        let (Some(app_id), Some(pem)) = (cfg.app_id, &cfg.app_private_key) else {
            return Ok(None);
        };
        let key = EncodingKey::from_rsa_pem(pem.expose_secret().as_bytes()).map_err(|_| {
            Error::Invalid("GITHUB_APP_PRIVATE_KEY is not a usable RSA private key".into())
        })?;
        Ok(Some(Self { app_id, key }))
    }

    /// A fresh app JWT.
    pub fn jwt(&self) -> Result<SecretString, Error> {
        let now = Utc::now().timestamp();
        let claims = AppClaims {
            iat: now - 60,
            exp: now + 9 * 60,
            iss: self.app_id.to_string(),
        };
        encode(&Header::new(Algorithm::RS256), &claims, &self.key)
            .map(SecretString::from)
            .map_err(|e| Error::Crypto(format!("app jwt: {e}")))
    }
}

fn binding(row_id: &str) -> Binding<'_> {
    Binding::new(SealedColumn::InstallationToken, row_id)
}

/// Whether a cached installation token may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenFreshness {
    /// The cached token, while it is valid for a while yet.
    Cached,
    /// A newly minted one (GitHub refused the cached token).
    Fresh,
}

impl GithubDb<'_> {
    /// A valid installation access token: the cached one, or a newly minted one (then cached).
    /// `TokenFreshness::Fresh` forces minting.
    pub async fn installation_token(
        &self,
        app: &AppAuth,
        installation_id: InstallationId,
        freshness: TokenFreshness,
    ) -> Result<SecretString, Error> {
        let (pool, keyring, client) = (self.pool, self.keyring, &self.client);
        let row_id = installation_id.to_string();
        if freshness == TokenFreshness::Cached
            && let Some((sealed, expires_at)) =
                installation_tokens::find(pool, installation_id).await?
            && expires_at - REUSE_MARGIN > Utc::now()
        {
            // A value that no longer opens (e.g. its key was retired) is simply minted anew.
            if let Ok(token) = keyring.open(binding(&row_id), &sealed) {
                return Ok(token);
            }
        }
        let jwt = app.jwt()?;
        let minted: TokenResponse = client
            .send(
                Method::POST,
                &format!("/app/installations/{installation_id}/access_tokens"),
                &Auth::Bearer(&jwt),
                None,
            )
            .await
            .map_err(|e| match e {
                GithubError::NotFound => Error::NotFound,
                other => Error::Upstream {
                    provider: crate::domain::Upstream::Github,
                    message: format!("minting an installation token: {other}"),
                },
            })?
            .items;
        let token = SecretString::from(minted.token);
        let sealed = keyring.seal(binding(&row_id), &token)?;
        installation_tokens::store(pool, installation_id, &sealed, minted.expires_at).await?;
        Ok(token)
    }
}

/// How long to wait before trying a just-minted token again after a 401 (GitHub may not have
/// propagated it yet).
pub const FRESH_TOKEN_GRACE: Duration = Duration::from_millis(750);
