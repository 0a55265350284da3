//! `refresh_integration_token`: trades an integration's refresh token for a new token pair
//! (Slack token rotation), enqueued by `refresh_due_tokens` before the token expires.

use std::time::Duration;

use crate::domain::IntegrationId;
use serde::{Deserialize, Serialize};

use super::{Job, Queue};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshIntegrationToken {
    pub integration_id: IntegrationId,
}

impl Job for RefreshIntegrationToken {
    /// Refreshes one integration's rotating token (Slack).
    const QUEUE: Queue = Queue {
        name: "refresh_integration_token",
        max_attempts: 6,
        timeout: Duration::from_secs(60),
        batch_size: 1,
        concurrency: None,
    };
}
