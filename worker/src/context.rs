//! What every job handler receives besides its payload.

use std::sync::Arc;

use common::{
    config::{MailConfig, WorkerConfig},
    jobs::JobId,
};
use sqlx::PgPool;

/// Per-run context: the database, the job's id (for exactly-once effects) and which run this is.
#[derive(Clone)]
pub struct JobContext {
    pub pool: PgPool,
    pub config: Arc<WorkerConfig>,
    pub mail: Arc<MailConfig>,
    pub github: Arc<common::github::Github>,
    pub slack: Arc<common::slack::Slack>,
    /// Connection tests and health checks of integrations.
    pub tester: Arc<common::integrations::Tester>,
    pub job_id: JobId,
    /// 1 for the first run, 2 for the first retry, and so on.
    pub attempt: u32,
}
