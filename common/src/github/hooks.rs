//! Repository webhooks RepoPal installs: one per monitored repository, with its own random secret
//! (sealed, and stored BEFORE the create call, since GitHub pings a new hook at once), for
//! `workflow_run`, `workflow_job`, `check_suite` and `ping`, with whichever credential reaches the
//! repository (the App's installation first, else the user's OAuth connection). Installing is
//! idempotent (an existing RepoPal hook is reused; one an interrupted attempt created is adopted
//! with its pending secret; others are replaced), removal treats 404 as done, and creation is
//! paced so bulk connects stay under GitHub's secondary limits.

use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

use super::{GithubDb, GithubError, RepoAccess, client::Auth};
use crate::{
    Error,
    crypto::{
        keyring::{Binding, SealedColumn},
        tokens,
    },
    domain::{OrgId, RepositoryId},
    repo::{
        repositories::{self, HookState},
        repository_hooks,
    },
};

/// Where a hook's secret is sealed between the create call and GitHub's answer.
fn pending_binding(row_id: &str) -> Binding<'_> {
    Binding::new(SealedColumn::PendingHookSecret, row_id)
}

pub const HOOK_EVENTS: [&str; 4] = ["workflow_run", "workflow_job", "check_suite", "ping"];

/// A hook GitHub created, with its secret and the pending row that held the secret meanwhile.
#[derive(Clone, Copy)]
struct CreatedHook<'a> {
    hook_id: i64,
    secret: &'a SecretString,
    pending: uuid::Uuid,
}

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

