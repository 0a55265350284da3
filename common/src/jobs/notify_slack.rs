//! `notify_slack`: posts one incident timeline event to one Slack channel.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Job, Queue};
use crate::domain::OrgId;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NotifySlack {
    pub org_id: OrgId,
    /// The timeline event (`opened`, `occurrence`, `resolved`) the message is about.
    pub event_id: Uuid,
    pub channel: String,
}

impl Job for NotifySlack {
    const QUEUE: Queue = Queue::NOTIFY_SLACK;
}
