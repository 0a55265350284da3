//! What every job handler receives besides its payload.

use std::sync::Arc;

use common::{config::WorkerConfig, jobs::JobId, services::Services};

/// Per-run context: the boot-time services (the same `Services` the API state holds), the
/// worker's settings, the job's id (for exactly-once effects) and which run this is.
#[derive(Clone)]
pub struct JobContext {
    /// The pool, keyring, GitHub, Slack, the integration tester and the settings they came from.
    pub services: Arc<Services>,
    pub config: Arc<WorkerConfig>,
    pub job_id: JobId,
    /// 1 for the first run, 2 for the first retry, and so on.
    pub attempt: u32,
}
