//! Linking a GitHub App installation to an organisation: the install link (a signed state bound to
//! the admin's browser) and the setup callback, which links only for that browser, for an admin who
//! still is one, and for a GitHub user who administers the installation's account.

use crate::domain::{AuditAction, AuditResource};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;

use super::client::{Auth, GithubError};
use crate::{
    Error,
    crypto::{purpose_keys::PurposeKey, signed_state, tokens},
    domain::{InstallationId, OrgId, Permission, UserId},
    identity::ClientMeta,
    jobs::JobId,
};

/// How long an install link (and its browser cookie) stays valid.
pub const INSTALL_STATE_TTL_SECS: u32 = 3600;

/// The install link to send the browser to, and the nonce for its cookie.
#[derive(Debug, Clone)]
pub struct InstallLink {
    pub url: String,
    pub browser_nonce: String,
}

/// The setup callback's inputs, as GitHub and the browser sent them.
pub struct SetupCallback<'a> {
    pub state: &'a str,
    /// The install cookie's nonce, when the browser sent one.
    pub browser_nonce: Option<&'a str>,
    pub installation_id: InstallationId,
    pub setup_action: &'a str,
    pub code: Option<&'a str>,
}

#[derive(Deserialize)]
struct UserInstallation {
    id: i64,
}

#[derive(Deserialize)]
struct UserInstallations {
    installations: Vec<UserInstallation>,
}

/// `GET /app/installations/{id}`: the account the App is installed on.
#[derive(Deserialize)]
struct AppInstallation {
    account: Option<InstallationAccount>,
}

#[derive(Deserialize)]
struct InstallationAccount {
    login: String,
    id: i64,
    #[serde(rename = "type")]
    kind: String,
}

/// `GET /user`.
#[derive(Deserialize)]
struct GithubUserId {
    id: i64,
}

/// `GET /user/memberships/orgs/{org}`.
#[derive(Deserialize)]
struct OrgMembership {
    role: String,
    state: String,
}

fn invalid_state() -> Error {
    Error::rejected(
        "invalid_install_state",
        "The install link is invalid, expired, already used or was started in another browser; start again.",
    )
}

fn not_yours() -> Error {
    Error::forbidden(
        "installation_not_yours",
        "Your GitHub account does not administer this installation's account.",
    )
}

fn upstream(e: &GithubError) -> Error {
    Error::Upstream {
        provider: crate::domain::Upstream::Github,
        message: e.to_string(),
    }
}

/// GitHub's 404 (and 403) for "not yours to see": a refusal; anything else is GitHub's failure.
fn refused_or_upstream(e: GithubError) -> Error {
    match e {
        GithubError::NotFound | GithubError::Forbidden(_) => not_yours(),
        other => upstream(&other),
    }
}

