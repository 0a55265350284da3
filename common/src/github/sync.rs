//! Repository sync, from an App installation (`GET /installation/repositories`) or a user's OAuth
//! connection (`GET /user/repos`): page by page (bounded memory, whatever the count), each page
//! upserted as it arrives, then repositories the sync did not see are marked removed. One sync per
//! source at a time across all workers (a session advisory lock).

use std::future::Future;

use serde::Deserialize;
use uuid::Uuid;

use super::{GithubDb, Page, client::Auth};
use crate::{
    Error,
    crypto::keyring::{Binding, SealedColumn},
    domain::{InstallationId, OrgId},
    repo::{
        installations, oauth,
        repositories::{self, RepoIn, RepoSource},
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

impl From<RepoItem> for RepoIn {
    fn from(r: RepoItem) -> Self {
        Self {
            github_id: r.id,
            full_name: r.full_name,
            default_branch: r.default_branch,
            visibility: r.visibility,
            archived: r.archived,
        }
    }
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

impl GithubDb<'_> {
    /// Syncs the repositories of `installation_id` into its organisation.
    pub async fn sync_installation(
        &self,
        installation_id: InstallationId,
    ) -> Result<SyncReport, Error> {
        let Some(org) = installations::org_of(self.pool, installation_id).await? else {
            return Err(Error::rejected(
                "installation_not_linked",
                "the installation is not linked to an organisation",
            ));
        };
        let work = async {
            let report = self
                .sync_pages(
                    org,
                    RepoSource::Installation(installation_id),
                    "/installation/repositories?per_page=100",
                    |url| {
                        self.with_installation_token(installation_id, move |token| {
                            let url = url.clone();
                            async move {
                                let page = self
                                    .client
                                    .get::<InstallationRepos>(&url, &Auth::Bearer(&token))
                                    .await?;
                                Ok(Page {
                                    items: page.items.repositories,
                                    next: page.next,
                                })
                            }
                        })
                    },
                )
                .await?;
            installations::mark_synced(self.pool, org, installation_id).await?;
            Ok(report)
        };
        self.exclusively(&format!("repopal:sync:{installation_id}"), work)
            .await
    }

    /// Syncs the repositories a user's OAuth connection can see (`GET /user/repos`) into `org`.
    pub async fn sync_connection(
        &self,
        org: OrgId,
        connection: crate::domain::ConnectionId,
    ) -> Result<SyncReport, Error> {
        let tokens = oauth::sealed_tokens(self.pool, connection)
            .await?
            .ok_or(Error::NotFound)?;
        if tokens.status != crate::domain::ConnectionStatus::Active {
            return Err(Error::rejected(
                crate::domain::ConnectionStatus::ReauthRequired.as_str(),
                "the connection must be authorised again",
            ));
        }
        let row = connection.to_string();
        let at = Binding::new(SealedColumn::OauthAccessToken, &row);
        let token = self.keyring.open(at, &tokens.access_token_sealed)?;
        let work = self.sync_pages(
            org,
            RepoSource::Connection(connection.0),
            "/user/repos?per_page=100",
            |url| {
                let token = &token;
                async move {
                    self.client
                        .get::<Vec<RepoItem>>(&url, &Auth::Bearer(token))
                        .await
                        .map_err(|e| Error::Upstream {
                            provider: crate::domain::Upstream::Github,
                            message: e.to_string(),
                        })
                }
            },
        );
        self.exclusively(&format!("repopal:sync:connection:{connection}"), work)
            .await
    }

    /// The page loop shared by both sources: fetch, upsert, follow `next`, then mark what vanished.
    async fn sync_pages<F, Fut>(
        &self,
        org: OrgId,
        source: RepoSource,
        first: &str,
        fetch: F,
    ) -> Result<SyncReport, Error>
    where
        F: Fn(String) -> Fut,
        Fut: Future<Output = Result<Page<Vec<RepoItem>>, Error>>,
    {
        let sync_id = Uuid::new_v4();
        let mut report = SyncReport::default();
        let mut next = Some(first.to_owned());
        while let Some(url) = next.take() {
            let page = fetch(url).await?;
            let repos: Vec<RepoIn> = page.items.into_iter().map(RepoIn::from).collect();
            report.repositories +=
                repositories::upsert_page(self.pool, org, source, sync_id, &repos).await?;
            report.pages += 1;
            next = page.next;
        }
        report.removed = repositories::mark_vanished(self.pool, org, source, sync_id).await?;
        Ok(report)
    }
}
