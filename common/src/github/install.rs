//! The signed `state` of the App install link: which organisation (and who) asked, until when.
//! `org.user.expiry.hmac` with HMAC-SHA256, so the setup callback can trust it without a session.

use chrono::Utc;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

use crate::domain::{OrgId, UserId};

pub struct InstallState;

impl InstallState {
    fn mac(key: &[u8], purpose: &str, payload: &str) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(key).unwrap_or_else(|_| unreachable!("any key length"));
        mac.update(format!("repopal-{purpose}-state:").as_bytes());
        mac.update(payload.as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    pub fn sign(key: &[u8], org: OrgId, user: UserId, ttl_secs: i64) -> String {
        Self::sign_for(key, "install", org, user, ttl_secs)
    }

    /// The organisation and user of a valid, unexpired state.
    pub fn verify(key: &[u8], state: &str) -> Option<(OrgId, UserId)> {
        Self::verify_for(key, "install", state)
    }

    /// A state for another flow (`purpose`), which no other flow accepts.
    pub fn sign_for(key: &[u8], purpose: &str, org: OrgId, user: UserId, ttl_secs: i64) -> String {
        // A random nonce makes every link distinct (each can be used once).
        let nonce = Uuid::new_v4().simple();
        let payload = format!(
            "{}.{}.{}.{nonce}",
            org.0.simple(),
            user.0.simple(),
            Utc::now().timestamp() + ttl_secs
        );
        format!("{payload}.{}", Self::mac(key, purpose, &payload))
    }

    pub fn verify_for(key: &[u8], purpose: &str, state: &str) -> Option<(OrgId, UserId)> {
        let (payload, mac) = state.rsplit_once('.')?;
        if !crate::crypto::tokens::constant_time_eq(
            Self::mac(key, purpose, payload).as_bytes(),
            mac.as_bytes(),
        ) {
            return None;
        }
        let mut parts = payload.split('.');
        let org = Uuid::parse_str(parts.next()?).ok()?;
        let user = Uuid::parse_str(parts.next()?).ok()?;
        let exp: i64 = parts.next()?.parse().ok()?;
        (exp > Utc::now().timestamp()).then_some((OrgId(org), UserId(user)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_states_verify_and_others_do_not() {
        let (org, user) = (OrgId::new(), UserId::new());
        let s = InstallState::sign(b"key", org, user, 600);
        assert_eq!(InstallState::verify(b"key", &s), Some((org, user)));
        assert_eq!(InstallState::verify(b"other", &s), None);
        let tampered = s.replacen(
            &org.0.simple().to_string(),
            &OrgId::new().0.simple().to_string(),
            1,
        );
        assert_eq!(InstallState::verify(b"key", &tampered), None);
        assert_eq!(
            InstallState::verify(b"key", &InstallState::sign(b"key", org, user, -1)),
            None,
            "expired"
        );
    }
}

#[derive(serde::Deserialize)]
struct UserInstallation {
    id: i64,
}

#[derive(serde::Deserialize)]
struct UserInstallations {
    installations: Vec<UserInstallation>,
}

impl super::Github {
    /// Links an installation to the organisation named by a valid, unused install state, after
    /// proving the person completing the install can access that installation: the App must request
    /// user authorization during installation, and the `code` it returns is exchanged for a user
    /// token whose `GET /user/installations` has to list the installation. Then the first sync is
    /// enqueued.
    pub async fn complete_install(
        &self,
        key: &[u8],
        meta: &crate::identity::ClientMeta,
        state: &str,
        installation_id: i64,
        setup_action: &str,
        code: Option<&str>,
    ) -> Result<(OrgId, crate::jobs::JobId), crate::Error> {
        use oauth2::{AuthorizationCode, TokenResponse};
        use secrecy::SecretString;

        use super::client::Auth;
        use crate::{
            Error,
            jobs::{self, SyncRepositories},
            repo::{audit_logs::NewEntry, installations, jobs as job_rows, oauth},
        };
        let (org, user) = InstallState::verify(key, state).ok_or_else(|| {
            Error::rejected(
                "invalid_install_state",
                "The install link is invalid or expired; start again.",
            )
        })?;
        let code = code.ok_or_else(|| {
            Error::rejected(
                "install_code_missing",
                "The App must request user authorization during installation, so the installation can be verified.",
            )
        })?;
        // Each install link works once.
        let state_hash = crate::crypto::tokens::hash(state);
        if !oauth::use_once(&self.pool, &state_hash, "github_install").await? {
            return Err(Error::rejected(
                "invalid_install_state",
                "This install link was already used; start again.",
            ));
        }
        let token = super::oauth_client(&self.config, None)?
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .request_async(&self.oauth_http)
            .await
            .map_err(|_| {
                Error::rejected(
                    "oauth_code_invalid",
                    "The GitHub authorization code is invalid or expired.",
                )
            })?;
        let user_token = SecretString::from(token.access_token().secret().clone());
        let mut next = Some("/user/installations?per_page=100".to_owned());
        let mut accessible = false;
        while let Some(url) = next.take() {
            let page = self
                .client
                .get::<UserInstallations>(&url, &Auth::Bearer(&user_token))
                .await
                .map_err(|e| Error::Upstream {
                    provider: "github",
                    message: e.to_string(),
                })?;
            if page
                .items
                .installations
                .iter()
                .any(|i| i.id == installation_id)
            {
                accessible = true;
                break;
            }
            next = page.next;
        }
        if !accessible {
            return Err(Error::forbidden(
                "installation_not_yours",
                "Your GitHub account cannot access this installation.",
            ));
        }
        let mut tx = self.pool.begin().await?;
        if !installations::link(&mut *tx, installation_id, org).await? {
            return Err(Error::conflict(
                "installation_linked_elsewhere",
                "This installation belongs to another organisation.",
            ));
        }
        let job = jobs::push(&mut tx, &SyncRepositories { installation_id }).await?;
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
            installation_id,
            user,
            due,
        )
        .await?
        {
            crate::integrations::schedule_check(&mut tx, id, due).await?;
        }
        let entry = NewEntry::success("github.installation_link")
            .org(org)
            .actor(user)
            .resource("github_installation", installation_id)
            .meta(serde_json::json!({ "setup_action": setup_action }));
        crate::identity::audit(&mut *tx, meta, entry).await?;
        tx.commit().await?;
        Ok((org, job))
    }
}

/// The App's install link for `org`, carrying a signed state good for an hour.
pub fn install_url(
    config: &crate::config::GithubConfig,
    key: &[u8],
    org: OrgId,
    user: UserId,
) -> Result<String, crate::Error> {
    let slug = config.app_slug.as_deref().ok_or_else(|| {
        crate::Error::rejected(
            "github_app_not_configured",
            "GITHUB_APP_SLUG is not set on this server.",
        )
    })?;
    let mut url = config.web_url.clone();
    url.set_path(&format!("/apps/{slug}/installations/new"));
    url.query_pairs_mut()
        .append_pair("state", &InstallState::sign(key, org, user, 3600));
    Ok(url.to_string())
}