fn hook_forbidden() -> Error {
    Error::forbidden(
        "github_hook_forbidden",
        "GitHub refused to manage the repository's webhooks: the credential needs admin rights on the repository (a GitHub App with webhook permission, or a token with admin:repo_hook).",
    )
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
        let access = RepoAccess::require(&repo)?;
        let hooks_path = format!("/repos/{}/hooks", repo.full_name);
        let receiver = self.receiver_url();
        let existing: Vec<Hook> = self
            .with_access(access, |t| {
                let path = hooks_path.clone();
                async move {
                    match self.client.get::<Vec<Hook>>(&path, &Auth::Bearer(&t)).await {
                        Ok(page) => Ok(Ok(page.items)),
                        // GitHub hides hooks from a credential that may not manage them.
                        Err(GithubError::Forbidden(_) | GithubError::NotFound) => Ok(Err(())),
                        Err(e) => Err(e),
                    }
                }
            })
            .await?
            .map_err(|()| hook_forbidden())?;
        let ours: Vec<i64> = existing
            .iter()
            .filter(|h| h.config.url.as_deref() == Some(&receiver))
            .map(|h| h.id)
            .collect();
        let known = repository_hooks::for_repository(self.pool, org, repo.github_id).await?;
        if let Some(id) = ours.iter().find(|id| known.contains(id)) {
            repositories::set_hook_state(self.pool, org, repo.id, HookState::Active, None).await?;
            return Ok(HookOutcome::AlreadyInstalled(*id));
        }
        // A RepoPal hook we hold no secret for: the one an interrupted earlier attempt created is
        // adopted; any other is replaced, since its deliveries could not be verified. The pending
        // secret this organisation's interrupted attempt stored before its create call: GitHub may
        // have created that hook (then it is the only RepoPal hook we hold no secret for).
        let pending = repository_hooks::pending_for_repository(
            self.pool,
            repository_hooks::PendingOf::Org(org),
            repo.github_id,
        )
        .await?
        .into_iter()
        // A secret sealed with a key since retired cannot be opened: then it is no help.
        .find_map(|(id, sealed)| {
            let row_id = id.to_string();
            self.keyring
                .open(pending_binding(&row_id), &sealed)
                .ok()
                .map(|secret| (id, secret))
        });
        if let (Some((pending, secret)), [id]) = (&pending, ours.as_slice()) {
            let adopted = CreatedHook {
                hook_id: *id,
                secret,
                pending: *pending,
            };
            self.store_hook(org, &repo, adopted).await?;
            tracing::info!(hook = id, "adopted the hook an interrupted attempt created");
            return Ok(HookOutcome::Created(*id));
        }
        for id in ours {
            self.delete_hook(access, &repo.full_name, id).await?;
            repository_hooks::delete(self.pool, org, id).await?;
        }
        self.hook_pacer.until_ready().await;
        let (secret, _) = tokens::generate("rph_");
        let secret = SecretString::from(secret);
        // Known to the receiver before GitHub's immediate ping can arrive, and to a retry that
        // finds the hook created after a crash (adopted above).
        let pending = uuid::Uuid::new_v4();
        let pending_row = pending.to_string();
        let sealed_pending = self.keyring.seal(pending_binding(&pending_row), &secret)?;
        repository_hooks::clear_pending(self.pool, org, repo.github_id).await?;
        repository_hooks::insert_pending(self.pool, pending, org, repo.github_id, &sealed_pending)
            .await?;
        let body = json!({
            "name": "web",
            "active": true,
            "events": HOOK_EVENTS,
            "config": { "url": receiver, "content_type": "json", "insecure_ssl": "0", "secret": secret.expose_secret() },
        });
        let created: Result<Result<Hook, ()>, Error> = self
            .with_access(access, |t| {
                let (path, body) = (hooks_path.clone(), body.clone());
                async move {
                    match self
                        .client
                        .send::<Hook>(Method::POST, &path, &Auth::Bearer(&t), Some(&body))
                        .await
                    {
                        Ok(page) => Ok(Ok(page.items)),
                        // Not allowed (no admin rights, or a token without `admin:repo_hook`):
                        // trying again will not help.
                        Err(GithubError::Forbidden(_) | GithubError::NotFound) => Ok(Err(())),
                        Err(e) => Err(e),
                    }
                }
            })
            .await;
        let created = match created {
            Ok(Ok(hook)) => hook,
            Ok(Err(())) => {
                // Refused: no hook was created.
                repository_hooks::delete_pending(self.pool, org, pending).await?;
                return Err(hook_forbidden());
            }
            // This may have come after GitHub created the hook: the pending secret stays for
            // the retry to adopt the hook with.
            Err(e) => return Err(e),
        };
        let hook = CreatedHook {
            hook_id: created.id,
            secret: &secret,
            pending,
        };
        self.store_hook(org, &repo, hook).await?;
        Ok(HookOutcome::Created(created.id))
    }

    /// Seals the hook's secret to its row, stores it in place of the pending one and marks the
    /// repository's hook active.
    async fn store_hook(
        &self,
        org: OrgId,
        repo: &repositories::Repository,
        hook: CreatedHook<'_>,
    ) -> Result<(), Error> {
        let CreatedHook {
            hook_id,
            secret,
            pending,
        } = hook;
        let row_id = hook_id.to_string();
        let sealed = self.keyring.seal(
            Binding::new(SealedColumn::RepositoryHookSecret, &row_id),
            secret,
        )?;
        let mut tx = self.pool.begin().await?;
        repository_hooks::insert(&mut *tx, org, hook_id, repo.github_id, &sealed).await?;
        repository_hooks::delete_pending(&mut *tx, org, pending).await?;
        repositories::set_hook_state(&mut *tx, org, repo.id, HookState::Active, None).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_hook(
        &self,
        access: RepoAccess,
        full_name: &str,
        hook_id: i64,
    ) -> Result<(), Error> {
        let path = format!("/repos/{full_name}/hooks/{hook_id}");
        self.with_access(access, |t| {
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
        let Some(access) = RepoAccess::of(&repo) else {
            repository_hooks::delete_for_repository(self.pool, org, repo.github_id).await?;
            return Ok(0);
        };
        for id in &hooks {
            self.delete_hook(access, &repo.full_name, *id).await?;
            repository_hooks::delete(self.pool, org, *id).await?;
        }
        Ok(u32::try_from(hooks.len()).unwrap_or(u32::MAX))
    }

    /// Asks GitHub to send RepoPal's hook a `ping`.
    pub async fn ping_hook(&self, org: OrgId, repository: RepositoryId) -> Result<i64, Error> {
        let repo = repositories::find(self.pool, org, repository)
            .await?
            .ok_or(Error::NotFound)?;
        let access = RepoAccess::require(&repo)?;
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
        self.with_access(access, |t| {
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
        let Some(access) = RepoAccess::of(&repo) else {
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
            .with_access(access, |t| {
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
    repositories::set_hook_state(&mut *tx, org, repository, HookState::Pending, None).await?;
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
