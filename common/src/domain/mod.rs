//! Parsed domain types: input is turned into these at the edge, so `common` never sees raw strings.

mod audit;
mod closed_set;
mod connection;
mod email;
mod ids;
mod integration;
mod invitation;
mod mail;
mod password;
mod role;
mod session;

pub use audit::AuditStatus;
pub use closed_set::NotInSet;
pub use connection::{ConnectionProvider, ConnectionPurpose, ConnectionStatus, StateFlow};
pub use email::Email;
pub use ids::{CheckId, ConnectionId, IntegrationId, InvitationId, OrgId, SessionId, UserId};
pub use integration::{CheckOutcome, CheckSource, HealthStatus, IntegrationKind, RecoveryAction};
pub use invitation::RevokeReason;
pub use mail::{EmailPurpose, MailDelivery};
pub use password::NewPassword;
pub use role::{Permission, Role};
pub use session::SessionEndReason;
