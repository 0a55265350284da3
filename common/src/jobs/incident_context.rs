//! `incident_context`: fetches a failing run's jobs, failed steps and log tails onto its incident.

use std::time::Duration;

use super::{Job, Queue};
use crate::domain::{IncidentId, OrgId, WorkflowRunId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IncidentContext {
    pub org_id: OrgId,
    pub incident_id: IncidentId,
    pub workflow_run_id: WorkflowRunId,
}

impl Job for IncidentContext {
    /// Calls GitHub for a run's jobs and logs.
    const QUEUE: Queue = Queue {
        name: "incident_context",
        max_attempts: 6,
        timeout: Duration::from_secs(120),
        batch_size: 1,
        concurrency: Some(4),
    };
}
