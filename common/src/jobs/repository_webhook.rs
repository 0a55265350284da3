//! `repository_webhook`: install, remove or ping RepoPal's hook on one repository.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Job, Queue};
use crate::domain::{OrgId, RepositoryId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HookAction {
    Install,
    Remove,
    Ping,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RepositoryWebhook {
    pub org_id: OrgId,
    pub repository_id: RepositoryId,
    pub action: HookAction,
}

impl Job for RepositoryWebhook {
    const QUEUE: Queue = Queue {
        name: "repository_webhook",
        max_attempts: 6,
        timeout: Duration::from_secs(120),
        batch_size: 1,
        concurrency: Some(4),
    };
}
