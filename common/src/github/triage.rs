//! Triage context from GitHub for an organisation's repository, through whichever credential
//! reaches it: directory listings, file contents (capped), workflow files with their YAML, a
//! commit's changed files with patches (capped), and a job's full log (streamed, capped).
//! Answers are cached by ETag (a 304 costs no rate limit); GitHub's rate limits surface as
//! `Error::UpstreamRateLimited`. Every path segment is checked and percent-encoded, so no input
//! can reach another GitHub endpoint.

use crate::domain::RepositoryId;
use base64::Engine;
use serde::{Deserialize, de::DeserializeOwned};

pub use super::triage_input::{encoded_path, valid_sha};
pub use super::triage_types::{ChangedFile, CommitDiff, Entry, FileContent, Workflow};
use super::{
    GithubDb, GithubError, RepoAccess,
    client::Auth,
    client::Conditional,
    triage_input::{encoded_ref, invalid},
    upstream,
};
use crate::{
    Error,
    domain::OrgId,
    repo::{github_cache, repositories, repositories::Repository},
};

/// The largest file whose content is returned.
pub const FILE_MAX_BYTES: u64 = 256 * 1024;
/// A commit diff: at most this many files, each patch at most `PATCH_MAX_BYTES`, all patches
/// together at most `DIFF_MAX_BYTES`.
pub const DIFF_MAX_FILES: usize = 100;
pub const PATCH_MAX_BYTES: usize = 32 * 1024;
pub const DIFF_MAX_BYTES: usize = 256 * 1024;
/// Workflows listed (each with its YAML).
pub const WORKFLOWS_MAX: usize = 50;
/// The largest GitHub JSON answer read.
const ANSWER_MAX_BYTES: usize = 4 * 1024 * 1024;

#[derive(Deserialize)]
struct RawFile {
    path: String,
    sha: String,
    size: u64,
    #[serde(rename = "type")]
    kind: String,
    content: Option<String>,
    encoding: Option<String>,
    html_url: Option<String>,
}

#[derive(Deserialize)]
struct RawCommit {
    sha: String,
    html_url: Option<String>,
    commit: RawCommitDetail,
    #[serde(default)]
    files: Vec<ChangedFile>,
}

#[derive(Deserialize)]
struct RawCommitDetail {
    message: String,
}

#[derive(Deserialize)]
struct RawWorkflows {
    workflows: Vec<RawWorkflow>,
}

#[derive(Deserialize)]
struct RawWorkflow {
    id: i64,
    name: String,
    path: String,
    state: String,
    html_url: Option<String>,
}

fn cut(text: &mut String, max: usize) -> bool {
    if text.len() <= max {
        return false;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    true
}

/// A file of a repository at a ref (`None`: the default branch).
#[derive(Clone, Copy)]
struct FileAt<'a> {
    path: &'a str,
    git_ref: Option<&'a str>,
}

impl<'a> FileAt<'a> {
    /// The file on the default branch.
    fn head(path: &'a str) -> Self {
        Self {
            path,
            git_ref: None,
        }
    }
}

