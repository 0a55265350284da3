//! RepoPal's GitHub OAuth app as an `oauth2` client, built in one place for every flow that talks
//! to the token endpoint (sign-in, repository access, App install verification, token refresh).

use oauth2::{
    AuthUrl, ClientId, ClientSecret, EndpointNotSet, EndpointSet, RedirectUrl, TokenUrl,
    basic::BasicClient,
};
use secrecy::ExposeSecret;

use crate::{Error, config::GithubConfig};

/// A client with the authorize and token endpoints set.
pub type OAuthClient =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// The OAuth client for `GITHUB_OAUTH_CLIENT_ID`/`_SECRET` against `GITHUB_WEB_URL`, with `redirect`
/// as its callback when given. Refused with `oauth_not_configured` when the credentials are unset.
pub fn oauth_client(cfg: &GithubConfig, redirect: Option<&url::Url>) -> Result<OAuthClient, Error> {
    let (Some(id), Some(secret)) = (&cfg.oauth_client_id, &cfg.oauth_client_secret) else {
        return Err(Error::rejected(
            "oauth_not_configured",
            "GitHub OAuth is not configured on this server.",
        ));
    };
    let web = cfg.web_url.as_str().trim_end_matches('/');
    let bad = |e: oauth2::url::ParseError| Error::Invalid(format!("GitHub OAuth URL: {e}"));
    let client = BasicClient::new(ClientId::new(id.clone()))
        .set_client_secret(ClientSecret::new(secret.expose_secret().to_owned()))
        .set_auth_uri(AuthUrl::new(format!("{web}/login/oauth/authorize")).map_err(bad)?)
        .set_token_uri(TokenUrl::new(format!("{web}/login/oauth/access_token")).map_err(bad)?);
    Ok(match redirect {
        Some(url) => client.set_redirect_uri(RedirectUrl::from_url(url.clone())),
        None => client,
    })
}

/// An HTTP client for the token endpoint: no redirects, bounded time.
pub fn oauth_http() -> Result<reqwest::Client, Error> {
    crate::services::http_client(
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(20))
            .user_agent("RepoPal"),
        "the GitHub OAuth HTTP client",
    )
}

/// GitHub separates granted scopes with commas, which `oauth2` does not split.
pub fn granted_scopes(token: &impl oauth2::TokenResponse) -> Vec<String> {
    token
        .scopes()
        .map(|s| {
            s.iter()
                .flat_map(|s| {
                    s.split(',')
                        .map(|p| p.trim().to_owned())
                        .collect::<Vec<_>>()
                })
                .collect()
        })
        .unwrap_or_default()
}
