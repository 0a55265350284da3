//! `send_email`: delivers one outbox message (SMTP when configured, else the log).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Job, Queue};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendEmail {
    pub email_id: Uuid,
}

impl Job for SendEmail {
    const QUEUE: Queue = Queue::SEND_EMAIL;
}
