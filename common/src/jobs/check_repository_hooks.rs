//! `check_repository_hooks`: the periodic health check of hooks on repositories reached only
//! through a user's OAuth connection (the App's repositories are checked with its installation's
//! integration health check).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Job, Queue};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CheckRepositoryHooks {}

impl Job for CheckRepositoryHooks {
    const QUEUE: Queue = Queue {
        name: "check_repository_hooks",
        max_attempts: 3,
        timeout: Duration::from_secs(300),
        batch_size: 1,
        concurrency: Some(1),
    };
}
