//! `sync_repositories`: refresh the repository list of one GitHub App installation.

use serde::{Deserialize, Serialize};

use super::{Job, Queue};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SyncRepositories {
    pub installation_id: i64,
}

impl Job for SyncRepositories {
    const QUEUE: Queue = Queue::SYNC_REPOSITORIES;
}
