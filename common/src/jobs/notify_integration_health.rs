//! `notify_integration_health`: posts one health alert (an integration entered `error`, or came
//! back to `active`) to the organisation's Slack alert channel.

use std::time::Duration;

use crate::domain::CheckId;
use serde::{Deserialize, Serialize};

use super::{Job, Queue};
use crate::domain::OrgId;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NotifyIntegrationHealth {
    pub org_id: OrgId,
    /// The check whose transition is announced.
    pub check_id: CheckId,
}

impl Job for NotifyIntegrationHealth {
    /// Posts one integration health alert to the Slack alert channel.
    const QUEUE: Queue = Queue {
        name: "notify_integration_health",
        max_attempts: 8,
        timeout: Duration::from_secs(30),
        batch_size: 1,
        concurrency: Some(4),
    };
}
