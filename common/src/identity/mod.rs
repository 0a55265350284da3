//! Identity: accounts, sessions, GitHub login, organisations and roles, with every security event
//! written to the audit log. API handlers call exactly one function here.

mod accounts;
mod acting;
mod authz;
mod github_connect;
mod github_login;
mod invitations;
mod mail;
mod oauth_flow;
mod orgs;
mod platform;
mod sessions;

use std::sync::Arc;

pub use accounts::Registration;
pub use acting::Acting;
pub use authz::Denial;
pub use mail::queue_email;
pub use oauth_flow::{GithubAuthorize, OAuthCallback};
pub use orgs::{org_field_problems, slugify, valid_slug};
pub use platform::set_super_admin_from_cli;
use sqlx::PgPool;

use crate::{
    config::{AuthConfig, Config},
    crypto::jwt::AccessTokens,
    domain::{SessionId, UserId},
    repo::{
        audit_logs::{self, NewEntry},
        users::{User, UserOrg},
    },
};

/// Who is calling, as far as the network tells: recorded on sessions and audit entries.
#[derive(Debug, Clone, Default)]
pub struct ClientMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// A fresh access token and refresh token (`Debug` shows neither).
#[derive(Clone)]
pub struct IssuedTokens {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
}

impl std::fmt::Debug for IssuedTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedTokens")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// The result of a successful sign-in: the user, their organisations and new tokens.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user: User,
    pub orgs: Vec<UserOrg>,
    pub tokens: IssuedTokens,
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub user_id: UserId,
    pub session_id: SessionId,
    pub is_super_admin: bool,
}

/// The identity service: everything it needs to sign people in and manage organisations.
#[derive(Clone)]
pub struct Identity {
    pub pool: PgPool,
    pub tokens: AccessTokens,
    pub auth: AuthConfig,
    pub config: Arc<Config>,
    /// The bounded argon2 pool (`PASSWORD_HASH_CONCURRENCY`).
    pub passwords: crate::crypto::password::Hashing,
    http: reqwest::Client,
}

impl Identity {
    /// Sign-in and accounts over the boot-time services; GitHub's token endpoint and `/user` go
    /// through their OAuth client (no redirects, bounded time).
    pub fn new(services: &crate::services::Services, auth: AuthConfig) -> Self {
        let tokens = AccessTokens::new(
            &auth.jwt_key_id,
            &auth.jwt_signing_key,
            auth.access_token_ttl,
        );
        let config = services.config.clone();
        let http = services.github.oauth_http.clone();
        Self {
            pool: services.pool.clone(),
            tokens,
            passwords: crate::crypto::password::Hashing::new(
                auth.password_hash_concurrency,
                auth.password_hash_max_wait,
            ),
            auth,
            config,
            http,
        }
    }
}

/// Writes one audit entry with the caller's network details.
pub async fn audit(
    db: impl sqlx::PgExecutor<'_>,
    meta: &ClientMeta,
    mut entry: NewEntry<'_>,
) -> Result<(), crate::Error> {
    entry.ip = meta.ip.as_deref();
    entry.user_agent = meta.user_agent.as_deref();
    audit_logs::insert(db, &entry).await
}
