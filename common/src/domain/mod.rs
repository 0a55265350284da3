//! Parsed domain types: input is turned into these at the edge, so `common` never sees raw strings.

mod analytics;
mod argocd;
mod audit;
mod ci;
mod closed_set;
mod connection;
mod email;
mod github;
mod ids;
mod incident;
mod integration;
mod invitation;
mod job_state;
mod mail;
mod password;
mod role;
mod session;
mod upstream;

pub use analytics::Bucket;
pub use argocd::{AppHealth, AppSync};
pub use audit::{AuditAction, AuditResource, AuditStatus};
pub use ci::{Conclusion, DeliveryStatus, Evaluation, RunStatus};
pub use closed_set::NotInSet;
pub use connection::{ConnectionProvider, ConnectionPurpose, ConnectionStatus, StateFlow};
pub use email::Email;
pub use github::InstallationAction;
pub use ids::{
    ApplicationId, CheckId, ConnectionId, DeliveryId, IncidentEventId, IncidentId, InstallationId,
    IntegrationId, InvitationId, NotificationId, OrgId, RepositoryId, SessionId, UserId,
    WorkflowRunId,
};
pub use incident::{
    EventKind, IncidentSource, IncidentStatus, NotificationKind, Severity, Transition,
};
pub use integration::{CheckOutcome, CheckSource, HealthStatus, IntegrationKind, RecoveryAction};
pub use invitation::RevokeReason;
pub use job_state::{Attempts, JobOutcome, JobStatus};
pub use mail::{EmailPurpose, MailDelivery};
pub use password::NewPassword;
pub use role::{Permission, Role};
pub use session::{LoginMethod, SessionEndReason};
pub use upstream::Upstream;
