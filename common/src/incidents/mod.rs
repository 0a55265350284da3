//! Incidents from CI failures: evaluating completed workflow runs (open, group, auto-resolve, ignore
//! stale results), people's actions on incidents, and the notifications both produce.

mod actions;
mod context;
mod evaluate;
mod notify;

pub use actions::{Action, act, comment};
pub use context::gather as gather_context;
pub use evaluate::evaluate;
pub use notify::{message, post_to_slack};
