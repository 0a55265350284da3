//! `send_email`: delivers one outbox message (SMTP when configured, else the log).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Job, Queue};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendEmail {
    pub email_id: Uuid,
}

impl Job for SendEmail {
    const QUEUE: Queue = Queue {
        name: "send_email",
        max_attempts: 6,
        timeout: Duration::from_secs(60),
        batch_size: 1,
        concurrency: None,
    };
}
