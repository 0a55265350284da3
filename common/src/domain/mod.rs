//! Parsed domain types: input is turned into these at the edge, so `common` never sees raw strings.

mod analytics;
mod ci;
mod closed_set;
mod email;
mod github;
mod ids;
mod incident;
mod job_state;
mod mail;
mod password;
mod role;

pub use analytics::Bucket;
pub use ci::{Conclusion, DeliveryStatus, Evaluation, RunStatus};
pub use closed_set::NotInSet;
pub use email::Email;
pub use github::InstallationAction;
pub use ids::{
    DeliveryId, IncidentEventId, IncidentId, InstallationId, NotificationId, OrgId, RepositoryId,
    SessionId, UserId, WorkflowRunId,
};
pub use incident::{
    EventKind, IncidentSource, IncidentStatus, NotificationKind, Severity, Transition,
};
pub use job_state::{Attempts, JobOutcome, JobStatus};
pub use mail::{EmailPurpose, MailDelivery};
pub use password::NewPassword;
pub use role::{Permission, Role};
