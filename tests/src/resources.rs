//! The API's resources as tests read them: an integration, a connection test's report,
//! an entry of an integration's log, a repository and its monitoring status, a started job and a
//! job's state.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

/// An integration (`GET …/integrations/{id}`); credentials are only masked hints.
#[derive(Debug, Clone, Deserialize)]
pub struct Integration {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub config: Value,
    pub credentials: Value,
    pub enabled: bool,
    pub status: String,
    pub next_check_at: Option<DateTime<Utc>>,
    pub token_expires_at: Option<DateTime<Utc>>,
}

/// A connection test's report (`POST …/integrations/{id}/test`).
#[derive(Debug, Clone, Deserialize)]
pub struct ConnectionTest {
    pub ok: bool,
    /// `ok` or `failed`.
    pub status: String,
    pub latency_ms: i64,
    /// Requests sent, retries included.
    pub attempts: i64,
    pub error: Option<String>,
    pub details: Value,
}

impl ConnectionTest {
    /// The error, or "" when there is none.
    pub fn error_text(&self) -> &str {
        self.error.as_deref().unwrap_or_default()
    }
}

/// An entry of an integration's log (`GET …/integrations/{id}/logs`).
#[derive(Debug, Clone, Deserialize)]
pub struct LogEntry {
    pub action: String,
    /// `success` or `failure`.
    pub status: String,
    pub metadata: Value,
}

/// A repository (`GET …/repositories/{id}`).
#[derive(Debug, Clone, Deserialize)]
pub struct Repository {
    pub id: Uuid,
    pub full_name: String,
    pub default_branch: Option<String>,
    pub monitoring_enabled: bool,
    /// Monitoring is on and the hook is active.
    pub monitored: bool,
    pub hook: Hook,
    /// `installation` or `connection`.
    pub access: Option<String>,
    pub slack_channels: Value,
}

/// A repository's monitoring status (`GET …/repositories/{id}/status`).
#[derive(Debug, Clone, Deserialize)]
pub struct RepositoryStatus {
    pub monitoring_enabled: bool,
    pub monitored: bool,
    pub hook: Hook,
    pub hook_id: Option<i64>,
}

/// The state of a repository's hook.
#[derive(Debug, Clone, Deserialize)]
pub struct Hook {
    /// `none`, `pending`, `active` or `failed`.
    pub state: String,
    pub error_code: Option<String>,
}

/// A job the API started (`{job_id}`, 202).
#[derive(Debug, Clone, Deserialize)]
pub struct JobStarted {
    pub job_id: String,
}

/// A job as `GET …/jobs/{id}` shows it.
#[derive(Debug, Clone, Deserialize)]
pub struct Job {
    /// `pending`, `running`, `retrying`, `succeeded` or `dead`.
    pub state: String,
    pub error_code: Option<String>,
}
