//! RepoPal's two GitHub OAuth clients as `oauth2` clients, built in one place for every flow that
//! talks to the token endpoint: the GitHub OAuth App (sign-in, repository access, token refresh)
//! and the GitHub App's own user authorization (App install verification); and GitHub's token
//! endpoint errors (HTTP 200 with an `error` field) mapped to stable codes.

use oauth2::{
    AuthUrl, ClientId, ClientSecret, EndpointNotSet, EndpointSet, RedirectUrl, RequestTokenError,
    TokenUrl,
    basic::{BasicClient, BasicErrorResponse},
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
            "Signing in with GitHub and connecting GitHub need the GitHub OAuth App: set GITHUB_OAUTH_CLIENT_ID and GITHUB_OAUTH_CLIENT_SECRET on this server.",
        ));
    };
    client_for(cfg, id, secret, redirect)
}

/// The GitHub App's own user-authorization client (`GITHUB_APP_CLIENT_ID`/`_SECRET`), which the
/// setup callback uses to learn who installed the App. Refused with
/// `github_app_client_not_configured` when unset.
pub fn app_user_client(cfg: &GithubConfig) -> Result<OAuthClient, Error> {
    let (Some(id), Some(secret)) = (&cfg.app_client_id, &cfg.app_client_secret) else {
        return Err(Error::rejected(
            "github_app_client_not_configured",
            "Verifying a GitHub App installation needs the App's client credentials: set GITHUB_APP_CLIENT_ID and GITHUB_APP_CLIENT_SECRET on this server.",
        ));
    };
    client_for(cfg, id, secret, None)
}

fn client_for(
    cfg: &GithubConfig,
    id: &str,
    secret: &secrecy::SecretString,
    redirect: Option<&url::Url>,
) -> Result<OAuthClient, Error> {
    let web = cfg.web_url.as_str().trim_end_matches('/');
    let bad = |e: oauth2::url::ParseError| Error::Invalid(format!("GitHub OAuth URL: {e}"));
    let client = BasicClient::new(ClientId::new(id.to_owned()))
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

/// The `error` GitHub's token endpoint answered, whether with an error status or (as GitHub does)
/// with HTTP 200 and an `error` field.
pub fn token_error_code<RE: std::error::Error + 'static>(
    e: &RequestTokenError<RE, BasicErrorResponse>,
) -> Option<String> {
    match e {
        RequestTokenError::ServerResponse(r) => Some(r.error().as_ref().to_owned()),
        RequestTokenError::Parse(_, body) => serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned)),
        _ => None,
    }
}

/// A failed code exchange as RepoPal answers it: GitHub's refusals of the code or of the request
/// are the caller's 400 with a stable code; an unreachable or garbled endpoint is GitHub's failure.
pub fn code_exchange_error<RE: std::error::Error + 'static>(
    e: &RequestTokenError<RE, BasicErrorResponse>,
) -> Error {
    let upstream = |message: String| Error::Upstream {
        provider: crate::domain::Upstream::Github,
        message,
    };
    match token_error_code(e).as_deref() {
        Some("bad_verification_code" | "invalid_grant") => Error::rejected(
            "oauth_code_invalid",
            "The GitHub authorization code is invalid, expired or already used; start again.",
        ),
        Some("redirect_uri_mismatch") => Error::rejected(
            "oauth_redirect_uri_mismatch",
            "GitHub refused the callback URL: the app's callback URL must match PUBLIC_URL.",
        ),
        Some("incorrect_client_credentials") => Error::rejected(
            "oauth_client_credentials_invalid",
            "GitHub refused this server's client id or secret.",
        ),
        Some("unverified_user_email") => Error::rejected(
            "oauth_unverified_email",
            "GitHub refused because the account's primary email is not verified.",
        ),
        Some("access_denied") => {
            Error::rejected("oauth_denied", "GitHub access was cancelled or denied.")
        }
        Some(other) => upstream(format!("token endpoint refused: {other}")),
        None => match e {
            RequestTokenError::Request(_) => upstream("token endpoint unreachable".into()),
            RequestTokenError::Other(m) => upstream(m.clone()),
            _ => upstream("token endpoint answered an unexpected body".into()),
        },
    }
}
