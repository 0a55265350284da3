//! "Sign in with GitHub": the OAuth authorization-code flow with the `oauth2` crate. The `state`
//! is single-use, expires, and is bound to the browser that started the flow (a cookie nonce).
//! The callback exchanges the code, reads the GitHub user and emails, then logs in the linked
//! account, links an account with the same verified email, or creates one.

use chrono::Utc;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, RedirectUrl, RequestTokenError,
    Scope, TokenResponse, TokenUrl, basic::BasicClient,
};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{Caller, ClientMeta, Identity, SignedIn, audit};
use crate::{
    Error,
    crypto::{keyring::Binding, tokens},
    domain::Email,
    repo::{
        audit_logs::NewEntry,
        oauth::{self, StateCheck},
        sessions, users,
    },
};

const PROVIDER: &str = "github";
const LOGIN_CALLBACK: &str = "/api/v1/auth/oauth/github/callback";
const STATE_TTL_MINUTES: i64 = 10;

/// Where to send the browser, and the nonce to set as its cookie.
#[derive(Debug, Clone)]
pub struct GithubAuthorize {
    pub url: String,
    pub browser_nonce: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct GithubUser {
    pub(crate) id: i64,
    pub(crate) login: String,
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct GithubEmail {
    email: String,
    primary: bool,
    verified: bool,
}

pub(crate) fn upstream(message: impl Into<String>) -> Error {
    Error::Upstream {
        provider: "github",
        message: message.into(),
    }
}

impl Identity {
    pub(crate) fn github_client(
        &self,
        callback_path: &str,
    ) -> Result<
        BasicClient<
            oauth2::EndpointSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointSet,
        >,
        Error,
    > {
        let gh = &self.config.github;
        let (Some(id), Some(secret)) = (&gh.oauth_client_id, &gh.oauth_client_secret) else {
            return Err(Error::rejected(
                "oauth_not_configured",
                "GitHub login is not configured on this server.",
            ));
        };
        let web = gh.web_url.as_str().trim_end_matches('/');
        let mut redirect = self.config.public_url.clone();
        redirect.set_path(callback_path);
        let bad = |e: oauth2::url::ParseError| Error::Invalid(format!("GitHub OAuth URL: {e}"));
        Ok(BasicClient::new(ClientId::new(id.clone()))
            .set_client_secret(ClientSecret::new(secret.expose_secret().to_owned()))
            .set_auth_uri(AuthUrl::new(format!("{web}/login/oauth/authorize")).map_err(bad)?)
            .set_token_uri(TokenUrl::new(format!("{web}/login/oauth/access_token")).map_err(bad)?)
            .set_redirect_uri(RedirectUrl::new(redirect.to_string()).map_err(bad)?))
    }

    /// Starts a GitHub login: records a fresh state bound to a new browser nonce.
    pub async fn github_authorize(&self) -> Result<GithubAuthorize, Error> {
        let client = self.github_client(LOGIN_CALLBACK)?;
        let (state, state_hash) = tokens::generate("");
        let (browser_nonce, browser_hash) = tokens::generate("");
        let expires = Utc::now() + chrono::Duration::minutes(STATE_TTL_MINUTES);
        oauth::insert_state(
            &self.pool,
            &state_hash,
            &browser_hash,
            PROVIDER,
            expires,
            None,
        )
        .await?;
        let (url, _) = client
            .authorize_url(|| CsrfToken::new(state))
            .add_scopes(
                self.auth
                    .github_login_scopes
                    .iter()
                    .cloned()
                    .map(Scope::new),
            )
            .url();
        Ok(GithubAuthorize {
            url: url.to_string(),
            browser_nonce,
        })
    }

    /// Completes a GitHub login from the callback's query and the browser's cookie nonce.
    pub async fn github_callback(
        &self,
        meta: &ClientMeta,
        browser_nonce: Option<&str>,
        state: Option<&str>,
        code: Option<&str>,
        error: Option<&str>,
    ) -> Result<SignedIn, Error> {
        let invalid_state = || {
            Error::rejected(
                "invalid_oauth_state",
                "The login state is missing, expired or belongs to another browser.",
            )
        };
        let (Some(nonce), Some(state)) = (browser_nonce, state) else {
            return Err(invalid_state());
        };
        let (state_check, _) = oauth::consume_state(
            &self.pool,
            &tokens::hash(state),
            &tokens::hash(nonce),
            PROVIDER,
        )
        .await?;
        if state_check != StateCheck::Consumed {
            let reason = if state_check == StateCheck::Reused {
                "state_reused"
            } else {
                "state_invalid"
            };
            audit(
                &self.pool,
                meta,
                NewEntry::failure("auth.login")
                    .meta(json!({ "method": "github", "reason": reason })),
            )
            .await?;
        }
        match state_check {
            StateCheck::Consumed => {}
            StateCheck::Invalid => return Err(invalid_state()),
            StateCheck::Reused => {
                return Err(Error::rejected(
                    "oauth_state_reused",
                    "This login link was already used.",
                ));
            }
        }
        if let Some(error) = error {
            audit(
                &self.pool,
                meta,
                NewEntry::failure("auth.login")
                    .meta(json!({ "method": "github", "reason": error })),
            )
            .await?;
            return Err(Error::rejected(
                "oauth_denied",
                "GitHub sign-in was cancelled or denied.",
            ));
        }
        let code = code.ok_or_else(|| {
            Error::rejected("invalid_oauth_callback", "The callback has no code.")
        })?;

        let token = self
            .github_client(LOGIN_CALLBACK)?
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(r)
                    if r.error().as_ref() == "bad_verification_code" =>
                {
                    Error::rejected(
                        "oauth_code_invalid",
                        "The GitHub authorization code is invalid or expired.",
                    )
                }
                RequestTokenError::ServerResponse(r) => {
                    upstream(format!("token endpoint refused: {}", r.error().as_ref()))
                }
                RequestTokenError::Request(_) => upstream("token endpoint unreachable"),
                RequestTokenError::Parse(_, _) => {
                    upstream("token endpoint answered an unexpected body")
                }
                RequestTokenError::Other(m) => upstream(m),
            })?;
        let access = SecretString::from(token.access_token().secret().clone());
        // GitHub separates granted scopes with commas, which oauth2 does not split.
        let scopes: Vec<String> = token
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
            .unwrap_or_default();
        let gh_user: GithubUser = self.github_get(&access, "user").await?;
        let email = self.github_verified_email(&access).await?;
        self.sign_in_github(meta, gh_user, email, &access, &scopes)
            .await
    }

