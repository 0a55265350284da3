//! "Sign in with GitHub": the OAuth authorization-code flow with the `oauth2` crate. The `state`
//! is single-use, expires, and is bound to the browser that started the flow (a cookie nonce).
//! The callback exchanges the code, reads the GitHub user and emails, then logs in the linked
//! account, links an account with the same verified email, or creates one.

use crate::domain::{AuditAction, AuditResource, LoginMethod};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

use super::{
    Caller, ClientMeta, Identity, SignedIn, audit,
    oauth_flow::{Flow, GithubAuthorize, OAuthCallback, OAuthGrant},
};
use crate::{
    Error,
    crypto::keyring::{Binding, SealedColumn},
    domain::{ConnectionId, ConnectionProvider, Email, SessionEndReason, StateFlow},
    repo::{audit_logs::NewEntry, oauth, sessions, users},
};

/// The provider GitHub sign-in links accounts to.
const PROVIDER: ConnectionProvider = ConnectionProvider::Github;
const LOGIN_CALLBACK: &str = "/api/v1/auth/oauth/github/callback";

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
        provider: crate::domain::Upstream::Github,
        message: message.into(),
    }
}

const LOGIN: Flow = Flow {
    state: StateFlow::GithubLogin,
    callback: LOGIN_CALLBACK,
    audit_action: AuditAction::AuthLogin,
};

impl Identity {
    /// Starts a GitHub login: records a fresh state bound to a new browser nonce.
    pub async fn github_authorize(&self) -> Result<GithubAuthorize, Error> {
        self.oauth_start(&LOGIN, &self.auth.github_login_scopes, None)
            .await
    }

    /// Completes a GitHub login from the callback's query and the browser's cookie nonce.
    pub async fn github_callback(
        &self,
        meta: &ClientMeta,
        callback: &OAuthCallback<'_>,
    ) -> Result<SignedIn, Error> {
        let grant = self.oauth_finish(&LOGIN, meta, callback).await?;
        let gh_user: GithubUser = self.github_get(&grant.access, "user").await?;
        let email = self.github_verified_email(&grant.access).await?;
        self.sign_in_github(meta, gh_user, email, &grant).await
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
        grant: &OAuthGrant,
    ) -> Result<SignedIn, Error> {
        let (access, scopes) = (&grant.access, grant.scopes.as_slice());
        let provider_user_id = gh.id.to_string();
        let mut tx = self.pool.begin().await?;
        let existing = oauth::find_by_provider_user(&mut *tx, PROVIDER, &provider_user_id).await?;
        let (user, linked) = match existing {
            Some(conn) => {
                let owner = users::find(&mut *tx, conn.user_id)
                    .await?
                    .ok_or(Error::NotFound)?;
                // A link is a sign-in method only when it was made on a verified account, or when
                // this GitHub identity proves the account's address now.
                if conn.linked_unverified || owner.email_verified_at.is_none() {
                    if owner.email != email.as_str() {
                        audit(
                            &mut *tx,
                            meta,
                            NewEntry::failure(AuditAction::AuthLogin).resource(AuditResource::User, owner.id).meta(
                                json!({ "method": LoginMethod::Github, "reason": "link_made_while_unverified" }),
                            ),
                        )
                        .await?;
                        tx.commit().await?;
                        return Err(Error::forbidden(
                            "github_link_unverified",
                            "This GitHub account was linked before the account's email address was verified, so it cannot sign in to it.",
                        ));
                    }
                    if owner.email_verified_at.is_none() || owner.password_unproven {
                        self.reclaim(&mut tx, meta, &owner, Some(conn.id)).await?;
                    }
                    oauth::mark_linked_verified(&mut *tx, conn.id).await?;
                }
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
                    // Someone registered this address without proving it (even if the owner
                    // has since clicked the verification mail); the GitHub user has proved it.
                    // They get the account, and whatever the registrant set goes.
                    Some(user) if user.email_verified_at.is_none() || user.password_unproven => {
                        self.reclaim(&mut tx, meta, &user, None).await?;
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
                        users::insert(&mut tx, &email, &name, None, users::EmailProof::Proven)
                            .await?
                    }
                };
                let id = ConnectionId::new();
                let sealed = self.seal_token(id, access)?;
                oauth::insert(
                    &mut tx,
                    &oauth::NewLink {
                        id,
                        user: user.id,
                        provider: PROVIDER,
                        provider_user_id: &provider_user_id,
                        login: &gh.login,
                        scopes,
                        access_token_sealed: &sealed,
                    },
                )
                .await?;
                (user, true)
            }
        };
        if linked {
            audit(
                &mut *tx,
                meta,
                NewEntry::success(AuditAction::AuthOauthLink)
                    .actor(user.id)
                    .resource(AuditResource::OauthConnection, provider_user_id)
                    .meta(json!({ "provider": PROVIDER, "login": gh.login, "scopes": scopes })),
            )
            .await?;
        }
        self.logged_in(tx, user, meta, LoginMethod::Github).await
    }

    /// The proven owner of an account's address takes it over: a password set while the address
    /// was unproven goes, every session ends, and every GitHub link made while the address was
    /// unproven is removed (but `keep`, the identity proving it now).
    async fn reclaim(
        &self,
        tx: &mut sqlx::PgConnection,
        meta: &ClientMeta,
        user: &users::User,
        keep: Option<ConnectionId>,
    ) -> Result<(), Error> {
        if let Some(keep) = keep {
            oauth::mark_linked_verified(&mut *tx, keep).await?;
        }
        users::reclaim(&mut *tx, user.id).await?;
        let unlinked = oauth::delete_linked_unverified(&mut *tx, user.id).await?;
        sessions::revoke_all_except(
            &mut *tx,
            user.id,
            None,
            SessionEndReason::ReclaimedByVerifiedOwner,
        )
        .await?;
        crate::repo::login_attempts::clear(&mut *tx, &user.email).await?;
        audit(
            &mut *tx,
            meta,
            NewEntry::success(AuditAction::AuthAccountReclaim).actor(user.id).resource(AuditResource::User, user.id).meta(json!({
                "provider": PROVIDER,
                "reason": if user.email_verified_at.is_none() { "unverified_email_proved_via_github" } else { "password_set_before_email_proved" },
                "unverified_links_removed": unlinked,
            })),
        )
        .await
    }

    fn seal_token(&self, connection: ConnectionId, token: &SecretString) -> Result<String, Error> {
        let row_id = connection.to_string();
        let at = Binding::new(SealedColumn::OauthAccessToken, &row_id);
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
            NewEntry::success(AuditAction::AuthOauthUnlink)
                .actor(user.id)
                .kind(AuditResource::OauthConnection)
                .meta(json!({ "provider": PROVIDER })),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
