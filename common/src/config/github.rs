//! GitHub settings: the API and web addresses, the App and the OAuth app.

use secrecy::SecretString;
use url::Url;

use super::{ConfigError, Source, parse::*};

#[derive(Debug, Clone)]
pub struct GithubConfig {
    pub api_url: Url,
    pub web_url: Url,
    pub app_id: Option<u64>,
    pub app_private_key: Option<SecretString>,
    /// The App's URL name (`https://github.com/apps/<slug>`), for its install link.
    pub app_slug: Option<String>,
    /// Scopes asked for when a user connects GitHub for repository access.
    pub repo_scopes: Vec<String>,
    /// The GitHub OAuth App (`GITHUB_OAUTH_CLIENT_ID`/`_SECRET`): "Sign in with GitHub" and
    /// "Connect GitHub" (user tokens with `repo admin:repo_hook read:user`).
    pub oauth_client_id: Option<String>,
    pub oauth_client_secret: Option<SecretString>,
    /// The GitHub App's own user-authorization credentials (`GITHUB_APP_CLIENT_ID`/`_SECRET`),
    /// used by the setup callback to verify who installed the App.
    pub app_client_id: Option<String>,
    pub app_client_secret: Option<SecretString>,
    /// The most bytes of a job's log the triage route streams (`GITHUB_LOG_MAX_BYTES`).
    pub log_max_bytes: u64,
}

/// Default scopes of a "Connect GitHub" user token: private repositories, repository hooks, the
/// user's identity.
pub const DEFAULT_REPO_SCOPES: &str = "repo admin:repo_hook read:user";

/// The App's and the OAuth app's credentials, each pair set together or not at all (checked first,
/// before any address is parsed).
pub(super) struct Credentials {
    app_id: Option<u64>,
    app_private_key: Option<SecretString>,
    oauth_client_id: Option<String>,
    oauth_client_secret: Option<SecretString>,
    app_client_id: Option<String>,
    app_client_secret: Option<SecretString>,
}

/// Both of a pair, or neither: (id, secret) named `id_name`/`secret_name`.
fn pair(
    env: &dyn Source,
    id_name: &'static str,
    secret_name: &'static str,
) -> Result<(Option<String>, Option<SecretString>), ConfigError> {
    let id = env.get(id_name);
    let secret = env.get(secret_name).map(SecretString::from);
    if id.is_some() != secret.is_some() {
        return Err(ConfigError::Malformed {
            name: if id.is_some() { secret_name } else { id_name },
            reason: format!("{id_name} and {secret_name} must be set together"),
        });
    }
    Ok((id, secret))
}

pub(super) fn credentials(env: &dyn Source) -> Result<Credentials, ConfigError> {
    let app_id = optional(env, "GITHUB_APP_ID", parse_u64)?;
    // A multi-line PEM; env files that hold one line per variable may write its newlines as `\n`.
    let app_private_key = env
        .get("GITHUB_APP_PRIVATE_KEY")
        .map(|key| {
            if key.contains('\n') {
                key
            } else {
                key.replace("\\n", "\n")
            }
        })
        .map(SecretString::from);
    if app_id.is_some() != app_private_key.is_some() {
        let name = if app_id.is_some() {
            "GITHUB_APP_PRIVATE_KEY"
        } else {
            "GITHUB_APP_ID"
        };
        return Err(ConfigError::Malformed {
            name,
            reason: "GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY must be set together".into(),
        });
    }
    if env
        .get("GITHUB_APP_PRIVATE_KEY")
        .is_some_and(|key| !key.contains("PRIVATE KEY"))
    {
        return Err(ConfigError::Malformed {
            name: "GITHUB_APP_PRIVATE_KEY",
            reason: "expected a PEM-encoded RSA private key".into(),
        });
    }
    let (oauth_client_id, oauth_client_secret) =
        pair(env, "GITHUB_OAUTH_CLIENT_ID", "GITHUB_OAUTH_CLIENT_SECRET")?;
    let (app_client_id, app_client_secret) =
        pair(env, "GITHUB_APP_CLIENT_ID", "GITHUB_APP_CLIENT_SECRET")?;
    Ok(Credentials {
        app_id,
        app_private_key,
        oauth_client_id,
        oauth_client_secret,
        app_client_id,
        app_client_secret,
    })
}

pub(super) fn read(
    env: &dyn Source,
    credentials: Credentials,
) -> Result<GithubConfig, ConfigError> {
    Ok(GithubConfig {
        api_url: or_default(
            env,
            "GITHUB_API_URL",
            default_url("https://api.github.com"),
            parse_url,
        )?,
        web_url: or_default(
            env,
            "GITHUB_WEB_URL",
            default_url("https://github.com"),
            parse_url,
        )?,
        app_id: credentials.app_id,
        app_private_key: credentials.app_private_key,
        app_slug: env.get("GITHUB_APP_SLUG"),
        repo_scopes: env
            .get("GITHUB_REPO_SCOPES")
            .unwrap_or_else(|| DEFAULT_REPO_SCOPES.to_owned())
            .split([' ', ','])
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        oauth_client_id: credentials.oauth_client_id,
        oauth_client_secret: credentials.oauth_client_secret,
        app_client_id: credentials.app_client_id,
        app_client_secret: credentials.app_client_secret,
        log_max_bytes: or_default(env, "GITHUB_LOG_MAX_BYTES", 8 * 1024 * 1024, parse_u64)?,
    })
}
