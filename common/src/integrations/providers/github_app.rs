//! `github_app`: an installation of RepoPal's GitHub App linked to the organisation. Its test mints
//! an installation token (re-minting a refused cached one) and pings RepoPal's hooks on the
//! monitored repositories, reinstalling vanished ones.

use reqwest::Method;
use serde_json::{Value, json};

use sqlx::PgConnection;

use super::{Attempt, BoxFuture, Provider, SyncOutcome, TestCx};
use crate::domain::{IntegrationKind, RecoveryAction};
use crate::{
    Error,
    github::{HookHealth, TokenFreshness},
    integrations::{
        Failure, Tester,
        catalogue::{IntegrationType, object},
    },
    jobs::{self, SyncRepositories},
    repo::integrations::Integration,
    repo::repositories,
};

pub struct GithubApp;

impl Provider for GithubApp {
    fn kind(&self) -> IntegrationKind {
        IntegrationKind::GithubApp
    }

    fn entry(&self) -> IntegrationType {
        IntegrationType {
            kind: self.kind(),
            title: "GitHub App installation",
            category: "Source control",
            description: "An installation of RepoPal's GitHub App linked to this organisation; \
                          authenticates with the App's key, so it has no credentials of its own.",
            connection_test: "mint an installation token and GET /installation/repositories; \
                              ping RepoPal's hooks on monitored repositories",
            oauth: false,
            config_schema: object(
                json!({"installation_id": {"type": "integer", "minimum": 1,
                    "description": "The installation's id, linked through the App's install link"}}),
                &["installation_id"],
            ),
            credentials_schema: object(json!({}), &[]),
        }
    }

    fn links_installation(&self) -> bool {
        true
    }

    /// Lists the installation's repositories into RepoPal (the `sync_repositories` job).
    fn sync<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        integration: &'a Integration,
    ) -> BoxFuture<'a, Result<SyncOutcome, Error>> {
        Box::pin(async move {
            let installation_id = integration
                .config
                .get("installation_id")
                .and_then(Value::as_i64)
                .ok_or_else(|| Error::Invalid("config.installation_id is missing".into()))?;
            let installation_id = crate::domain::InstallationId(installation_id);
            let job = jobs::push(conn, &SyncRepositories { installation_id }).await?;
            Ok(SyncOutcome::Enqueued(job))
        })
    }

    /// The installation answers with a fresh token (a refused cached one is replaced: the
    /// `token_refreshed` recovery), and RepoPal's hooks on its monitored repositories still exist
    /// (a missing one is removed from the records and reinstalled: `hook_reinstall`).
    fn test<'a>(&'a self, t: &'a Tester, cx: &'a TestCx<'a>) -> BoxFuture<'a, Attempt> {
        Box::pin(async move {
            let (org, config) = (cx.org, cx.config);
            let installation = config
                .get("installation_id")
                .and_then(Value::as_i64)
                .map(crate::domain::InstallationId)
                .ok_or_else(|| Failure::Failed("config.installation_id is missing".into()))?;
            let gh = t.github.with_db(&t.pool, &t.keyring);
            let app = gh.app.as_ref().ok_or_else(|| {
                Failure::Failed("the GitHub App is not configured (GITHUB_APP_ID)".into())
            })?;
            let linked = crate::repo::installations::org_of(gh.pool, installation)
                .await
                .map_err(|e| Failure::Transient {
                    message: e.to_string(),
                    retry_after: None,
                })?;
            if linked != Some(org) {
                return Err(Failure::Rejected(
                    "the installation is not linked to this organisation".into(),
                ));
            }
            let mut freshness = TokenFreshness::Cached;
            let repos = loop {
                let token = gh
                    .installation_token(app, installation, freshness)
                    .await
                    .map_err(|e| match e {
                        Error::NotFound => {
                            Failure::Rejected("GitHub no longer knows this installation".into())
                        }
                        other => Failure::Transient {
                            message: other.to_string(),
                            retry_after: None,
                        },
                    })?;
                let req =
                    t.github_request(Method::GET, "/installation/repositories?per_page=1", &token);
                match t.send("GitHub", req).await {
                    Err(Failure::Rejected(_)) if freshness == TokenFreshness::Cached => {
                        // The cached installation token was revoked or expired early: mint another.
                        freshness = TokenFreshness::Fresh;
                        cx.took(RecoveryAction::TokenRefreshed);
                    }
                    other => break Tester::json("GitHub", other?).await?,
                }
            };
            let mut reinstalled = Vec::new();
            let monitored = repositories::monitored_of_installation(gh.pool, org, installation)
                .await
                .map_err(|e| Failure::Transient {
                    message: e.to_string(),
                    retry_after: None,
                })?;
            for repo in monitored.iter().take(20) {
                let ping =
                    tokio::time::timeout(t.policy.request_timeout, gh.hook_health(org, repo.id))
                        .await
                        .map_err(|_| Failure::Transient {
                            message: format!("pinging the hook of {} timed out", repo.full_name),
                            retry_after: None,
                        })?;
                match ping {
                    Ok(HookHealth::Gone) => {
                        crate::github::reinstall_hook(gh.pool, org, repo.id)
                            .await
                            .map_err(|e| Failure::Transient {
                                message: e.to_string(),
                                retry_after: None,
                            })?;
                        reinstalled.push(repo.full_name.clone());
                    }
                    Ok(_) => {}
                    Err(e) => {
                        return Err(Failure::Transient {
                            message: format!("pinging the hook of {}: {e}", repo.full_name),
                            retry_after: None,
                        });
                    }
                }
            }
            if !reinstalled.is_empty() {
                cx.took(RecoveryAction::HookReinstall);
            }
            Ok(json!({
                "installation_id": installation,
                "repositories": repos["total_count"],
                "hooks_checked": monitored.len().min(20),
                "hooks_reinstalled": reinstalled,
            }))
        })
    }
}
