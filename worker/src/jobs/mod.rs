//! One file per job handler.

pub mod check_integration;
pub mod incident_context;
pub mod noop;
pub mod notify_integration_health;
pub mod notify_slack;
pub mod probe;
pub mod process_webhook;
pub mod prune;
pub mod refresh_integration_token;
pub mod refresh_oauth_token;
pub mod repository_webhook;
pub mod rerun_workflow;
pub mod send_email;
pub mod sync_repositories;
