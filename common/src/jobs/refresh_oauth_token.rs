//! `refresh_oauth_token` and `refresh_due_tokens`: keep users' GitHub tokens fresh.

use std::time::Duration;

use crate::domain::ConnectionId;
use serde::{Deserialize, Serialize};

use super::{Job, Queue};

/// Refresh one connection's token (skipped when another refresh already made it fresh).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshOAuthToken {
    pub connection_id: ConnectionId,
    /// Refresh even if not close to expiry (on demand), unless refreshed in the last minute.
    #[serde(default)]
    pub force: bool,
}

impl Job for RefreshOAuthToken {
    const QUEUE: Queue = Queue {
        name: "refresh_oauth_token",
        max_attempts: 6,
        timeout: Duration::from_secs(60),
        batch_size: 1,
        concurrency: None,
    };
}

/// Periodic: enqueue a refresh for every connection expiring soon.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RefreshDueTokens {}

impl Job for RefreshDueTokens {
    const QUEUE: Queue = Queue {
        name: "refresh_due_tokens",
        max_attempts: 3,
        timeout: Duration::from_secs(120),
        batch_size: 1,
        concurrency: Some(1),
    };
}
