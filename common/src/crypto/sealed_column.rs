//! Every column that holds a sealed secret: a closed set, so a seal names its place by variant and key
//! rotation covers every place there is.

/// A column holding sealed values, with its table and the row id bound into each ciphertext.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedColumn {
    /// `oauth_connections.access_token_sealed`: a user's GitHub or Slack access token.
    OauthAccessToken,
    /// `oauth_connections.refresh_token_sealed`.
    OauthRefreshToken,
    /// `github_repository_hooks.secret_sealed`: a repository webhook's secret.
    RepositoryHookSecret,
    /// `github_pending_hook_secrets.secret_sealed`: a hook's secret between the create call and
    /// GitHub's answer.
    PendingHookSecret,
    /// `github_installation_tokens.token_sealed`: a cached App installation token.
    InstallationToken,
    /// `integrations.credentials_sealed`: an integration's credentials document.
    IntegrationCredentials,
}

impl SealedColumn {
    /// All of them, for key rotation.
    pub const ALL: [SealedColumn; 6] = [
        Self::OauthAccessToken,
        Self::OauthRefreshToken,
        Self::RepositoryHookSecret,
        Self::PendingHookSecret,
        Self::InstallationToken,
        Self::IntegrationCredentials,
    ];

    pub const fn table(self) -> &'static str {
        match self {
            Self::OauthAccessToken | Self::OauthRefreshToken => "oauth_connections",
            Self::RepositoryHookSecret => "github_repository_hooks",
            Self::PendingHookSecret => "github_pending_hook_secrets",
            Self::InstallationToken => "github_installation_tokens",
            Self::IntegrationCredentials => "integrations",
        }
    }

    pub const fn column(self) -> &'static str {
        match self {
            Self::OauthAccessToken => "access_token_sealed",
            Self::OauthRefreshToken => "refresh_token_sealed",
            Self::RepositoryHookSecret | Self::PendingHookSecret => "secret_sealed",
            Self::InstallationToken => "token_sealed",
            Self::IntegrationCredentials => "credentials_sealed",
        }
    }

    /// The column whose value (as text) is bound into the ciphertext.
    pub const fn id_column(self) -> &'static str {
        match self {
            Self::RepositoryHookSecret => "hook_id",
            Self::InstallationToken => "installation_id",
            Self::OauthAccessToken
            | Self::OauthRefreshToken
            | Self::PendingHookSecret
            | Self::IntegrationCredentials => "id",
        }
    }
}
