//! Parsed domain types: input is turned into these at the edge, so `common` never sees raw strings.

mod analytics;
mod closed_set;
mod email;
mod ids;
mod mail;
mod password;
mod role;

pub use email::Email;
pub use analytics::{Bucket, IncidentSource};
pub use closed_set::NotInSet;
pub use ids::{OrgId, SessionId, UserId};
pub use mail::{EmailPurpose, MailDelivery};
pub use password::NewPassword;
pub use role::{Permission, Role};
