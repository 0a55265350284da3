//! `notify_integration_health`: posts one health alert (an integration entered `error`, or came
//! back to `active`) to the organisation's Slack alert channel.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Job, Queue};
use crate::domain::OrgId;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NotifyIntegrationHealth {
    pub org_id: OrgId,
    /// The check whose transition is announced.
    pub check_id: Uuid,
}

impl Job for NotifyIntegrationHealth {
    const QUEUE: Queue = Queue::NOTIFY_INTEGRATION_HEALTH;
}
