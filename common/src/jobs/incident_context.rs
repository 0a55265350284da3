//! `incident_context`: fetches a failing run's jobs, failed steps and log tails onto its incident.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Job, Queue};
use crate::domain::OrgId;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IncidentContext {
    pub org_id: OrgId,
    pub incident_id: Uuid,
    pub workflow_run_id: Uuid,
}

impl Job for IncidentContext {
    const QUEUE: Queue = Queue::INCIDENT_CONTEXT;
}
