//! What triage answers: directory entries, file contents, a commit's changed files and its
//! workflows, as the API returns them.

use serde::{Deserialize, Serialize};

/// One directory entry.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Entry {
    pub name: String,
    pub path: String,
    /// `file`, `dir`, `symlink` or `submodule`.
    #[serde(rename = "type")]
    pub kind: String,
    pub size: u64,
}

/// A file's content (UTF-8; other bytes are replaced).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FileContent {
    pub path: String,
    pub sha: String,
    pub size: u64,
    pub content: String,
    pub html_url: Option<String>,
}

/// A changed file of a commit.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChangedFile {
    pub filename: String,
    pub status: String,
    #[serde(default)]
    pub additions: u64,
    #[serde(default)]
    pub deletions: u64,
    /// Absent for binary files; cut at `PATCH_MAX_BYTES` (see `patch_truncated`).
    pub patch: Option<String>,
    #[serde(default)]
    pub patch_truncated: bool,
}

/// A commit's changes.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CommitDiff {
    pub sha: String,
    pub message: String,
    pub html_url: Option<String>,
    pub files: Vec<ChangedFile>,
    /// Files or patches were left out or cut to stay within the caps.
    pub truncated: bool,
}

/// A workflow with its YAML.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Workflow {
    pub id: i64,
    pub name: String,
    pub path: String,
    pub state: String,
    pub html_url: Option<String>,
    /// The workflow file; null when it is missing or over `FILE_MAX_BYTES`.
    pub yaml: Option<String>,
}