    pub(crate) async fn github_get<T: serde::de::DeserializeOwned>(
        &self,
        token: &SecretString,
        path: &str,
    ) -> Result<T, Error> {
        let url = format!(
            "{}/{path}",
            self.config.github.api_url.as_str().trim_end_matches('/')
        );
        let res = self
            .http
            .get(url)
            .bearer_auth(token.expose_secret())
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28")
            .send()
            .await
            .map_err(|_| upstream(format!("GET /{path} failed")))?;
        if !res.status().is_success() {
            return Err(upstream(format!(
                "GET /{path} answered {}",
                res.status().as_u16()
            )));
        }
        res.json()
            .await
            .map_err(|_| upstream(format!("GET /{path} answered an unexpected body")))
    }

    /// The primary verified email from `/user/emails`, else another verified one.
    async fn github_verified_email(&self, token: &SecretString) -> Result<Email, Error> {
        // Only addresses GitHub reports as verified count; the profile's public email does not.
        let emails: Vec<GithubEmail> = self.github_get(token, "user/emails").await?;
        let chosen = emails
            .iter()
            .find(|e| e.primary && e.verified)
            .or_else(|| emails.iter().find(|e| e.verified))
            .map(|e| e.email.clone());
        chosen.and_then(|e| Email::parse(&e).ok()).ok_or_else(|| {
            Error::rejected(
                "oauth_email_unverified",
                "Your GitHub account has no verified email address.",
            )
        })
    }