impl super::GithubDb<'_> {
    /// Links an installation to the organisation named by the install state, once every check holds:
    /// - the state is signed with the install key, unexpired, unused, and the browser presents the
    ///   cookie nonce it was started with (a link completed in another browser is refused);
    /// - the RepoPal user who made the link is still a member allowed to manage GitHub;
    /// - the App requested user authorization during installation, and the GitHub user behind the
    ///   `code` can access the installation (`GET /user/installations`) AND administers its account:
    ///   is that user for a user account, or an active admin member of the organisation.
    ///
    /// Then the first sync is enqueued in the linking transaction.
    pub async fn complete_install(
        &self,
        key: &PurposeKey,
        meta: &ClientMeta,
        cb: SetupCallback<'_>,
    ) -> Result<(OrgId, JobId), Error> {
        use oauth2::{AuthorizationCode, TokenResponse};

        use crate::{
            jobs::{self, SyncRepositories},
            repo::{audit_logs::NewEntry, installations, jobs as job_rows, oauth_states, orgs},
        };
        let claims = signed_state::verify(key, cb.state).ok_or_else(invalid_state)?;
        let (org, user) = (claims.org, claims.user);
        // None when the maker left (or the organisation or the user is gone).
        let role = orgs::role_of(self.pool, org, user).await?;
        let refuse = |reason: &'static str, err: Error| async move {
            let mut entry = NewEntry::failure(AuditAction::GithubInstallationLink)
                .resource(AuditResource::GithubInstallation, cb.installation_id)
                .meta(json!({ "reason": reason }));
            // Only a current membership proves both rows still exist for the audit's references.
            if role.is_some() {
                entry = entry.org(org).actor(user);
            }
            crate::identity::audit(self.pool, meta, entry).await?;
            Err::<(OrgId, JobId), Error>(err)
        };
        if !signed_state::same_browser(&claims, cb.browser_nonce) {
            return refuse("other_browser", invalid_state()).await;
        }
        let code = cb.code.ok_or_else(|| {
            Error::rejected(
                "install_code_missing",
                "The App must request user authorization during installation, so the installation can be verified.",
            )
        })?;
        // Each install link works once.
        if !oauth_states::use_once(
            self.pool,
            &tokens::hash(cb.state),
            crate::domain::StateFlow::GithubInstall,
        )
        .await?
        {
            return refuse("state_reused", invalid_state()).await;
        }
        // The link dies with its maker's admin rights.
        if !role.is_some_and(|r| r.allows(Permission::GithubManage)) {
            return refuse(
                "not_admin",
                Error::forbidden(
                    "forbidden",
                    "The install link was made by someone who no longer administers this organisation.",
                ),
            )
            .await;
        }
        let token = super::app_user_client(&self.config)?
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .request_async(&self.oauth_http)
            .await
            .map_err(|e| super::code_exchange_error(&e))?;
        let user_token = SecretString::from(token.access_token().secret().clone());
        if !self
            .installer_administers(&user_token, cb.installation_id)
            .await?
        {
            return refuse("installation_not_yours", not_yours()).await;
        }
        let mut tx = self.pool.begin().await?;
        if !installations::link(&mut *tx, cb.installation_id, org).await? {
            return Err(Error::conflict(
                "installation_linked_elsewhere",
                "This installation belongs to another organisation.",
            ));
        }
        let job = jobs::push(
            &mut tx,
            &SyncRepositories {
                installation_id: cb.installation_id,
            },
        )
        .await?;
        job_rows::record_for_org(&mut *tx, org, &job, "sync_repositories").await?;
        // The connection is watched from now on: its first health check after one interval (the
        // install itself just proved it works).
        let due = crate::integrations::whole_second(
            chrono::Utc::now()
                + chrono::Duration::from_std(self.health_interval).unwrap_or_default(),
        );
        if let Some(id) = crate::repo::integrations::ensure_installation(
            &mut *tx,
            org,
            cb.installation_id.0,
            user,
            due,
        )
        .await?
        {
            crate::integrations::schedule_check(&mut tx, id, due).await?;
        }
        let entry = NewEntry::success(AuditAction::GithubInstallationLink)
            .org(org)
            .actor(user)
            .resource(AuditResource::GithubInstallation, cb.installation_id)
            .meta(json!({ "setup_action": cb.setup_action }));
        crate::identity::audit(&mut *tx, meta, entry).await?;
        tx.commit().await?;
        Ok((org, job))
    }

    /// Whether the GitHub user of `user_token` can access the installation and administers the
    /// account it is installed on. `GET /user/installations` alone is not enough: it also lists
    /// installations the user can merely read.
    async fn installer_administers(
        &self,
        user_token: &SecretString,
        installation_id: InstallationId,
    ) -> Result<bool, Error> {
        let user_auth = Auth::Bearer(user_token);
        let mut next = Some("/user/installations?per_page=100".to_owned());
        let mut accessible = false;
        while let Some(url) = next.take() {
            let page = self
                .client
                .get::<UserInstallations>(&url, &user_auth)
                .await
                .map_err(|e| upstream(&e))?;
            if page
                .items
                .installations
                .iter()
                .any(|i| i.id == installation_id.0)
            {
                accessible = true;
                break;
            }
            next = page.next;
        }
        if !accessible {
            return Ok(false);
        }
        // Whose installation it is, in the App's own words.
        let app = self.app.as_ref().ok_or_else(|| {
            Error::rejected(
                "github_app_not_configured",
                "Verifying a GitHub App installation needs the GitHub App: set GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY on this server.",
            )
        })?;
        let jwt = app.jwt()?;
        let installation = match self
            .client
            .get::<AppInstallation>(
                &format!("/app/installations/{installation_id}"),
                &Auth::Bearer(&jwt),
            )
            .await
        {
            Ok(page) => page.items,
            Err(GithubError::NotFound) => return Ok(false),
            Err(e) => return Err(upstream(&e)),
        };
        let Some(account) = installation.account else {
            return Ok(false);
        };
        match account.kind.as_str() {
            "User" => {
                let me = self
                    .client
                    .get::<GithubUserId>("/user", &user_auth)
                    .await
                    .map_err(refused_or_upstream)?;
                Ok(me.items.id == account.id)
            }
            "Organization" => {
                // GitHub logins are ASCII letters, digits and hyphens; anything else is not asked.
                if account.login.is_empty()
                    || !account
                        .login
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                {
                    return Ok(false);
                }
                match self
                    .client
                    .get::<OrgMembership>(
                        &format!("/user/memberships/orgs/{}", account.login),
                        &user_auth,
                    )
                    .await
                {
                    Ok(m) => Ok(m.items.role == "admin" && m.items.state == "active"),
                    Err(GithubError::NotFound | GithubError::Forbidden(_)) => Ok(false),
                    Err(e) => Err(upstream(&e)),
                }
            }
            // Enterprise installations and anything new: nobody is proven to administer them.
            _ => Ok(false),
        }
    }
}

/// The App's install link for `org`, carrying a state signed with the install key, good for an
/// hour and only in the browser that gets the returned nonce as its cookie.
pub fn install_url(
    config: &crate::config::GithubConfig,
    key: &PurposeKey,
    org: OrgId,
    user: UserId,
) -> Result<InstallLink, Error> {
    let slug = config.app_slug.as_deref().ok_or_else(|| {
        Error::rejected(
            "github_app_not_configured",
            "GITHUB_APP_SLUG is not set on this server.",
        )
    })?;
    let started = signed_state::start(key, org, user, i64::from(INSTALL_STATE_TTL_SECS));
    let mut url = config.web_url.clone();
    url.set_path(&format!("/apps/{slug}/installations/new"));
    url.query_pairs_mut().append_pair("state", &started.state);
    Ok(InstallLink {
        url: url.to_string(),
        browser_nonce: started.browser_nonce,
    })
}
