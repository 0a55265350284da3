//! `sync_repositories`: refresh the repository list of one GitHub App installation;
//! `sync_connection_repositories`: the same from a user's OAuth connection into an organisation.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Job, Queue};
use crate::domain::OrgId;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SyncRepositories {
    pub installation_id: i64,
}

impl Job for SyncRepositories {
    const QUEUE: Queue = Queue::SYNC_REPOSITORIES;
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SyncConnectionRepositories {
    pub org_id: OrgId,
    pub connection_id: Uuid,
}

impl Job for SyncConnectionRepositories {
    const QUEUE: Queue = Queue::SYNC_CONNECTION_REPOSITORIES;
}
