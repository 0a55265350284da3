//! Which GitHub credential reaches a repository (the App's installation first, else the user's
//! OAuth connection it was synced through) and calls made with it: a connection's token is
//! refreshed single-flight when it expired (or when GitHub refuses it), like installation tokens
//! are re-minted.

use std::future::Future;

use super::{GithubDb, GithubError, REFRESH_MARGIN, RefreshOutcome, RefreshWhen};
use crate::{
    Error,
    crypto::keyring::{Binding, SealedColumn},
    domain::{ConnectionId, ConnectionStatus, InstallationId},
    repo::{oauth, repositories::Repository},
};
use chrono::Utc;
use secrecy::SecretString;

/// The credential a repository is reached with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepoAccess {
    /// The GitHub App's installation (preferred when both reach the repository).
    Installation(InstallationId),
    /// A user's OAuth connection (an OAuth App token with `repo admin:repo_hook`).
    Connection(ConnectionId),
}

impl RepoAccess {
    /// How `repo` is reached, the App first; `None` when nothing reaches it.
    pub fn of(repo: &Repository) -> Option<Self> {
        repo.installation_id
            .map(Self::Installation)
            .or(repo.connection_id.map(Self::Connection))
    }

    /// Refused with `no_github_access` (permanent): neither identity reaches the repository.
    pub fn require(repo: &Repository) -> Result<Self, Error> {
        Self::of(repo).ok_or_else(|| {
            Error::rejected(
                "no_github_access",
                "Neither the GitHub App nor a user's GitHub connection reaches this repository.",
            )
        })
    }

    /// A stable name of the credential, for caches keyed by who asked.
    pub fn cache_scope(self) -> String {
        match self {
            Self::Installation(id) => format!("installation:{id}"),
            Self::Connection(id) => format!("connection:{id}"),
        }
    }
}

/// GitHub's failure as RepoPal reports it: rate limits keep their wait (429 with `Retry-After` at
/// the API, a retry for jobs); anything else is GitHub's failure.
pub fn upstream(e: GithubError) -> Error {
    match e {
        GithubError::RateLimited(wait) => Error::UpstreamRateLimited {
            provider: crate::domain::Upstream::Github,
            retry_after_secs: wait.as_secs().max(1),
        },
        other => Error::Upstream {
            provider: crate::domain::Upstream::Github,
            message: other.to_string(),
        },
    }
}

fn reauth_required() -> Error {
    Error::rejected(
        "reauth_required",
        "The GitHub connection that reaches this repository must be authorised again.",
    )
}

impl GithubDb<'_> {
    /// Runs `call` with a token for `access`: the installation's (re-minted when refused) or the
    /// connection's (refreshed first when expired, and once more when GitHub refuses it).
    pub async fn with_access<T, F, Fut>(&self, access: RepoAccess, call: F) -> Result<T, Error>
    where
        F: Fn(SecretString) -> Fut,
        Fut: Future<Output = Result<T, GithubError>>,
    {
        match access {
            RepoAccess::Installation(id) => self.with_installation_token(id, call).await,
            RepoAccess::Connection(id) => self.with_connection_token(id, call).await,
        }
    }

    /// Runs `call` with the connection's access token. An expired (or nearly expired) token is
    /// refreshed first; concurrent callers share one refresh (the connection's refresh lock, then
    /// the stored tokens re-read), so a single-use refresh token is sent once for a burst.
    pub async fn with_connection_token<T, F, Fut>(
        &self,
        connection: ConnectionId,
        call: F,
    ) -> Result<T, Error>
    where
        F: Fn(SecretString) -> Fut,
        Fut: Future<Output = Result<T, GithubError>>,
    {
        let token = self.connection_token(connection, RefreshWhen::Due).await?;
        match call(token).await {
            Err(GithubError::Unauthorized) => {
                // Revoked or expired early: one forced refresh, then one more try.
                let token = self.connection_token(connection, RefreshWhen::Now).await?;
                match call(token).await {
                    Err(GithubError::Unauthorized) => Err(Error::rejected(
                        "github_connection_refused",
                        "GitHub refused the token of the connection that reaches this repository; connect GitHub again.",
                    )),
                    other => other.map_err(upstream),
                }
            }
            other => other.map_err(upstream),
        }
    }

    /// The connection's usable access token, refreshed when it expires within the refresh margin
    /// (or `RefreshWhen::Now`, for a token GitHub just refused).
    async fn connection_token(
        &self,
        connection: ConnectionId,
        when: RefreshWhen,
    ) -> Result<SecretString, Error> {
        let tokens = oauth::sealed_tokens(self.pool, connection)
            .await?
            .ok_or_else(reauth_required)?;
        if tokens.status != ConnectionStatus::Active {
            return Err(reauth_required());
        }
        let expiring = tokens
            .token_expires_at
            .is_some_and(|exp| exp - REFRESH_MARGIN <= Utc::now());
        let tokens =
            if (expiring || when == RefreshWhen::Now) && tokens.refresh_token_sealed.is_some() {
                match self.refresh_connection(connection, when).await? {
                    RefreshOutcome::ReauthRequired => return Err(reauth_required()),
                    RefreshOutcome::Refreshed
                    | RefreshOutcome::AlreadyFresh
                    | RefreshOutcome::NotRefreshable => oauth::sealed_tokens(self.pool, connection)
                        .await?
                        .ok_or_else(reauth_required)?,
                }
            } else {
                tokens
            };
        if tokens.status != ConnectionStatus::Active {
            return Err(reauth_required());
        }
        let row = connection.to_string();
        self.keyring.open(
            Binding::new(SealedColumn::OauthAccessToken, &row),
            &tokens.access_token_sealed,
        )
    }
}
