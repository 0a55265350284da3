//! All SQL lives here: one file per table group, free functions taking an executor.

pub mod audit_logs;
pub mod conflicts;
pub mod effect_attempts;
pub mod email_tokens;
pub mod incidents;
pub mod installation_tokens;
pub mod installations;
pub mod integrations;
pub mod invitations;
pub mod job_effects;
pub mod jobs;
pub mod locks;
pub mod login_attempts;
pub mod notifications;
pub mod oauth;
pub mod orgs;
pub mod paging;
pub mod probe;
pub mod repositories;
pub mod repository_hooks;
pub mod sealed;
pub mod sessions;
pub mod users;
pub mod webhook_deliveries;
pub mod workflow_runs;
