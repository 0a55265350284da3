//! Repository webhooks RepoPal installs: one per monitored repository, with its own random secret
//! (sealed), for `workflow_run`, `workflow_job`, `check_suite` and `push`. Installing is idempotent
//! (an existing RepoPal hook is reused, one an interrupted attempt created is adopted, others replaced), removal treats 404 as done, and creation is
//! paced so bulk connects stay under GitHub's secondary limits.

use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

use super::{GithubDb, GithubError, client::Auth};
use crate::{
    Error,
    crypto::{keyring::Binding, tokens},
    domain::{InstallationId, OrgId, RepositoryId},
    repo::{effect_attempts, repositories, repository_hooks},
};

/// Where an install attempt's secret is sealed while the hook is being created.
fn mark_binding(key: &str) -> Binding<'_> {
    Binding {
        table: "effect_attempts",
        column: "detail",
        row_id: key,
    }
}

pub const HOOK_EVENTS: [&str; 4] = ["workflow_run", "workflow_job", "check_suite", "push"];

#[derive(Debug, Deserialize)]
struct HookConfig {
    url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Hook {
    id: i64,
    config: HookConfig,
}

/// Whether RepoPal's hook on a repository still works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookHealth {
    /// GitHub accepted a ping.
    Alive,
    /// GitHub no longer has the hook (deleted by someone, or the repository moved).
    Gone,
    /// RepoPal has not installed one (yet).
    NotInstalled,
}

/// What installing did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookOutcome {
    Created(i64),
    AlreadyInstalled(i64),
    /// Monitoring was switched off meanwhile: nothing to do.
    NotMonitored,
}

impl GithubDb<'_> {
    fn receiver_url(&self) -> String {
        let mut url = self.public_url.clone();
        url.set_path("/api/v1/webhooks/github");
        url.to_string()
    }

    /// Installs RepoPal's hook on a monitored repository (one install or removal per repository
    /// at a time across all workers).
    pub async fn install_hook(
        &self,
        org: OrgId,
        repository: RepositoryId,
    ) -> Result<HookOutcome, Error> {
        self.exclusively(
            &format!("repopal:hook:{repository}"),
            self.install_hook_locked(org, repository),
        )
        .await
    }

    async fn install_hook_locked(
        &self,
        org: OrgId,
        repository: RepositoryId,
    ) -> Result<HookOutcome, Error> {
        let repo = repositories::find(self.pool, org, repository)
            .await?
            .ok_or(Error::NotFound)?;
        if !repo.monitoring_enabled || repo.removed_at.is_some() {
            return Ok(HookOutcome::NotMonitored);
        }
        let installation = repo.installation_id.ok_or_else(|| {
            Error::rejected(
                "no_installation",
                "the repository is not reachable through an App installation",
            )
        })?;
        let hooks_path = format!("/repos/{}/hooks", repo.full_name);
        let receiver = self.receiver_url();
        let existing: Vec<Hook> = self
            .with_installation_token(installation, |t| {
                let path = hooks_path.clone();
                async move {
                    self.client
                        .get::<Vec<Hook>>(&path, &Auth::Bearer(&t))
                        .await
                        .map(|p| p.items)
                }
            })
            .await?;
        let ours: Vec<i64> = existing
            .iter()
            .filter(|h| h.config.url.as_deref() == Some(&receiver))
            .map(|h| h.id)
            .collect();
        let known = repository_hooks::for_repository(self.pool, org, repo.github_id).await?;
        if let Some(id) = ours.iter().find(|id| known.contains(id)) {
            return Ok(HookOutcome::AlreadyInstalled(*id));
        }
        // A RepoPal hook we hold no secret for: the one an interrupted earlier attempt created
        // (its secret is in the attempt's mark) is adopted; any other is replaced, since its
        // deliveries could not be verified.
        let mark_key = format!("hook:{repository}");
        let mark = effect_attempts::find(self.pool, &mark_key).await?;
        let marked_secret = mark
            .as_ref()
            .and_then(|m| m.detail.get("secret_sealed"))
            .and_then(serde_json::Value::as_str)
            // A mark sealed with a key since retired cannot be opened: then it is no help.
            .and_then(|sealed| self.keyring.open(mark_binding(&mark_key), sealed).ok());
        if let (Some(secret), [id]) = (&marked_secret, ours.as_slice()) {
            self.store_hook(org, repo.github_id, *id, secret).await?;
            effect_attempts::finish(self.pool, &mark_key).await?;
            tracing::info!(hook = id, "adopted the hook an interrupted attempt created");
            return Ok(HookOutcome::Created(*id));
        }
        for id in ours {
            self.delete_hook(installation, &repo.full_name, id).await?;
            repository_hooks::delete(self.pool, org, id).await?;
        }
        self.hook_pacer.until_ready().await;
        let (secret, _) = tokens::generate("rph_");
        let secret = SecretString::from(secret);
        // Committed before GitHub is asked: a crash after GitHub created the hook leaves the
        // secret here for the retry to adopt the hook with.
        let sealed_for_mark = self.keyring.seal(mark_binding(&mark_key), &secret)?;
        effect_attempts::replace(
            self.pool,
            &mark_key,
            &json!({ "secret_sealed": sealed_for_mark }),
        )
        .await?;
        let body = json!({
            "name": "web",
            "active": true,
            "events": HOOK_EVENTS,
            "config": { "url": receiver, "content_type": "json", "insecure_ssl": "0", "secret": secret.expose_secret() },
        });
        let created: Hook = self
            .with_installation_token(installation, |t| {
                let (path, body) = (hooks_path.clone(), body.clone());
                async move {
                    self.client
                        .send::<Hook>(Method::POST, &path, &Auth::Bearer(&t), Some(&body))
                        .await
                        .map(|p| p.items)
                }
            })
            .await?;
        self.store_hook(org, repo.github_id, created.id, &secret)
            .await?;
        effect_attempts::finish(self.pool, &mark_key).await?;
        Ok(HookOutcome::Created(created.id))
    }

    /// Seals the hook's secret to its row and stores it.
    async fn store_hook(
        &self,
        org: OrgId,
        repository_github_id: i64,
        hook_id: i64,
        secret: &SecretString,
    ) -> Result<(), Error> {
        let row_id = hook_id.to_string();
        let sealed = self.keyring.seal(
            Binding {
                table: "github_repository_hooks",
                column: "secret_sealed",
                row_id: &row_id,
            },
            secret,
        )?;
        repository_hooks::insert(self.pool, org, hook_id, repository_github_id, &sealed).await
    }

    async fn delete_hook(
        &self,
        installation: InstallationId,
        full_name: &str,
        hook_id: i64,
    ) -> Result<(), Error> {
        let path = format!("/repos/{full_name}/hooks/{hook_id}");
        self.with_installation_token(installation, |t| {
            let path = path.clone();
            async move {
                match self
                    .client
                    .send::<()>(Method::DELETE, &path, &Auth::Bearer(&t), None)
                    .await
                {
                    Err(GithubError::NotFound) => Ok(()),
                    other => other.map(|_| ()),
                }
            }
        })
        .await
    }

    /// Removes RepoPal's hook from a repository (already gone counts as done).
    pub async fn remove_hook(&self, org: OrgId, repository: RepositoryId) -> Result<u32, Error> {
        self.exclusively(
            &format!("repopal:hook:{repository}"),
            self.remove_hook_locked(org, repository),
        )
        .await
    }

    async fn remove_hook_locked(&self, org: OrgId, repository: RepositoryId) -> Result<u32, Error> {
        let repo = repositories::find(self.pool, org, repository)
            .await?
            .ok_or(Error::NotFound)?;
        if repo.monitoring_enabled {
            // Connected again after this removal was requested: the hook stays.
            return Ok(0);
        }
        let hooks = repository_hooks::for_repository(self.pool, org, repo.github_id).await?;
        let Some(installation) = repo.installation_id else {
            repository_hooks::delete_for_repository(self.pool, org, repo.github_id).await?;
            return Ok(0);
        };
        for id in &hooks {
            self.delete_hook(installation, &repo.full_name, *id).await?;
            repository_hooks::delete(self.pool, org, *id).await?;
        }
        Ok(u32::try_from(hooks.len()).unwrap_or(u32::MAX))
    }

    /// Asks GitHub to send RepoPal's hook a `ping`.
    pub async fn ping_hook(&self, org: OrgId, repository: RepositoryId) -> Result<i64, Error> {
        let repo = repositories::find(self.pool, org, repository)
            .await?
            .ok_or(Error::NotFound)?;
        let installation = repo.installation_id.ok_or(Error::NotFound)?;
        let hook = *repository_hooks::for_repository(self.pool, org, repo.github_id)
            .await?
            .first()
            .ok_or_else(|| {
                Error::rejected(
                    "no_hook",
                    "RepoPal's webhook is not installed on this repository",
                )
            })?;
        let path = format!("/repos/{}/hooks/{hook}/pings", repo.full_name);
        self.with_installation_token(installation, |t| {
            let path = path.clone();
            async move {
                self.client
                    .send::<()>(Method::POST, &path, &Auth::Bearer(&t), None)
                    .await
                    .map(|_| ())
            }
        })
        .await?;
        Ok(hook)
    }
}