impl GithubDb<'_> {
    /// The organisation's repository and the credential that reaches it (404 for another org's).
    pub async fn reachable(
        &self,
        org: OrgId,
        id: RepositoryId,
    ) -> Result<(Repository, RepoAccess), Error> {
        let repo = repositories::find(self.pool, org, id)
            .await?
            .filter(|r| r.removed_at.is_none())
            .ok_or(Error::NotFound)?;
        let access = RepoAccess::require(&repo)?;
        Ok((repo, access))
    }

    /// `GET path` as JSON through the ETag cache; `None` when GitHub has nothing there (404).
    async fn cached_json<T: DeserializeOwned>(
        &self,
        org: OrgId,
        access: RepoAccess,
        path: &str,
    ) -> Result<Option<T>, Error> {
        let key = format!("{}|{path}", access.cache_scope());
        let cached = github_cache::get(self.pool, org, &key).await?;
        let etag = cached.as_ref().map(|(tag, _)| tag.clone());
        let answer = self
            .with_access(access, |token| {
                let etag = etag.clone();
                async move {
                    match self
                        .client
                        .get_conditional(
                            path,
                            &Auth::Bearer(&token),
                            etag.as_deref(),
                            ANSWER_MAX_BYTES,
                        )
                        .await
                    {
                        Ok(c) => Ok(Some(c)),
                        Err(GithubError::NotFound) => Ok(None),
                        Err(e) => Err(e),
                    }
                }
            })
            .await?;
        let body = match (answer, cached) {
            (None, _) => return Ok(None),
            (Some(Conditional::NotModified), Some((_, body))) => {
                // Revalidated: kept from pruning for another while.
                github_cache::touch(self.pool, org, &key).await?;
                body
            }
            (Some(Conditional::NotModified), None) => {
                return Err(upstream(GithubError::Decode(
                    "304 for a request that was not conditional".into(),
                )));
            }
            (Some(Conditional::Fresh { etag, body }), _) => {
                if let Some(tag) = etag {
                    github_cache::put(self.pool, org, &key, &tag, &body).await?;
                }
                body
            }
        };
        serde_json::from_slice(&body)
            .map(Some)
            .map_err(|e| upstream(GithubError::Decode(e.to_string())))
    }

    /// The entries of a directory (`path` empty for the root) at `git_ref` (default branch).
    pub async fn list_dir(
        &self,
        org: OrgId,
        id: RepositoryId,
        path: &str,
        git_ref: Option<&str>,
    ) -> Result<Vec<Entry>, Error> {
        let (repo, access) = self.reachable(org, id).await?;
        let encoded = encoded_path(path)?;
        let url = contents_url(&repo.full_name, &encoded, git_ref)?;
        let value: serde_json::Value = self
            .cached_json(org, access, &url)
            .await?
            .ok_or(Error::NotFound)?;
        if !value.is_array() {
            return Err(Error::rejected(
                "not_a_directory",
                "The path is a file; read it at /files/{path}.",
            ));
        }
        serde_json::from_value(value).map_err(|e| upstream(GithubError::Decode(e.to_string())))
    }

    /// A file's content at `git_ref`, refused with `file_too_large` over `FILE_MAX_BYTES`.
    pub async fn file(
        &self,
        org: OrgId,
        id: RepositoryId,
        path: &str,
        git_ref: Option<&str>,
    ) -> Result<FileContent, Error> {
        let (repo, access) = self.reachable(org, id).await?;
        self.file_of(org, &repo, access, FileAt { path, git_ref })
            .await
    }

    async fn file_of(
        &self,
        org: OrgId,
        repo: &Repository,
        access: RepoAccess,
        file: FileAt<'_>,
    ) -> Result<FileContent, Error> {
        let FileAt { path, git_ref } = file;
        let encoded = encoded_path(path)?;
        if encoded.is_empty() {
            return Err(invalid("A file path is required."));
        }
        let url = contents_url(&repo.full_name, &encoded, git_ref)?;
        let value: serde_json::Value = self
            .cached_json(org, access, &url)
            .await?
            .ok_or(Error::NotFound)?;
        if value.is_array() {
            return Err(Error::rejected(
                "not_a_file",
                "The path is a directory; list it with /files?path=.",
            ));
        }
        let raw: RawFile = serde_json::from_value(value)
            .map_err(|e| upstream(GithubError::Decode(e.to_string())))?;
        if raw.kind != "file" {
            return Err(Error::rejected(
                "not_a_file",
                "The path is not a regular file.",
            ));
        }
        if raw.size > FILE_MAX_BYTES {
            return Err(Error::rejected(
                "file_too_large",
                format!(
                    "The file has {} bytes; at most {FILE_MAX_BYTES} are shown.",
                    raw.size
                ),
            ));
        }
        let content = match (raw.encoding.as_deref(), raw.content) {
            (Some("base64"), Some(text)) => {
                let compact: String = text.split_whitespace().collect();
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(compact)
                    .map_err(|e| upstream(GithubError::Decode(e.to_string())))?;
                String::from_utf8_lossy(&bytes).into_owned()
            }
            _ => {
                return Err(Error::rejected(
                    "file_too_large",
                    format!(
                        "GitHub did not inline the file; at most {FILE_MAX_BYTES} bytes are shown."
                    ),
                ));
            }
        };
        Ok(FileContent {
            path: raw.path,
            sha: raw.sha,
            size: raw.size,
            content,
            html_url: raw.html_url,
        })
    }

    /// The repository's workflows with their YAML (from the default branch); only `only` when
    /// given.
    pub async fn workflows(
        &self,
        org: OrgId,
        id: RepositoryId,
        only: Option<i64>,
    ) -> Result<Vec<Workflow>, Error> {
        let (repo, access) = self.reachable(org, id).await?;
        let url = format!("/repos/{}/actions/workflows?per_page=100", repo.full_name);
        let list: RawWorkflows = self
            .cached_json(org, access, &url)
            .await?
            .ok_or(Error::NotFound)?;
        let mut out = Vec::new();
        for w in list
            .workflows
            .into_iter()
            .filter(|w| only.is_none_or(|id| id == w.id))
            .take(WORKFLOWS_MAX)
        {
            let yaml = match self
                .file_of(org, &repo, access, FileAt::head(&w.path))
                .await
            {
                Ok(f) => Some(f.content),
                Err(Error::NotFound | Error::Rejected { .. }) => None,
                Err(e) => return Err(e),
            };
            out.push(Workflow {
                id: w.id,
                name: w.name,
                path: w.path,
                state: w.state,
                html_url: w.html_url,
                yaml,
            });
        }
        Ok(out)
    }

    /// A commit's changed files with their patches, within the diff caps.
    pub async fn commit_diff(
        &self,
        org: OrgId,
        id: RepositoryId,
        sha: &str,
    ) -> Result<CommitDiff, Error> {
        let (repo, access) = self.reachable(org, id).await?;
        let url = format!("/repos/{}/commits/{}", repo.full_name, valid_sha(sha)?);
        let raw: RawCommit = self
            .cached_json(org, access, &url)
            .await?
            .ok_or(Error::NotFound)?;
        let mut truncated = raw.files.len() > DIFF_MAX_FILES;
        let mut budget = DIFF_MAX_BYTES;
        let mut files = Vec::new();
        for mut f in raw.files.into_iter().take(DIFF_MAX_FILES) {
            if let Some(patch) = f.patch.as_mut() {
                let max = PATCH_MAX_BYTES.min(budget);
                f.patch_truncated = cut(patch, max);
                truncated |= f.patch_truncated;
                budget -= patch.len();
            }
            files.push(f);
        }
        Ok(CommitDiff {
            sha: raw.sha,
            message: raw.commit.message,
            html_url: raw.html_url,
            files,
            truncated,
        })
    }
}

/// `GET /repos/{full_name}/contents[/{path}][?ref=]`, the path already encoded.
fn contents_url(
    full_name: &str,
    encoded_path: &str,
    git_ref: Option<&str>,
) -> Result<String, Error> {
    let slash = if encoded_path.is_empty() { "" } else { "/" };
    Ok(format!(
        "/repos/{full_name}/contents{slash}{encoded_path}{}",
        encoded_ref(git_ref)?
    ))
}
