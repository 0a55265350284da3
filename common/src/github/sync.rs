//! Repository sync of an installation: page by page (bounded memory, whatever the count), each
//! page upserted as it arrives, then repositories the sync did not see are marked removed. One
//! sync per installation at a time across all workers (a session advisory lock).

use serde::Deserialize;
use uuid::Uuid;

use super::{Github, client::Auth};
use crate::{
    Error,
    repo::{
        installations,
        repositories::{self, RepoIn},
    },
};

#[derive(Debug, Deserialize)]
struct RepoItem {
    id: i64,
    full_name: String,
    default_branch: Option<String>,
    visibility: Option<String>,
    #[serde(default)]
    archived: bool,
}

#[derive(Debug, Deserialize)]
struct InstallationRepos {
    repositories: Vec<RepoItem>,
}

/// What a sync did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub pages: u32,
    pub repositories: u64,
    pub removed: u64,
}

impl Github {
    /// Syncs the repositories of `installation_id` into its organisation.
    pub async fn sync_installation(&self, installation_id: i64) -> Result<SyncReport, Error> {
        let Some(org) = installations::org_of(&self.pool, installation_id).await? else {
            return Err(Error::rejected(
                "installation_not_linked",
                "the installation is not linked to an organisation",
            ));
        };
        self.exclusively(
            &format!("repopal:sync:{installation_id}"),
            self.sync_locked(org, installation_id),
        )
        .await
    }

    async fn sync_locked(
        &self,
        org: crate::domain::OrgId,
        installation_id: i64,
    ) -> Result<SyncReport, Error> {
        let sync_id = Uuid::new_v4();
        let mut report = SyncReport::default();
        let mut next = Some("/installation/repositories?per_page=100".to_owned());
        while let Some(url) = next.take() {
            let page = self
                .with_installation_token(installation_id, |token| {
                    let url = url.clone();
                    async move {
                        self.client
                            .get::<InstallationRepos>(&url, &Auth::Bearer(&token))
                            .await
                    }
                })
                .await?;
            let repos: Vec<RepoIn> = page
                .items
                .repositories
                .into_iter()
                .map(|r| RepoIn {
                    github_id: r.id,
                    full_name: r.full_name,
                    default_branch: r.default_branch,
                    visibility: r.visibility,
                    archived: r.archived,
                })
                .collect();
            report.repositories +=
                repositories::upsert_page(&self.pool, org, Some(installation_id), sync_id, &repos)
                    .await?;
            report.pages += 1;
            next = page.next;
        }
        report.removed =
            repositories::mark_vanished(&self.pool, org, installation_id, sync_id).await?;
        installations::mark_synced(&self.pool, installation_id).await?;
        Ok(report)
    }
}

impl Github {
    /// Syncs the repositories a user's OAuth connection can see (`GET /user/repos`) into `org`.
    pub async fn sync_connection(
        &self,
        org: crate::domain::OrgId,
        connection: Uuid,
    ) -> Result<SyncReport, Error> {
        self.exclusively(
            &format!("repopal:sync:connection:{connection}"),
            self.sync_connection_locked(org, connection),
        )
        .await
    }

    async fn sync_connection_locked(
        &self,
        org: crate::domain::OrgId,
        connection: Uuid,
    ) -> Result<SyncReport, Error> {
        let tokens = crate::repo::oauth::sealed_tokens(&self.pool, connection)
            .await?
            .ok_or(Error::NotFound)?;
        if tokens.status != "active" {
            return Err(Error::rejected(
                "reauth_required",
                "the connection must be authorised again",
            ));
        }
        let row = connection.to_string();
        let token = self.keyring.open(
            crate::crypto::keyring::Binding {
                table: "oauth_connections",
                column: "access_token_sealed",
                row_id: &row,
            },
            &tokens.access_token_sealed,
        )?;
        let sync_id = Uuid::new_v4();
        let mut report = SyncReport::default();
        let mut next = Some("/user/repos?per_page=100".to_owned());
        while let Some(url) = next.take() {
            let page = self
                .client
                .get::<Vec<RepoItem>>(&url, &Auth::Bearer(&token))
                .await
                .map_err(|e| Error::Upstream {
                    provider: "github",
                    message: e.to_string(),
                })?;
            let repos: Vec<RepoIn> = page
                .items
                .into_iter()
                .map(|r| RepoIn {
                    github_id: r.id,
                    full_name: r.full_name,
                    default_branch: r.default_branch,
                    visibility: r.visibility,
                    archived: r.archived,
                })
                .collect();
            report.repositories +=
                repositories::upsert_connection_page(&self.pool, org, connection, sync_id, &repos)
                    .await?;
            report.pages += 1;
            next = page.next;
        }
        report.removed =
            repositories::mark_connection_vanished(&self.pool, org, connection, sync_id).await?;
        Ok(report)
    }
}
