//! The GitHub authorization-code flow shared by "Sign in with GitHub" and "connect GitHub for
//! repository access": a random `state`, single-use, expiring and bound to the browser that started
//! the flow (a cookie nonce) and, for a signed-in user, to that user; then the code exchange.

use crate::domain::{AuditAction, ConnectionProvider};
use chrono::{DateTime, Utc};
use oauth2::{AuthorizationCode, CsrfToken, Scope, TokenResponse};
use secrecy::SecretString;
use serde_json::json;

use super::{ClientMeta, Identity, audit};
use crate::{
    Error,
    crypto::tokens,
    domain::{StateFlow, UserId},
    github::{code_exchange_error, granted_scopes, oauth_client},
    repo::{
        audit_logs::NewEntry,
        oauth_states::{self, NewState, StateCheck},
    },
};

const STATE_TTL_MINUTES: i64 = 10;

/// Where to send the browser, and the nonce to set as its cookie.
#[derive(Debug, Clone)]
pub struct GithubAuthorize {
    pub url: String,
    pub browser_nonce: String,
}

/// What a completed authorization gave: the tokens, and who started the flow (when signed in).
pub(crate) struct OAuthGrant {
    pub user: Option<UserId>,
    pub access: SecretString,
    pub refresh: Option<SecretString>,
    pub expires_at: Option<DateTime<Utc>>,
    pub scopes: Vec<String>,
}

/// What the browser brings back to a flow's callback: the cookie nonce of the browser that
/// started it, and GitHub's query (`state`, and `code` or `error`).
#[derive(Debug, Clone, Copy, Default)]
pub struct OAuthCallback<'a> {
    pub browser_nonce: Option<&'a str>,
    pub state: Option<&'a str>,
    pub code: Option<&'a str>,
    pub error: Option<&'a str>,
}

/// One kind of flow: its state namespace, callback path and the audit action for its failures.
pub(crate) struct Flow {
    pub state: StateFlow,
    pub callback: &'static str,
    pub audit_action: AuditAction,
}

impl Identity {
    /// Records a fresh state for `flow` and returns GitHub's authorize URL.
    pub(crate) async fn oauth_start(
        &self,
        flow: &Flow,
        scopes: &[String],
        user: Option<UserId>,
    ) -> Result<GithubAuthorize, Error> {
        let mut redirect = self.config.public_url.clone();
        redirect.set_path(flow.callback);
        let client = oauth_client(&self.config.github, Some(&redirect))?;
        let (state, state_hash) = tokens::generate("");
        let (browser_nonce, browser_hash) = tokens::generate("");
        let expires = Utc::now() + chrono::Duration::minutes(STATE_TTL_MINUTES);
        let new_state = NewState {
            state_hash: &state_hash,
            browser_hash: &browser_hash,
            flow: flow.state,
            expires_at: expires,
            user,
        };
        oauth_states::insert_state(&self.pool, &new_state).await?;
        let (url, _) = client
            .authorize_url(|| CsrfToken::new(state))
            .add_scopes(scopes.iter().cloned().map(Scope::new))
            .url();
        Ok(GithubAuthorize {
            url: url.to_string(),
            browser_nonce,
        })
    }

    /// Checks the callback's state against the browser's nonce (once), then exchanges the code.
    /// Refused states and denials are audited under the flow's action.
    pub(crate) async fn oauth_finish(
        &self,
        flow: &Flow,
        meta: &ClientMeta,
        callback: &OAuthCallback<'_>,
    ) -> Result<OAuthGrant, Error> {
        let OAuthCallback {
            browser_nonce,
            state,
            code,
            error,
        } = *callback;
        let invalid_state = || {
            Error::rejected(
                "invalid_oauth_state",
                "The sign-in state is missing, expired or belongs to another browser.",
            )
        };
        let (Some(nonce), Some(state)) = (browser_nonce, state) else {
            return Err(invalid_state());
        };
        let (check, user) = oauth_states::consume_state(
            &self.pool,
            &tokens::hash(state),
            &tokens::hash(nonce),
            flow.state,
        )
        .await?;
        let refused = match (check, error) {
            (StateCheck::Reused, _) => Some((
                "state_reused",
                Error::rejected("oauth_state_reused", "This link was already used."),
            )),
            (StateCheck::Invalid, _) => Some(("state_invalid", invalid_state())),
            (StateCheck::Consumed, Some(_)) => Some((
                "denied",
                Error::rejected("oauth_denied", "GitHub access was cancelled or denied."),
            )),
            (StateCheck::Consumed, None) => None,
        };
        if let Some((reason, err)) = refused {
            let entry = NewEntry::failure(flow.audit_action)
                .meta(json!({ "method": ConnectionProvider::Github, "reason": reason }));
            audit(&self.pool, meta, entry).await?;
            return Err(err);
        }
        let code = code.ok_or_else(|| {
            Error::rejected("invalid_oauth_callback", "The callback has no code.")
        })?;
        let mut redirect = self.config.public_url.clone();
        redirect.set_path(flow.callback);
        let token = oauth_client(&self.config.github, Some(&redirect))?
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(|e| code_exchange_error(&e))?;
        Ok(OAuthGrant {
            user,
            access: SecretString::from(token.access_token().secret().clone()),
            refresh: token
                .refresh_token()
                .map(|r| SecretString::from(r.secret().clone())),
            expires_at: token
                .expires_in()
                .map(|d| crate::remote_time::expires_after(Utc::now(), d)),
            scopes: granted_scopes(&token),
        })
    }
}
