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
    pub oauth_client_id: Option<String>,
    pub oauth_client_secret: Option<SecretString>,
}

/// The App's and the OAuth app's credentials, each pair set together or not at all (checked first,
/// before any address is parsed).
pub(super) struct Credentials {
    app_id: Option<u64>,
    app_private_key: Option<SecretString>,
    oauth_client_id: Option<String>,
    oauth_client_secret: Option<SecretString>,
}

pub(super) fn credentials(env: &dyn Source) -> Result<Credentials, ConfigError> {
    let app_id = optional(env, "GITHUB_APP_ID", parse_u64)?;
    let app_private_key = env.get("GITHUB_APP_PRIVATE_KEY").map(SecretString::from);
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
    let oauth_client_id = env.get("GITHUB_OAUTH_CLIENT_ID");
    let oauth_client_secret = env
        .get("GITHUB_OAUTH_CLIENT_SECRET")
        .map(SecretString::from);
    if oauth_client_id.is_some() != oauth_client_secret.is_some() {
        let name = if oauth_client_id.is_some() {
            "GITHUB_OAUTH_CLIENT_SECRET"
        } else {
            "GITHUB_OAUTH_CLIENT_ID"
        };
        return Err(ConfigError::Malformed {
            name,
            reason: "GITHUB_OAUTH_CLIENT_ID and GITHUB_OAUTH_CLIENT_SECRET must be set together"
                .into(),
        });
    }
    Ok(Credentials {
        app_id,
        app_private_key,
        oauth_client_id,
        oauth_client_secret,
    })
}

pub(super) fn read(
    env: &dyn Source,
    credentials: Credentials,
) -> Result<GithubConfig, ConfigError> {
    let Credentials {
        app_id,
        app_private_key,
        oauth_client_id,
        oauth_client_secret,
    } = credentials;
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
        app_id,
        app_private_key,
        app_slug: env.get("GITHUB_APP_SLUG"),
        repo_scopes: env
            .get("GITHUB_REPO_SCOPES")
            .unwrap_or_else(|| "repo read:org".to_owned())
            .split([' ', ','])
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        oauth_client_id,
        oauth_client_secret,
    })
}
