//! `notify_slack`: posts one incident timeline event to one Slack channel.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Job, Queue};
use crate::domain::{IncidentEventId, OrgId};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NotifySlack {
    pub org_id: OrgId,
    /// The timeline event (`opened`, `occurrence`, `resolved`) the message is about.
    pub event_id: IncidentEventId,
    pub channel: String,
}

impl Job for NotifySlack {
    /// One Slack message per job; a failed post is retried with backoff on its own.
    const QUEUE: Queue = Queue {
        name: "notify_slack",
        max_attempts: 8,
        timeout: Duration::from_secs(30),
        batch_size: 1,
        concurrency: Some(8),
    };
}
