//! Incidents, one machine for every source: CI failures (`evaluate`: completed workflow runs, with
//! their context fetched from GitHub) and deployments (`deployments`: Argo CD applications after a
//! sync). Each source decides open / group / auto-resolve under its own dedupe key and context;
//! people's actions (`actions`) and notifications (`notify`) are the same for all of them.

mod actions;
mod context;
mod deployments;
mod effect;
mod evaluate;
mod notify;

pub use actions::{Action, act, comment};
pub use context::gather as gather_context;
pub use deployments::{DeploymentOutcome, evaluate_deployments};
pub use evaluate::evaluate;
pub use notify::{message, post_to_slack};
