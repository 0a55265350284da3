//! `repository_webhook`: install, remove or ping RepoPal's hook on one repository.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Job, Queue};
use crate::domain::OrgId;

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
    pub repository_id: Uuid,
    pub action: HookAction,
}

impl Job for RepositoryWebhook {
    const QUEUE: Queue = Queue::REPOSITORY_WEBHOOK;
}
