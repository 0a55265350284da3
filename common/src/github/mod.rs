//! GitHub: a REST client that follows pagination and honours rate limits, GitHub App
//! authentication (app JWT → cached installation tokens), and installation linking.

mod access;
mod actions;
mod app;
mod client;
mod client_conditional;
mod deliveries;
mod hooks;
mod install;
mod job_log;
mod oauth_app;
mod repos;
mod rerun;
mod sync;
mod token_refresh;
mod triage;
mod triage_input;
mod triage_types;

use std::future::Future;

pub use access::{RepoAccess, upstream};
pub use app::{AppAuth, TokenFreshness};
pub use client::{Auth, Conditional, GithubClient, GithubError, Page};
pub use deliveries::HookDelivery;
pub use hooks::{HOOK_EVENTS, HookHealth, HookOutcome, reinstall_hook};
pub use install::{INSTALL_STATE_TTL_SECS, InstallLink, SetupCallback, install_url};
pub use job_log::LogStream;
pub use oauth_app::{
    OAuthClient, app_user_client, code_exchange_error, granted_scopes, oauth_client, oauth_http,
    token_error_code,
};
pub use repos::{
    BATCH_MAX, RepoPage, check_channels, connection_sync_job, hook_job, hook_jobs, page,
    update_settings,
};
pub use rerun::{RerunRequest, RerunScope};
use secrecy::SecretString;
use sqlx::PgPool;
pub use sync::SyncReport;
pub use token_refresh::{REFRESH_MARGIN, RefreshOutcome, RefreshWhen, seal_pair};
pub use triage::{
    ChangedFile, CommitDiff, DIFF_MAX_BYTES, DIFF_MAX_FILES, Entry, FILE_MAX_BYTES, FileContent,
    PATCH_MAX_BYTES, WORKFLOWS_MAX, Workflow, valid_sha,
};

use crate::{Error, config::Config, crypto::keyring::Keyring, domain::InstallationId};

/// Everything needed to talk to GitHub on behalf of installations (remote only: the rows it reads
/// and writes come with [`GithubDb`]).
#[derive(Clone)]
pub struct Github {
    pub client: GithubClient,
    pub app: Option<AppAuth>,
    /// Where GitHub should send hook deliveries (`PUBLIC_URL`).
    pub public_url: url::Url,
    /// GitHub settings (the OAuth app, for refreshing user tokens and verifying installers).
    pub config: crate::config::GithubConfig,
    /// HTTP client for the OAuth token endpoint (no redirects).
    pub oauth_http: reqwest::Client,
    /// Paces hook creation (GitHub's secondary limits punish bursts of content-creating requests).
    pub hook_pacer: std::sync::Arc<governor::DefaultDirectRateLimiter>,
    /// How often connections are health-checked (`HEALTH_CHECK_INTERVAL_SECS`).
    pub health_interval: std::time::Duration,
}

impl Github {
    /// Built once at boot (`crate::services::Services`); a client that cannot be built is an error.
    pub fn new(config: &Config) -> Result<Self, Error> {
        Ok(Self {
            client: GithubClient::new(&config.github.api_url)?,
            app: AppAuth::from_config(&config.github)?,
            public_url: config.public_url.clone(),
            config: config.github.clone(),
            oauth_http: oauth_http()?,
            health_interval: config.health.interval,
            hook_pacer: std::sync::Arc::new(governor::RateLimiter::direct(
                governor::Quota::per_second(
                    std::num::NonZeroU32::new(5).unwrap_or(std::num::NonZeroU32::MIN),
                ),
            )),
        })
    }

    /// This client with the database and keyring its stateful operations run against.
    pub fn with_db<'a>(&'a self, pool: &'a PgPool, keyring: &'a Keyring) -> GithubDb<'a> {
        GithubDb {
            github: self,
            pool,
            keyring,
        }
    }
}

/// GitHub work that reads or writes rows (installation tokens, hooks, repository sync, token
/// refresh): the remote client with the pool and keyring it runs against, borrowed for the call.
#[derive(Clone, Copy)]
pub struct GithubDb<'a> {
    pub github: &'a Github,
    pub pool: &'a PgPool,
    pub keyring: &'a Keyring,
}

impl std::ops::Deref for GithubDb<'_> {
    type Target = Github;

    fn deref(&self) -> &Github {
        self.github
    }
}

impl GithubDb<'_> {
    /// Runs `work` while holding the session advisory lock `key` (waiting for it if held elsewhere).
    pub async fn exclusively<T, Fut>(&self, key: &str, work: Fut) -> Result<T, Error>
    where
        Fut: Future<Output = Result<T, Error>>,
    {
        let mut conn = self.pool.acquire().await?;
        // The lock belongs to this session: if `work` is cancelled (job timeout) before the unlock,
        // closing the connection instead of returning it to the pool releases the lock.
        conn.close_on_drop();
        crate::repo::locks::lock(&mut conn, key).await?;
        let result = work.await;
        let _ = crate::repo::locks::unlock(&mut conn, key).await;
        result
    }

    /// Runs `call` with the installation's token. When GitHub refuses it (401), a new token is
    /// minted and the call tried again, twice at most, pausing briefly for a just-minted token.
    pub async fn with_installation_token<T, F, Fut>(
        &self,
        installation_id: InstallationId,
        call: F,
    ) -> Result<T, Error>
    where
        F: Fn(SecretString) -> Fut,
        Fut: Future<Output = Result<T, GithubError>>,
    {
        let app = self.app.as_ref().ok_or_else(|| {
            Error::rejected(
                "github_app_not_configured",
                "This repository is reached through the GitHub App, which needs GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY on this server.",
            )
        })?;
        let mut freshness = TokenFreshness::Cached;
        for attempt in 0..3 {
            let token = self
                .installation_token(app, installation_id, freshness)
                .await?;
            match call(token).await {
                Err(GithubError::Unauthorized) if attempt < 2 => {
                    if freshness == TokenFreshness::Fresh {
                        tokio::time::sleep(app::FRESH_TOKEN_GRACE).await;
                    }
                    freshness = TokenFreshness::Fresh;
                }
                Err(e) => return Err(upstream(e)),
                Ok(v) => return Ok(v),
            }
        }
        Err(Error::Upstream {
            provider: crate::domain::Upstream::Github,
            message: "installation token refused".into(),
        })
    }
}
