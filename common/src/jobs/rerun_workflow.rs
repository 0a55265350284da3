//! `rerun_workflow`: asks GitHub to re-run a workflow run (all jobs, or only the failed ones).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Job, Queue};
use crate::domain::OrgId;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RerunWorkflow {
    pub org_id: OrgId,
    pub workflow_run_id: Uuid,
    pub failed_only: bool,
}

impl Job for RerunWorkflow {
    const QUEUE: Queue = Queue::RERUN_WORKFLOW;
}