    async fn sign_in_github(
        &self,
        meta: &ClientMeta,
        gh: GithubUser,
        email: Email,
        access: &SecretString,
        scopes: &[String],
    ) -> Result<SignedIn, Error> {
        let provider_user_id = gh.id.to_string();
        let mut tx = self.pool.begin().await?;
        let existing = oauth::find_by_provider_user(&mut *tx, PROVIDER, &provider_user_id).await?;
        let (user, linked) = match existing {
            Some(conn) => {
                let sealed = self.seal_token(conn.id, access)?;
                oauth::update_tokens(&mut *tx, conn.id, &gh.login, scopes, &sealed).await?;
                (
                    users::find(&mut *tx, conn.user_id)
                        .await?
                        .ok_or(Error::NotFound)?,
                    false,
                )
            }
            None => {
                let user = match users::find_by_email(&mut *tx, &email).await? {
                    // Someone registered this address without proving it; the GitHub user has
                    // proved it. They get the account, and whatever the registrant set goes.
                    Some(user) if user.email_verified_at.is_none() => {
                        users::reclaim_unverified(&mut *tx, user.id).await?;
                        sessions::revoke_all_except(
                            &mut *tx,
                            user.id,
                            None,
                            "reclaimed_by_verified_owner",
                        )
                        .await?;
                        audit(
                            &mut *tx,
                            meta,
                            NewEntry::success("auth.account_reclaim").actor(user.id).resource("user", user.id)
                                .meta(json!({ "provider": PROVIDER, "reason": "unverified_email_proved_via_github" })),
                        )
                        .await?;
                        users::find(&mut *tx, user.id)
                            .await?
                            .ok_or(Error::NotFound)?
                    }
                    Some(user) => user,
                    None => {
                        let name = gh
                            .name
                            .clone()
                            .filter(|n| !n.trim().is_empty())
                            .unwrap_or_else(|| gh.login.clone());
                        users::insert(&mut tx, &email, &name, None, true).await?
                    }
                };
                let id = Uuid::new_v4();
                let sealed = self.seal_token(id, access)?;
                oauth::insert(
                    &mut tx,
                    id,
                    user.id,
                    PROVIDER,
                    &provider_user_id,
                    &gh.login,
                    scopes,
                    &sealed,
                )
                .await?;
                (user, true)
            }
        };
        if linked {
            audit(
                &mut *tx,
                meta,
                NewEntry::success("auth.oauth_link")
                    .actor(user.id)
                    .resource("oauth_connection", provider_user_id)
                    .meta(json!({ "provider": PROVIDER, "login": gh.login, "scopes": scopes })),
            )
            .await?;
        }
        audit(
            &mut *tx,
            meta,
            NewEntry::success("auth.login")
                .actor(user.id)
                .resource("user", user.id)
                .meta(json!({ "method": "github" })),
        )
        .await?;
        self.signed_in(tx, user, meta).await
    }

    fn seal_token(&self, connection: Uuid, token: &SecretString) -> Result<String, Error> {
        let row_id = connection.to_string();
        let at = Binding {
            table: "oauth_connections",
            column: "access_token_sealed",
            row_id: &row_id,
        };
        self.config.keyring.seal(at, token)
    }

    /// Removes the caller's GitHub link, unless it is their only way to sign in.
    pub async fn github_disconnect(&self, meta: &ClientMeta, caller: Caller) -> Result<(), Error> {
        let user = users::find(&self.pool, caller.user_id)
            .await?
            .ok_or(Error::NotFound)?;
        if user.password_hash.is_none() {
            return Err(Error::conflict(
                "last_login_method",
                "GitHub is your only way to sign in; set a password before disconnecting it.",
            ));
        }
        let mut tx = self.pool.begin().await?;
        if oauth::delete_for_user(&mut *tx, user.id, PROVIDER).await? == 0 {
            return Err(Error::NotFound);
        }
        audit(
            &mut *tx,
            meta,
            NewEntry::success("auth.oauth_unlink")
                .actor(user.id)
                .kind("oauth_connection")
                .meta(json!({ "provider": PROVIDER })),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
