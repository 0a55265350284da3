//! `sync_repositories`: refresh the repository list of one GitHub App installation;
//! `sync_connection_repositories`: the same from a user's OAuth connection into an organisation.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Job, Queue};
use crate::domain::{InstallationId, OrgId};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SyncRepositories {
    pub installation_id: InstallationId,
}

impl Job for SyncRepositories {
    /// Talks to GitHub for minutes at a time: one per fetch.
    const QUEUE: Queue = Queue {
        name: "sync_repositories",
        max_attempts: 6,
        timeout: Duration::from_secs(900),
        batch_size: 1,
        concurrency: Some(4),
    };
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SyncConnectionRepositories {
    pub org_id: OrgId,
    pub connection_id: crate::domain::ConnectionId,
}

impl Job for SyncConnectionRepositories {
    const QUEUE: Queue = Queue {
        name: "sync_connection_repositories",
        max_attempts: 6,
        timeout: Duration::from_secs(900),
        batch_size: 1,
        concurrency: Some(2),
    };
}
