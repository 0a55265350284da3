//! `refresh_integration_token`: trades an integration's refresh token for a new token pair
//! (Slack token rotation), enqueued by `refresh_due_tokens` before the token expires.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Job, Queue};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshIntegrationToken {
    pub integration_id: Uuid,
}

impl Job for RefreshIntegrationToken {
    const QUEUE: Queue = Queue::REFRESH_INTEGRATION_TOKEN;
}