impl GithubDb<'_> {
    /// Pings RepoPal's hook on a monitored repository to see whether it still exists.
    pub async fn hook_health(
        &self,
        org: OrgId,
        repository: RepositoryId,
    ) -> Result<HookHealth, Error> {
        let repo = repositories::find(self.pool, org, repository)
            .await?
            .ok_or(Error::NotFound)?;
        let Some(installation) = repo.installation_id else {
            return Ok(HookHealth::NotInstalled);
        };
        let Some(hook) = repository_hooks::for_repository(self.pool, org, repo.github_id)
            .await?
            .first()
            .copied()
        else {
            return Ok(HookHealth::NotInstalled);
        };
        let path = format!("/repos/{}/hooks/{hook}/pings", repo.full_name);
        let result = self
            .with_installation_token(installation, |t| {
                let path = path.clone();
                async move {
                    match self
                        .client
                        .send::<()>(Method::POST, &path, &Auth::Bearer(&t), None)
                        .await
                    {
                        Ok(_) => Ok(HookHealth::Alive),
                        Err(GithubError::NotFound) => Ok(HookHealth::Gone),
                        Err(e) => Err(e),
                    }
                }
            })
            .await?;
        Ok(result)
    }
}

/// Forgets a repository's vanished hook and enqueues its re-installation.
pub async fn reinstall_hook(
    pool: &sqlx::PgPool,
    org: OrgId,
    repository: RepositoryId,
) -> Result<(), Error> {
    let mut tx = pool.begin().await?;
    let repo = repositories::find(&mut *tx, org, repository)
        .await?
        .ok_or(Error::NotFound)?;
    repository_hooks::delete_for_repository(&mut *tx, org, repo.github_id).await?;
    crate::jobs::push(
        &mut tx,
        &crate::jobs::RepositoryWebhook {
            org_id: org,
            repository_id: repository,
            action: crate::jobs::HookAction::Install,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
