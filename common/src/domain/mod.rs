//! Parsed domain types: input is turned into these at the edge, so `common` never sees raw strings.

mod email;
mod ids;
mod password;
mod role;

pub use email::Email;
pub use ids::{OrgId, SessionId, UserId};
pub use password::NewPassword;
pub use role::{Permission, Role};
