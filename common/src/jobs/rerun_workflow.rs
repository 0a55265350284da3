//! `rerun_workflow`: asks GitHub to re-run a workflow run (all jobs, or only the failed ones).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Job, Queue};
use crate::domain::{OrgId, WorkflowRunId};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RerunWorkflow {
    pub org_id: OrgId,
    pub workflow_run_id: WorkflowRunId,
    pub failed_only: bool,
}

impl Job for RerunWorkflow {
    const QUEUE: Queue = Queue {
        name: "rerun_workflow",
        max_attempts: 6,
        timeout: Duration::from_secs(60),
        batch_size: 1,
        concurrency: Some(2),
    };
}
